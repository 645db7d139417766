#!/usr/bin/python3
"""Follows plantrail's change stream into a SQLite table, exactly once.

Every event is written to `events` together with the position it was read
at, in one SQLite transaction, so the table and the checkpoint never
disagree: kill this process at any moment, start it again, and it resumes
after the last event it stored, missing none and repeating none. (The server
delivers at least once; the position is the key that makes it exactly once
here.)

Usage:
  subscriber.py --server HOST:PORT --db FILE [--stream-prefix P] [--stubs DIR]

Needs Debian's python3-grpcio and python3-protobuf, and stubs generated from
proto/ by protoc and grpc_python_plugin (see README.md); nothing generated is
checked in.
"""
import argparse
import os
import sqlite3
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="127.0.0.1:50051")
    parser.add_argument("--db", required=True, help="SQLite file to fill")
    parser.add_argument("--stream-prefix", action="append", default=[])
    parser.add_argument("--stubs", help="directory with the generated stubs")
    parser.add_argument("--stop-at", type=int, default=0,
                        help="exit once this position is stored (for tests)")
    parser.add_argument("--token-file",
                        help="file holding the bearer token (default: "
                             "$PLANTRAIL_TOKEN)")
    args = parser.parse_args()
    token = os.environ.get("PLANTRAIL_TOKEN", "")
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as f:
            token = f.read().strip()
    metadata = [("authorization", f"Bearer {token}")] if token else []
    if args.stubs:
        sys.path.insert(0, args.stubs)
    import grpc
    from plantrail.v1 import event_store_pb2 as es
    from plantrail.v1 import event_store_pb2_grpc as es_grpc

    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("""CREATE TABLE IF NOT EXISTS events (
                    position INTEGER PRIMARY KEY,
                    stream_id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    recorded_at TEXT NOT NULL,
                    payload BLOB NOT NULL)""")
    db.execute("""CREATE TABLE IF NOT EXISTS checkpoint (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    position INTEGER NOT NULL)""")
    row = db.execute("SELECT position FROM checkpoint").fetchone()
    after = row[0] if row else 0

    store = es_grpc.EventStoreStub(grpc.insecure_channel(args.server))
    request = es.SubscribeRequest(
        after_position=after,
        filter=es.SubscriptionFilter(stream_prefixes=args.stream_prefix))
    print(f"following {args.server} after position {after}", flush=True)
    for message in store.Subscribe(request, metadata=metadata):
        kind = message.WhichOneof("message")
        if kind == "caught_up":
            print(f"caught up at {message.caught_up.position}", flush=True)
            continue
        if kind == "checkpoint":
            last = message.checkpoint.position
            rows = []
        else:
            rows = [(e.position, e.stream_id, e.type,
                     e.recorded_at.ToJsonString(), e.payload)
                    for e in message.events.events]
            last = rows[-1][0]
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
        db.execute("INSERT INTO checkpoint VALUES (1, ?) "
                   "ON CONFLICT(id) DO UPDATE SET position = excluded.position",
                   (last,))
        db.execute("COMMIT")
        if args.stop_at and last >= args.stop_at:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
