#!/usr/bin/python3
"""Renders bench/run's results as a markdown table with ratios and targets.

Prints the table and, with --write FILE, puts it into FILE between the
markers of its kind (full or quick run), replacing the previous figures of
that kind and leaving the rest of the file alone.
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess


def machine():
    cores = os.cpu_count()
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory_gib = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal"):
                memory_gib = int(line.split()[1]) / 1024 / 1024
    disk = ""
    try:
        disk = subprocess.run(
            ["df", "-h", "--output=source,fstype", os.environ.get("TMPDIR", "/tmp")],
            capture_output=True, text=True, check=False).stdout.splitlines()[-1]
    except (OSError, IndexError):
        pass
    return (f"{cores} cores ({model or platform.machine()}), "
            f"{memory_gib:.0f} GiB memory, Linux {platform.release()}, "
            f"data on {' '.join(disk.split())}")


def rate(value):
    if value >= 1e6:
        return f"{value / 1e6:.2f} M/s"
    if value >= 1e3:
        return f"{value / 1e3:.1f} k/s"
    return f"{value:.0f}/s"


def micros(value):
    if value >= 1000:
        return f"{value / 1000:.2f} ms"
    return f"{value:.0f} µs"


def throughput(result):
    if not result:
        return "–"
    return (f"{rate(result['items_per_second'])} "
            f"(p50 {micros(result['p50_us'])}, p99 {micros(result['p99_us'])})")


def ratio(a, b):
    if not a or not b or not b.get("items_per_second"):
        return "–"
    return f"{a['items_per_second'] / b['items_per_second']:.2f}"


def verdict(ok):
    return "met" if ok else "**not met**"


def render(results, quick, elapsed, command):
    r = results
    rows = []

    def append_row(label, plantrail, ceiling, peer, target=""):
        rows.append(f"| {label} | {throughput(plantrail)} | {throughput(ceiling)} | "
                    f"{throughput(peer)} | {ratio(plantrail, ceiling)} | "
                    f"{ratio(plantrail, peer)} | {target} |")

    a16, c16, p16 = (r.get("plantrail-append-16"), r.get("ceiling-16"),
                     r.get("postgresql-16"))
    target16 = ""
    if a16 and c16 and p16:
        ok = (a16["items_per_second"] >= 0.8 * c16["items_per_second"] and
              a16["items_per_second"] >= 3 * p16["items_per_second"])
        target16 = f"≥ 0.80 of ceiling and ≥ 3× PostgreSQL: {verdict(ok)}"
    append_row("durable appends, 1 client", r.get("plantrail-append-1"),
               r.get("ceiling-1"), r.get("postgresql-1"))
    append_row("durable appends, 16 clients", a16, c16, p16, target16)
    append_row("durable appends, 64 clients", r.get("plantrail-append-64"),
               r.get("ceiling-64"), r.get("postgresql-64"))
    batch = r.get("plantrail-append-batch100")
    target_batch = ""
    if batch:
        target_batch = (f"≥ 100 k/s: {verdict(batch['items_per_second'] >= 100000)}")
    append_row("batched appends, 100 a call, 1 client", batch,
               r.get("ceiling-batch100"), r.get("postgresql-batch100"),
               target_batch)
    report = r.get("plantrail-report-16")
    target_report = ""
    if report and c16:
        target_report = ("≥ 0.60 of ceiling: "
                         f"{verdict(report['items_per_second'] >= 0.6 * c16['items_per_second'])}")
    append_row("status reports (PlanCommands), 16 clients", report, c16, p16,
               target_report)

    lines = [
        "| measurement | plantrail | ceiling: raw RocksDB | peer: PostgreSQL | "
        "plantrail / ceiling | plantrail / PostgreSQL | target (DESIGN.md) |",
        "|---|---|---|---|---|---|---|",
    ] + rows

    queries = []
    for kind, name in (("get-area", "GetArea"), ("list-areas", "ListAreas"),
                       ("history", "GetHistory")):
        q = r.get(f"plantrail-query-{kind}")
        if not q:
            continue
        target = ""
        if kind == "get-area":
            target = f"p99 < 1 ms: {verdict(q['p99_us'] < 1000)}"
        queries.append(f"| {name}, 16 clients, {q.get('areas', 0):,} areas | "
                       f"{rate(q['items_per_second'])} | {micros(q['p50_us'])} | "
                       f"{micros(q['p99_us'])} | {target} |")
    for subscribers in (1, 100):
        s = r.get(f"plantrail-subscribe-{subscribers}")
        if not s:
            continue
        target = ""
        if subscribers == 100:
            target = f"p99 < 10 ms: {verdict(s['p99_us'] < 10000)}"
        queries.append(f"| change stream, {subscribers} subscriber(s), commit to "
                       f"delivery ({s['deliveries']:,} deliveries) | – | "
                       f"{micros(s['p50_us'])} | {micros(s['p99_us'])} | {target} |")
    other = ["", "| measurement | rate | p50 | p99 | target (DESIGN.md) |",
             "|---|---|---|---|---|"] + queries

    fill = r.get("plantrail-fill", {})
    rebuild = r.get("plantrail-rebuild", {})
    memory = r.get("plantrail-memory", {})
    big = ["", "| with a log of "
           f"{fill.get('events', 0):,} events | figure | target (DESIGN.md) |",
           "|---|---|---|"]
    if fill:
        big.append(f"| filled through PlanCommands (status reports, 64 clients, "
                   f"no fsync) | {rate(fill['items_per_second'])} | |")
    for projection in rebuild.get("projections", []):
        ok = projection["items_per_second"] >= 500000
        big.append(f"| rebuild of `{projection['name']}` "
                   f"({projection['events']:,} events) | "
                   f"{rate(projection['items_per_second'])} | "
                   f"≥ 500 k/s: {verdict(ok)} |")
    if memory:
        mib = memory["peak_rss_kb"] / 1024
        ok = mib < 200 or fill.get("events", 0) < 1000000
        note = "" if fill.get("events", 0) >= 1000000 else " (a quick run: fewer events)"
        big.append(f"| server peak memory (VmHWM) | {mib:.0f} MiB{note} | "
                   f"< 200 MB at 1,000,000 events: {verdict(mib < 200) if fill.get('events', 0) >= 1000000 else '–'} |")

    today = datetime.date.today().isoformat()
    head = [f"Run of {today} on {machine()}, in {elapsed // 60} min "
            f"{elapsed % 60} s: `{command}`.", ""]
    return "\n".join(head + lines + other + big) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    parser.add_argument("--quick", type=int, default=0)
    parser.add_argument("--elapsed", type=int, default=0)
    parser.add_argument("--command", default="bench/run")
    parser.add_argument("--write")
    args = parser.parse_args()
    results = {}
    with open(args.results) as lines:
        for line in lines:
            record = json.loads(line)
            results[record["label"]] = record["result"]
    table = render(results, args.quick, args.elapsed, args.command)
    print(table)
    if args.write:
        kind = "quick" if args.quick else "full"
        begin, end = f"<!-- bench/run {kind}: begin -->", f"<!-- bench/run {kind}: end -->"
        with open(args.write) as f:
            text = f.read()
        block = f"{begin}\n{table}{end}"
        if begin in text and end in text:
            text = re.sub(re.escape(begin) + ".*?" + re.escape(end),
                          lambda _: block, text, flags=re.S)
        else:
            heading = ("## The latest full run (`bench/run`)" if kind == "full"
                       else "## The latest quick run (`bench/run --quick`)")
            text = text.rstrip("\n") + f"\n\n{heading}\n\n{block}\n"
        with open(args.write, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
