#!/usr/bin/python3
"""The Python example subscriber survives SIGKILL without missing or
repeating an event: start plantraild, write events while the subscriber is
killed and restarted twice, then check that its table holds every position
exactly once and its checkpoint is the head."""
import argparse
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

EVENTS = 300


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plantraild", required=True)
    parser.add_argument("--proto-dir", required=True)
    parser.add_argument("--subscriber", required=True)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="plantrail-python-subscriber-")
    stubs = os.path.join(work, "stubs")
    os.makedirs(stubs)
    plugin = subprocess.run(["sh", "-c", "command -v grpc_python_plugin"],
                            capture_output=True, text=True, check=True).stdout.strip()
    protos = [os.path.join(args.proto_dir, "plantrail/v1", name)
              for name in sorted(os.listdir(os.path.join(args.proto_dir, "plantrail/v1")))
              if name.endswith(".proto")]
    subprocess.run(["protoc", f"-I{args.proto_dir}", f"--python_out={stubs}",
                    f"--grpc_out={stubs}", f"--plugin=protoc-gen-grpc={plugin}"] + protos,
                   check=True)
    sys.path.insert(0, stubs)
    import grpc
    from plantrail.v1 import event_store_pb2 as es
    from plantrail.v1 import event_store_pb2_grpc as es_grpc

    server = subprocess.Popen([args.plantraild, "--data-dir", os.path.join(work, "data"),
                               "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    match = re.search(r"listening on (127\.0\.0\.1:\d+)", line)
    if not match:
        print(f"FAIL: plantraild did not start: {line!r}")
        return 1
    address = match.group(1)
    store = es_grpc.EventStoreStub(grpc.insecure_channel(address))
    token_file = os.path.join(work, "data", "admin.token")
    with open(token_file, encoding="utf-8") as f:
        auth = [("authorization", f"Bearer {f.read().strip()}")]
    # The server's own first events (the admin token's grant) come first.
    base = store.ReadAll(es.ReadAllRequest(from_position=1, limit=1),
                         metadata=auth).head_position
    last = base + EVENTS

    def write():
        for i in range(EVENTS):
            store.Append(es.AppendRequest(
                stream_id=f"ledger-{i % 3}",
                events=[es.ProposedEvent(type="Noted", payload=f"{i}".encode())]),
                metadata=auth)
            time.sleep(0.002)

    writer = threading.Thread(target=write)
    writer.start()
    db_path = os.path.join(work, "events.sqlite")
    command = ["/usr/bin/python3", args.subscriber, "--server", address,
               "--db", db_path, "--stubs", stubs, "--token-file", token_file]

    def stored():
        try:
            db = sqlite3.connect(db_path)
            count = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
            db.close()
            return count
        except sqlite3.Error:
            return 0

    failures = []
    # Kill it twice while events keep coming, each time after it made progress.
    for round_, at_least in enumerate((40, 140)):
        subscriber = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.time() + 60
        while stored() < at_least and time.time() < deadline:
            time.sleep(0.01)
        subscriber.send_signal(signal.SIGKILL)
        subscriber.wait()
        print(f"round {round_}: killed with {stored()} events stored", flush=True)
    writer.join()
    final = subprocess.run(command + ["--stop-at", str(last)], timeout=120,
                           stdout=subprocess.DEVNULL)
    if final.returncode != 0:
        failures.append(f"the last subscriber run exited {final.returncode}")

    db = sqlite3.connect(db_path)
    positions = [row[0] for row in db.execute("SELECT position FROM events ORDER BY position")]
    payloads = {row[0]: row[1] for row in db.execute("SELECT position, payload FROM events")}
    checkpoint = db.execute("SELECT position FROM checkpoint").fetchone()[0]
    if positions != list(range(1, last + 1)):
        missing = sorted(set(range(1, last + 1)) - set(positions))
        failures.append(f"positions are not exactly 1..{last}: {len(positions)} stored, "
                        f"missing {missing[:10]}")
    if checkpoint != last:
        failures.append(f"checkpoint {checkpoint}, not {last}")
    if payloads.get(base + 1) != b"0" or payloads.get(last) != f"{EVENTS - 1}".encode():
        failures.append("payloads are not what was written")

    server.send_signal(signal.SIGTERM)
    if server.wait(timeout=60) != 0:
        failures.append(f"plantraild exited {server.returncode}")
    db.close()
    shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print(f"FAIL: {failure}")
    print(f"{0 if failures else 1} passed, {len(failures) and 1} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
