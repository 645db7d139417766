#!/usr/bin/python3
"""Renders bench/run's results as a markdown table with ratios and targets.

The results are one JSON object a line: {"label", "round", "result"}. With
several rounds every figure shown is the median over the rounds, and every
ratio is computed within each round, then shown as the median and the
spread (min–max) of those; the targets (docs/BENCHMARKS.md, "Targets") are
judged on the medians. A file without "round" is one round.

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
import statistics
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


def verdict(ok):
    return "met" if ok else "**not met**"


class Rounds:
    """bench/run's records by label and round: the median of a figure over
    the rounds, and a ratio computed within each round."""

    def __init__(self, records):
        self.by_label = {}
        for record in records:
            # A file from before --rounds has no "round": one round.
            self.by_label.setdefault(record["label"], {})[
                record.get("round", 1)] = record["result"]
        self.rounds = sorted({r for results in self.by_label.values()
                              for r in results})

    def has(self, label):
        return bool(self.by_label.get(label))

    def first(self, label, key, default=0):
        """A figure the rounds share (a count, a size): the first round's."""
        results = self.by_label.get(label, {})
        return results[min(results)].get(key, default) if results else default

    def median(self, label, key):
        values = [result[key] for result in self.by_label.get(label, {}).values()
                  if key in result]
        return statistics.median(values) if values else None

    def ratios(self, label, other, key="items_per_second"):
        """label's figure over other's, per round where both were measured."""
        mine, theirs = self.by_label.get(label, {}), self.by_label.get(other, {})
        return [mine[r][key] / theirs[r][key] for r in sorted(mine)
                if r in theirs and theirs[r].get(key) and key in mine[r]]

    def ratio(self, label, other):
        values = self.ratios(label, other)
        return statistics.median(values) if values else None

    def projections(self):
        """The rebuild's median rate per projection, in the order reported."""
        rates, events = {}, {}
        for result in self.by_label.get("plantrail-rebuild", {}).values():
            for projection in result.get("projections", []):
                rates.setdefault(projection["name"], []).append(
                    projection["items_per_second"])
                events.setdefault(projection["name"], projection["events"])
        return [(name, events[name], statistics.median(values))
                for name, values in rates.items()]


def render(records, quick, elapsed, command):
    r = Rounds(records)
    several = len(r.rounds) > 1

    def throughput(label):
        if not r.has(label):
            return "–"
        return (f"{rate(r.median(label, 'items_per_second'))} "
                f"(p50 {micros(r.median(label, 'p50_us'))}, "
                f"p99 {micros(r.median(label, 'p99_us'))})")

    def spread(label, other):
        values = r.ratios(label, other)
        if not values:
            return "–"
        text = f"{statistics.median(values):.2f}"
        if several:
            text += f" ({min(values):.2f}–{max(values):.2f})"
        return text

    def at_least(label, other, factor):
        ratio = r.ratio(label, other)
        return ratio is not None and ratio >= factor

    rows = []

    def append_row(label, plantrail, ceiling, peer, target=""):
        rows.append(f"| {label} | {throughput(plantrail)} | {throughput(ceiling)} | "
                    f"{throughput(peer)} | {spread(plantrail, ceiling)} | "
                    f"{spread(plantrail, peer)} | {target} |")

    # One client: at least PostgreSQL's rate, and a p50 within the ceiling's
    # plus an empty call's plus 100 µs.
    target1 = ""
    if all(r.has(label) for label in ("plantrail-append-1", "ceiling-1",
                                      "postgresql-1", "plantrail-ping-1")):
        budget = (r.median("ceiling-1", "p50_us") +
                  r.median("plantrail-ping-1", "p50_us") + 100)
        ok = (at_least("plantrail-append-1", "postgresql-1", 1) and
              r.median("plantrail-append-1", "p50_us") <= budget)
        target1 = ("≥ PostgreSQL and p50 ≤ ceiling p50 + ping p50 + 100 µs "
                   f"= {micros(budget)}: {verdict(ok)}")
    target16 = ""
    if all(r.has(label) for label in ("plantrail-append-16", "ceiling-16",
                                      "postgresql-16")):
        ok = (at_least("plantrail-append-16", "ceiling-16", 0.8) and
              at_least("plantrail-append-16", "postgresql-16", 1.2))
        target16 = f"≥ 0.80 of ceiling and ≥ 1.2× PostgreSQL: {verdict(ok)}"
    target64 = ""
    if r.has("plantrail-append-64") and r.has("postgresql-64"):
        ok = at_least("plantrail-append-64", "postgresql-64", 1.5)
        target64 = f"≥ 1.5× PostgreSQL: {verdict(ok)}"
    target_batch = ""
    if all(r.has(label) for label in ("plantrail-append-batch100",
                                      "ceiling-batch100", "postgresql-batch100")):
        ok = (at_least("plantrail-append-batch100", "ceiling-batch100", 0.5) and
              (r.ratio("plantrail-append-batch100", "postgresql-batch100") or 0) > 1)
        target_batch = f"≥ 0.50 of ceiling and above PostgreSQL: {verdict(ok)}"
    target_report = ""
    if r.has("plantrail-report-16") and r.has("ceiling-16"):
        ok = at_least("plantrail-report-16", "ceiling-16", 0.6)
        target_report = f"≥ 0.60 of ceiling: {verdict(ok)}"

    append_row("durable appends, 1 client", "plantrail-append-1", "ceiling-1",
               "postgresql-1", target1)
    append_row("durable appends, 16 clients", "plantrail-append-16",
               "ceiling-16", "postgresql-16", target16)
    append_row("durable appends, 64 clients", "plantrail-append-64",
               "ceiling-64", "postgresql-64", target64)
    append_row("batched appends, 100 a call, 1 client",
               "plantrail-append-batch100", "ceiling-batch100",
               "postgresql-batch100", target_batch)
    append_row("status reports (PlanCommands), 16 clients",
               "plantrail-report-16", "ceiling-16", "postgresql-16",
               target_report)

    lines = [
        "| measurement | plantrail | ceiling: raw RocksDB | peer: PostgreSQL | "
        "plantrail / ceiling | plantrail / PostgreSQL | target |",
        "|---|---|---|---|---|---|---|",
    ] + rows

    def latency_row(name, label, target=""):
        return (f"| {name} | {rate(r.median(label, 'items_per_second'))} | "
                f"{micros(r.median(label, 'p50_us'))} | "
                f"{micros(r.median(label, 'p99_us'))} | {target} |")

    queries = []
    for clients in (1, 16):
        label = f"plantrail-ping-{clients}"
        if r.has(label):
            queries.append(latency_row(
                f"empty call (grpc.health.v1.Health/Check), {clients} "
                f"client{'s' if clients > 1 else ''}", label))
    ping16 = r.median("plantrail-ping-16", "p99_us")
    for kind, name in (("get-area", "GetArea"), ("list-areas", "ListAreas"),
                       ("history", "GetHistory")):
        label = f"plantrail-query-{kind}"
        if not r.has(label):
            continue
        target = ""
        if kind == "get-area":
            p99 = r.median(label, "p99_us")
            if p99 < 1000:
                ping = f" (ping 16 clients p99 {micros(ping16)})" if ping16 else ""
                target = f"p99 < 1 ms{ping}: met"
            elif ping16:
                target = f"p99 < 1 ms: **not met** (ping p99 is {micros(ping16)})"
            else:
                target = "p99 < 1 ms: **not met**"
        queries.append(latency_row(
            f"{name}, 16 clients, {r.first(label, 'areas'):,} areas", label,
            target))
    for subscribers in (1, 100):
        label = f"plantrail-subscribe-{subscribers}"
        if not r.has(label):
            continue
        target = ""
        if subscribers == 100:
            target = f"p99 < 10 ms: {verdict(r.median(label, 'p99_us') < 10000)}"
        queries.append(
            f"| change stream, {subscribers} subscriber(s), commit to "
            f"delivery ({r.first(label, 'deliveries'):,} deliveries) | – | "
            f"{micros(r.median(label, 'p50_us'))} | "
            f"{micros(r.median(label, 'p99_us'))} | {target} |")
    other = ["", "| measurement | rate | p50 | p99 | target |",
             "|---|---|---|---|---|"] + queries

    events = r.first("plantrail-fill", "events")
    big = ["", f"| with a log of {events:,} events | figure | target |",
           "|---|---|---|"]
    if r.has("plantrail-fill"):
        big.append("| filled through PlanCommands (status reports, 64 clients, "
                   f"no fsync) | {rate(r.median('plantrail-fill', 'items_per_second'))} | |")
    projections = r.projections()
    for name, count, value in projections:
        big.append(f"| rebuild of `{name}` ({count:,} events) | {rate(value)} | "
                   f"≥ 500 k/s: {verdict(value >= 500000)} |")
    if projections:
        slowest = min(projections, key=lambda projection: projection[2])
        names = ", ".join(f"`{name}`" for name, _, _ in projections)
        big.append(f"| rebuild, every projection ({names}) | slowest "
                   f"`{slowest[0]}` {rate(slowest[2])} | ≥ 500 k/s each: "
                   f"{verdict(slowest[2] >= 500000)} |")
    if r.has("plantrail-memory"):
        mib = r.median("plantrail-memory", "peak_rss_kb") / 1024
        if events >= 1000000:
            big.append(f"| server peak memory (VmHWM) | {mib:.0f} MiB | "
                       f"< 200 MB at 1,000,000 events: {verdict(mib < 200)} |")
        else:
            big.append(f"| server peak memory (VmHWM) | {mib:.0f} MiB (a quick "
                       "run: fewer events) | < 200 MB at 1,000,000 events: – |")

    today = datetime.date.today().isoformat()
    head = f"Run of {today} on {machine()}, in {elapsed // 60} min {elapsed % 60} s: `{command}`."
    if several:
        head += (f" Every figure is the median of {len(r.rounds)} rounds; a ratio "
                 "is the median (min–max) of the rounds' ratios, each within its "
                 "round; targets are judged on the medians.")
    return "\n".join([head, ""] + lines + other + big) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    parser.add_argument("--quick", type=int, default=0)
    parser.add_argument("--elapsed", type=int, default=0)
    parser.add_argument("--command", default="bench/run")
    parser.add_argument("--write")
    args = parser.parse_args()
    with open(args.results) as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    table = render(records, args.quick, args.elapsed, args.command)
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
            heading = (f"## The latest full run (`{args.command}`)" if kind == "full"
                       else f"## The latest quick run (`{args.command}`)")
            text = text.rstrip("\n") + f"\n\n{heading}\n\n{block}\n"
        with open(args.write, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
