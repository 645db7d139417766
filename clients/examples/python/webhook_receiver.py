#!/usr/bin/python3
"""Receives plantrail's webhooks: checks each request's Standard Webhooks
signature, drops the duplicates at-least-once delivery brings, and appends
every new event (a CloudEvents 1.0 JSON object) to a JSON Lines file.

Python's standard library only. The signature check is the Standard
Webhooks 1.0 algorithm, the same every Standard Webhooks library runs:

  signed  = webhook-id + "." + webhook-timestamp + "." + body
  expect  = base64(HMAC-SHA256(key, signed)), key = base64-decoded secret
            after its "whsec_" prefix
  webhook-signature holds "v1,<signature>" entries separated by spaces
  (two during a secret rotation): one must equal `expect`, compared in
  constant time; and webhook-timestamp must be within 5 minutes of now.

Answer 2xx only once the event is stored: plantrail delivers it again until
then, and the next event of the endpoint only after it.

Usage:
  webhook_receiver.py --port 8080 --secret whsec_... --out events.jsonl
  (plain HTTP: put it behind an HTTPS proxy; plantrail sends http:// only to
  loopback, and only when the server allows it)
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import threading
import time

TOLERANCE_SECONDS = 5 * 60


def verify(secrets, headers, body, now=None):
    """The Standard Webhooks check: returns None when some signature of the
    request is one of `secrets`' for it, else why not."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        sent = int(timestamp)
    except ValueError:
        return "webhook-timestamp is not a number"
    now = time.time() if now is None else now
    if abs(now - sent) > TOLERANCE_SECONDS:
        return "webhook-timestamp too far from now (a replayed request?)"
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        expected = base64.b64encode(
            hmac.new(key, signed, hashlib.sha256).digest()).decode()
        for entry in signatures.split(" "):
            version, _, signature = entry.partition(",")
            if version == "v1" and hmac.compare_digest(signature, expected):
                return None
    return "no signature matches the secret"


class Receiver(http.server.ThreadingHTTPServer):
    """Stores each new event once; `secrets` may hold the new and the
    previous secret while a rotation overlaps."""

    def __init__(self, address, secrets, out_path):
        super().__init__(address, Handler)
        self.secrets = list(secrets)
        self.out_path = out_path
        self.lock = threading.Lock()
        self.seen = set()
        if os.path.exists(out_path):
            with open(out_path, encoding="utf-8") as f:
                self.seen = {json.loads(line)["id"] for line in f if line.strip()}

    def store(self, event):
        """Appends `event` unless its id was stored before."""
        with self.lock:
            if event["id"] in self.seen:
                return False
            with open(self.out_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(event, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
            self.seen.add(event["id"])
            return True


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        problem = verify(self.server.secrets, headers, body)
        if problem:
            self.send_response(401)
            self.end_headers()
            self.wfile.write(problem.encode())
            return
        event = json.loads(body)
        self.server.store(event)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--secret", action="append", required=True,
                        help="whsec_... (repeat during a rotation)")
    parser.add_argument("--out", required=True, help="JSON Lines file to append to")
    args = parser.parse_args()
    Receiver((args.host, args.port), args.secret, args.out).serve_forever()


if __name__ == "__main__":
    main()
