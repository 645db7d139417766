#!/usr/bin/python3
"""Webhooks for real: plantraild delivers to a Python receiver on loopback
that checks every request with the Standard Webhooks algorithm (the example
receiver's verify(), clients/examples/python/webhook_receiver.py).

  1. Three endpoints with different filters (plan kth; kth's support area
     3.1 and status reports only; status reports of kth and pitea) each get
     exactly their events of 5,000 plan changes, in log order, every id at
     least once, duplicates only around induced failures.
  2. Meanwhile the receiver answers 500s (with Retry-After), hangs past the
     server's timeout, and is down for a while; plantraild is SIGKILLed
     twice while delivering. Afterwards every event is there, in order.
  3. A secret rotation: during the overlap every request carries two
     signatures (the new secret's and the previous one's); after it, only
     the new one's.
  4. URLs to private, link-local or (on a server that does not allow it)
     loopback addresses are refused with their rule; a redirect is not
     followed (the endpoint fails, the target gets nothing)."""
import argparse
import http.server
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

CHANGES = 5000
KTH = "kth"
PITEA = "pitea-2017"
SUPPORT_AREA = "3.1 Utbildningsadministrativt stöd"

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print(f"FAIL: {message}", flush=True)
    return condition


class Receiver(http.server.ThreadingHTTPServer):
    """Records every request per path; how it answers is set per path."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, verify):
        super().__init__(("127.0.0.1", port), Handler)
        self.verify = verify
        self.lock = threading.Lock()
        self.secrets = {}        # path -> [secret, ...]
        self.got = {}            # path -> [(position, id, event)]
        self.signatures = {}     # path -> [number of v1 entries]
        self.bad = []            # signature failures
        self.fail_next = {}      # path -> how many 500s to answer
        self.hang_next = {}      # path -> how many requests to store, then hang
        self.hang_seconds = 3

    def answer(self, path, headers, body):
        with self.lock:
            secrets = self.secrets.get(path, [])
        problem = self.verify(secrets, headers, body)
        if problem:
            with self.lock:
                self.bad.append((path, problem))
            return 401, {}
        event = json.loads(body)
        with self.lock:
            if self.fail_next.get(path, 0) > 0:
                self.fail_next[path] -= 1
                return 500, {"Retry-After": "0"}
            self.got.setdefault(path, []).append(
                (int(event["plantrailposition"]), event["id"], event))
            self.signatures.setdefault(path, []).append(
                len(headers["webhook-signature"].split(" ")))
            hang = self.hang_next.get(path, 0) > 0
            if hang:
                self.hang_next[path] -= 1
        if hang:
            # Stored, but the answer comes after the server gave up: it
            # sends the event again (a duplicate the receiver drops by id).
            time.sleep(self.hang_seconds)
        return 204, {}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/redirected-here")
            self.end_headers()
            return
        if self.path == "/redirected-here":
            with self.server.lock:
                self.server.got.setdefault(self.path, []).append((0, "", {}))
        code, extra = self.server.answer(self.path, headers, body)
        try:
            self.send_response(code)
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plantraild", required=True)
    parser.add_argument("--plantrail", required=True)
    parser.add_argument("--proto-dir", required=True)
    parser.add_argument("--receiver", required=True)
    parser.add_argument("--examples", required=True)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="plantrail-webhooks-")
    stubs = os.path.join(work, "stubs")
    os.makedirs(stubs)
    plugin = subprocess.run(["sh", "-c", "command -v grpc_python_plugin"],
                            capture_output=True, text=True, check=True).stdout.strip()
    v1 = os.path.join(args.proto_dir, "plantrail/v1")
    protos = [os.path.join(v1, n) for n in sorted(os.listdir(v1)) if n.endswith(".proto")]
    subprocess.run(["protoc", f"-I{args.proto_dir}", f"--python_out={stubs}",
                    f"--grpc_out={stubs}", f"--plugin=protoc-gen-grpc={plugin}"] + protos,
                   check=True)
    sys.path.insert(0, stubs)
    sys.path.insert(0, os.path.dirname(args.receiver))
    import grpc
    import webhook_receiver
    from plantrail.v1 import admin_pb2, admin_pb2_grpc
    from plantrail.v1 import event_store_pb2 as es, event_store_pb2_grpc as es_grpc
    from plantrail.v1 import plan_commands_pb2 as pc, plan_commands_pb2_grpc as pc_grpc
    from plantrail.v1 import plan_pb2
    from plantrail.v1 import webhooks_pb2 as wh

    data = os.path.join(work, "data")
    log = open(os.path.join(work, "plantraild.log"), "w")
    state = {}

    def start(extra=()):
        server = subprocess.Popen(
            [args.plantraild, "--data-dir", data, "--listen", "127.0.0.1:0",
             "--webhook-allow-loopback", "--webhook-first-retry", "0.05",
             "--webhook-longest-retry", "0.5", "--webhook-timeout", "1",
             "--webhook-failing-after", "1", *extra],
            stdout=subprocess.PIPE, stderr=log, text=True)
        match = re.search(r"listening on (127\.0\.0\.1:\d+)", server.stdout.readline())
        if not match:
            raise RuntimeError("plantraild did not start")
        channel = grpc.insecure_channel(match.group(1))
        state.update(server=server, address=match.group(1),
                     admin=admin_pb2_grpc.AdminStub(channel),
                     store=es_grpc.EventStoreStub(channel),
                     commands=pc_grpc.PlanCommandsStub(channel))
        return server

    start()
    with open(os.path.join(data, "admin.token"), encoding="utf-8") as f:
        token = f.read().strip()
    auth = [("authorization", f"Bearer {token}")]
    env = dict(os.environ, HOME=work, PLANTRAIL_TOKEN=token)

    def cli(*argv, ok=True):
        env["PLANTRAIL_SERVER"] = state["address"]
        done = subprocess.run([args.plantrail, *argv], env=env, capture_output=True,
                              text=True, timeout=120)
        if ok and done.returncode != 0:
            raise RuntimeError(f"plantrail {' '.join(argv)}: {done.stderr}")
        return done

    cli("import", os.path.join(args.examples, "kth-action-plan.json"), "--plan", KTH)
    cli("import", os.path.join(args.examples, "pitea-school-leadership.csv"), "--plan", PITEA)
    listing = json.loads(cli("area", "list", "--plan", KTH, "--json").stdout)
    kth_areas = [a["area_id"] for a in listing["areas"]]
    listing = json.loads(cli("area", "list", "--plan", PITEA, "--json").stdout)
    pitea_areas = [a["area_id"] for a in listing["areas"]]

    receiver = Receiver(0, webhook_receiver.verify)
    port = receiver.server_address[1]
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"

    def add(path, plans, support_areas=(), types=()):
        request = wh.AddWebhookRequest(url=base + path, plans=plans,
                                       support_areas=support_areas, event_types=types,
                                       description=f"e2e {path}")
        response = state["admin"].AddWebhook(request, metadata=auth)
        receiver.secrets[path] = [response.secret]
        return response.endpoint

    a = add("/a", [KTH])
    b = add("/b", [KTH], [SUPPORT_AREA], ["StatusReported"])
    c = add("/c", [KTH, PITEA], types=["StatusReported"])
    began = time.time()

    def progress(what):
        print(f"{time.time() - began:6.1f} s  {what}", flush=True)

    # --- 4. Refused addresses and a redirect not followed.
    for url, code in [("https://10.1.2.3/hook", grpc.StatusCode.PERMISSION_DENIED),
                      ("https://169.254.169.254/latest", grpc.StatusCode.PERMISSION_DENIED),
                      ("https://[fe80::1]/hook", grpc.StatusCode.PERMISSION_DENIED),
                      ("http://10.1.2.3/hook", grpc.StatusCode.INVALID_ARGUMENT)]:
        try:
            state["admin"].AddWebhook(wh.AddWebhookRequest(url=url, plans=[KTH]), metadata=auth)
            check(False, f"{url} was accepted")
        except grpc.RpcError as error:
            check(error.code() == code and "[rule: webhook-" in error.details(),
                  f"{url}: {error.code()} {error.details()}")
    redirect = add("/redirect", [KTH])

    # --- 1 and 2: 5,000 changes while things go wrong.
    rng = random.Random(7)
    areas = [(KTH, x) for x in kth_areas] + [(PITEA, x) for x in pitea_areas]
    counter = iter(range(CHANGES))
    counter_lock = threading.Lock()
    phases = [plan_pb2.PHASE_IN_PROGRESS, plan_pb2.PHASE_PLANNED, plan_pb2.PHASE_PAUSED]
    healths = [plan_pb2.HEALTH_ON_TRACK, plan_pb2.HEALTH_AT_RISK, plan_pb2.HEALTH_OFF_TRACK]

    def writer(limit):
        while True:
            with counter_lock:
                n = next(counter, None)
                if n is None or n >= limit:
                    return
                plan, area = rng.choice(areas)
            request = pc.ReportStatusRequest(
                plan_id=plan, area_id=area, phase=phases[n % 3], health=healths[n % 3],
                narrative=f"change {n}")
            for _ in range(100):
                try:
                    state["commands"].ReportStatus(request, metadata=auth, timeout=10)
                    break
                except grpc.RpcError as error:
                    if error.code() not in (grpc.StatusCode.UNAVAILABLE,
                                            grpc.StatusCode.DEADLINE_EXCEEDED,
                                            grpc.StatusCode.ABORTED):
                        raise
                    time.sleep(0.1)  # plantraild is being restarted

    def write(limit):
        threads = [threading.Thread(target=writer, args=(limit,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def kill_while_delivering(limit):
        # SIGKILL while changes are written and /a is getting them: some
        # delivered, some not, requests under way.
        writing = threading.Thread(target=write, args=(limit,))
        writing.start()
        before = len(receiver.got.get("/a", []))
        deadline = time.time() + 60
        while len(receiver.got.get("/a", [])) < before + 200 and time.time() < deadline:
            time.sleep(0.01)
        check(time.time() < deadline, "/a got nothing to kill plantraild during")
        state["server"].send_signal(signal.SIGKILL)
        state["server"].wait()
        start()
        writing.join()

    receiver.fail_next["/a"] = 40
    receiver.hang_next["/a"] = 2
    receiver.fail_next["/c"] = 10
    kill_while_delivering(2000)
    progress("killed once")
    kill_while_delivering(3500)
    progress("killed twice")
    # The receiver is down for two seconds: connections refused.
    receiver.shutdown()
    receiver.socket.close()
    writing = threading.Thread(target=write, args=(4200,))
    writing.start()
    time.sleep(2)
    receiver2 = Receiver(port, webhook_receiver.verify)
    for name in ("secrets", "got", "signatures", "bad", "fail_next", "hang_next"):
        setattr(receiver2, name, getattr(receiver, name))
    receiver2.lock = receiver.lock
    receiver = receiver2
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    writing.join()
    write(CHANGES)
    progress(f"{CHANGES} changes written")

    # Everything the log holds, and what each endpoint should get.
    events = []
    position = 1
    while True:
        page = state["store"].ReadAll(es.ReadAllRequest(from_position=position, limit=1000),
                                      metadata=auth)
        events.extend(page.events)
        if not page.events:
            break
        position = page.events[-1].position + 1
    head = events[-1].position

    def plan_of(stream):
        kind, _, rest = stream.partition("-")
        if kind == "plan":
            return rest
        return rest.split(":")[0] if ":" in rest else None

    expected = {
        "/a": [e.position for e in events if e.position > a.delivered_position
               and plan_of(e.stream_id) == KTH],
        "/b": [e.position for e in events if e.position > b.delivered_position
               and e.type == "StatusReported"
               and e.stream_id.startswith(f"area-{KTH}:3.1.")],
        "/c": [e.position for e in events if e.position > c.delivered_position
               and e.type == "StatusReported" and plan_of(e.stream_id) in (KTH, PITEA)],
    }
    check(len(expected["/a"]) >= CHANGES // 2, f"/a expects {len(expected['/a'])} events")

    deadline = time.time() + 180
    while time.time() < deadline:
        with receiver.lock:
            done = all(len({p for p, _, _ in receiver.got.get(path, [])}) >= len(want)
                       for path, want in expected.items())
        if done:
            break
        time.sleep(0.2)
    progress("delivered")
    ids = {e.position: e.event_id for e in events}
    for path, want in expected.items():
        got = receiver.got.get(path, [])
        firsts = []
        seen = set()
        for p, event_id, _ in got:
            check(ids.get(p) == event_id, f"{path}: position {p} came with id {event_id}")
            if p not in seen:
                seen.add(p)
                firsts.append(p)
        check(firsts == want, f"{path}: got {len(firsts)} events ({firsts[:5]}...), "
              f"expected {len(want)} ({want[:5]}...); first difference at "
              f"{next((i for i, (x, y) in enumerate(zip(firsts, want)) if x != y), None)}")
        duplicates = len(got) - len(firsts)
        induced = 2 + (2 if path == "/a" else 0)  # two kills; two hangs on /a
        check(duplicates <= induced,
              f"{path}: {duplicates} duplicates, at most {induced} induced failures")
        # In log order: a position below the highest sent so far is only
        # ever one sent before (a redelivery), never a new one.
        high = 0
        sent = set()
        for p, _, _ in got:
            check(p >= high or p in sent, f"{path}: new position {p} after {high}")
            high = max(high, p)
            sent.add(p)
        print(f"{path}: {len(firsts)} events in order, {duplicates} duplicates", flush=True)
    check(not receiver.bad, f"signatures that did not verify: {receiver.bad[:3]}")
    check("/redirected-here" not in receiver.got, "a redirect was followed")
    shown = state["admin"].GetWebhook(wh.GetWebhookRequest(endpoint_id=redirect.endpoint_id),
                                      metadata=auth)
    check(shown.state == wh.WEBHOOK_FAILING and "redirects are not followed" in shown.last_error,
          f"redirect endpoint: {wh.WebhookState.Name(shown.state)} {shown.last_error!r}")
    for endpoint in (a, b, c):
        shown = state["admin"].GetWebhook(
            wh.GetWebhookRequest(endpoint_id=endpoint.endpoint_id), metadata=auth)
        check(shown.state == wh.WEBHOOK_ACTIVE and shown.delivered_position >= expected_last(
            expected, endpoint, a, b, c), f"{endpoint.url}: {shown}")

    # --- 3. A secret rotation with a short overlap.
    old = receiver.secrets["/c"][0]
    rotated = state["admin"].RotateWebhookSecret(
        wh.RotateWebhookSecretRequest(endpoint_id=c.endpoint_id, overlap_seconds=3),
        metadata=auth)
    new = rotated.secret
    check(new != old and new.startswith("whsec_"), "a new secret")
    receiver.secrets["/c"] = [old]  # the receiver has not switched yet
    mark = len(receiver.got["/c"])
    counter = iter(range(20))
    write(20)
    wait_for(receiver, "/c", mark + 20)
    during = receiver.got["/c"][mark:]
    check(all(n == 2 for n in receiver.signatures["/c"][mark:]),
          f"two signatures during the overlap: {receiver.signatures['/c'][mark:]}")
    check(len(during) >= 20, f"deliveries during the overlap: {len(during)}")
    time.sleep(3.5)
    receiver.secrets["/c"] = [new]
    mark = len(receiver.got["/c"])
    counter = iter(range(20))
    write(20)
    wait_for(receiver, "/c", mark + 20)
    check(all(n == 1 for n in receiver.signatures["/c"][mark:]),
          f"one signature after the overlap: {receiver.signatures['/c'][mark:]}")
    check(not receiver.bad, f"signatures that did not verify after the rotation: {receiver.bad[:3]}")
    # The old secret alone no longer verifies what comes now.
    receiver.secrets["/c"] = [old]
    mark_bad = len(receiver.bad)
    counter = iter(range(1))
    write(1)
    time.sleep(1)
    check(len(receiver.bad) > mark_bad, "a request after the overlap verified with the old secret")
    receiver.secrets["/c"] = [new]

    # --- The CLI does what the API does: pause, resume, replay, remove.
    a_id = a.endpoint_id
    out = cli("webhook", "pause", a_id, "--reason", "receiver moves").stdout
    check("paused" in out, f"webhook pause: {out!r}")
    mark = len(receiver.got["/a"])
    counter = iter(range(10))
    write(10)
    time.sleep(1)
    check(len(receiver.got["/a"]) == mark, "a paused endpoint got events")
    shown = json.loads(cli("webhook", "show", a_id, "--json").stdout)
    check(shown["state"] == "WEBHOOK_PAUSED" and shown["paused_by"] == "admin"
          and shown["lag_events"] != "0", f"webhook show --json: {shown}")
    cli("webhook", "resume", a_id)

    def caught_up(endpoint_id):
        deadline = time.time() + 30
        while time.time() < deadline:
            shown = state["admin"].GetWebhook(wh.GetWebhookRequest(endpoint_id=endpoint_id),
                                              metadata=auth)
            if shown.lag_events == 0:
                return True
            time.sleep(0.05)
        return False

    check(caught_up(a_id), "a resumed endpoint did not catch up")
    resumed = [p for p, _, _ in receiver.got["/a"][mark:]]
    check(resumed and resumed == sorted(resumed), f"after resume: {resumed}")
    mark = len(receiver.got["/a"])
    cli("webhook", "replay", a_id, "--from", str(resumed[0] if resumed else 1))
    wait_for(receiver, "/a", mark + len(resumed))
    check(caught_up(a_id), "a replayed endpoint did not catch up")
    again = [p for p, _, _ in receiver.got["/a"][mark:]]
    check(again == resumed, f"replayed {again}, expected {resumed}")
    cli("webhook", "remove", a_id, "--reason", "done")
    listed = json.loads(cli("webhook", "list", "--json").stdout)
    check(a_id not in [e["endpoint_id"] for e in listed.get("endpoints", [])],
          "a removed endpoint is listed")
    listed = json.loads(cli("webhook", "list", "--all", "--json").stdout)
    check([e["state"] for e in listed["endpoints"] if e["endpoint_id"] == a_id]
          == ["WEBHOOK_REMOVED"], "webhook list --all does not show the removed one")
    done = cli("webhook", "pause", a_id, "--reason", "again", ok=False)
    check(done.returncode != 0 and "webhook-removed-is-final" in done.stderr,
          f"pausing a removed endpoint: {done.stderr!r}")

    # --- 4 again: loopback refused on a server that does not allow it.
    state["server"].send_signal(signal.SIGTERM)
    state["server"].wait()
    server = subprocess.Popen([args.plantraild, "--data-dir", data, "--listen", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=log, text=True)
    match = re.search(r"listening on (127\.0\.0\.1:\d+)", server.stdout.readline())
    strict = admin_pb2_grpc.AdminStub(grpc.insecure_channel(match.group(1)))
    for url in (base + "/x", f"http://localhost:{port}/x", f"https://127.0.0.1:{port}/x"):
        try:
            strict.AddWebhook(wh.AddWebhookRequest(url=url, plans=[KTH]), metadata=auth)
            check(False, f"{url} accepted without --webhook-allow-loopback")
        except grpc.RpcError as error:
            check(error.code() in (grpc.StatusCode.PERMISSION_DENIED,
                                   grpc.StatusCode.INVALID_ARGUMENT)
                  and "[rule: webhook-" in error.details(), f"{url}: {error.details()}")
    server.send_signal(signal.SIGTERM)
    server.wait()
    log.close()
    with open(os.path.join(work, "plantraild.log"), encoding="utf-8") as f:
        text = f.read()
    check("whsec_" not in text, "a signing secret reached plantraild's log")
    if failures:
        print(f"{len(failures)} failures; plantraild's log: {work}/plantraild.log")
        return 1
    print("OK")
    return 0


def expected_last(expected, endpoint, a, b, c):
    path = {a.endpoint_id: "/a", b.endpoint_id: "/b", c.endpoint_id: "/c"}[endpoint.endpoint_id]
    return expected[path][-1] if expected[path] else 0


def wait_for(receiver, path, count, seconds=30):
    deadline = time.time() + seconds
    while len(receiver.got.get(path, [])) < count and time.time() < deadline:
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
