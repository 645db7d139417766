#!/usr/bin/env python3
"""Renders bench/soak's result as a markdown table with a verdict, prints
it, and writes it into a document between the soak markers."""
import argparse
import json
import os
import platform
import re
import statistics
import sys
from datetime import date

BEGIN = "<!-- bench/soak: begin -->"
END = "<!-- bench/soak: end -->"


def machine():
    cores = os.cpu_count()
    with open("/proc/meminfo") as meminfo:
        kb = int(meminfo.readline().split()[1])
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{cores} cores ({model}), {round(kb / 2**20)} GiB memory, Linux {platform.release()}"


def ms(us):
    return f"{us / 1000:.2f}"


def growth(first, last):
    return (last - first) / first * 100 if first else 0.0


def render(result, command):
    windows = result["windows"]
    seconds_per_window = result["seconds"] / max(1, len(windows))
    lines = [
        f"Run of {date.today().isoformat()} on {machine()}: `{command}`.",
        "",
        f"Load: {result['append_rate']:.0f} durable appends/s, "
        f"{result['report_rate']:.0f} status reports/s, "
        f"{result['query_rate']:.0f} queries/s (GetArea, GetHistory, ListAreas over "
        f"{result['areas']} areas), {result['subscribers']} subscribers that each "
        "follow the log for 1 to 10 s, leave and come back.",
        "",
        "| time | appends/s | append p50 / p99 (ms) | report p99 (ms) | query p50 / p99 (ms) "
        "| subscriptions | deliveries | gaps | errors | server RSS (MiB) | log head |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for w in windows:
        lines.append(
            f"| {int(w['minute'])}:{round(w['minute'] % 1 * 60):02d} "
            f"| {w['appends'] / seconds_per_window:.0f} "
            f"| {ms(w['append_p50_us'])} / {ms(w['append_p99_us'])} "
            f"| {ms(w['report_p99_us'])} "
            f"| {ms(w['query_p50_us'])} / {ms(w['query_p99_us'])} "
            f"| {w['subscriptions']} | {w['deliveries']} | {w['gaps']} | {w['errors']} "
            f"| {w.get('rss_kb', 0) / 1024:.0f} | {w['head']} |")
    # Flat: the last quarter of the run against the second quarter (the
    # first is warm-up: memtables and caches filling).
    quarter = max(1, len(windows) // 4)
    early = windows[quarter:2 * quarter] or windows[:1]
    late = windows[-quarter:]
    rss_early = statistics.median(w.get("rss_kb", 0) for w in early)
    rss_late = statistics.median(w.get("rss_kb", 0) for w in late)
    p99_early = statistics.median(w["append_p99_us"] for w in early)
    p99_late = statistics.median(w["append_p99_us"] for w in late)
    q99_early = statistics.median(w["query_p99_us"] for w in early)
    q99_late = statistics.median(w["query_p99_us"] for w in late)
    gaps = sum(w["gaps"] for w in windows)
    errors = sum(w["errors"] for w in windows)
    lines += [
        "",
        f"Second quarter against last quarter (medians of the windows): server RSS "
        f"{rss_early / 1024:.0f} → {rss_late / 1024:.0f} MiB ({growth(rss_early, rss_late):+.0f}%), "
        f"append p99 {ms(p99_early)} → {ms(p99_late)} ms ({growth(p99_early, p99_late):+.0f}%), "
        f"query p99 {ms(q99_early)} → {ms(q99_late)} ms ({growth(q99_early, q99_late):+.0f}%); "
        f"{gaps} gaps and {errors} errors in all.",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--result", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--write")
    args = parser.parse_args()
    with open(args.result) as f:
        result = json.load(f)
    if "error" in result:
        sys.exit(f"soak failed: {result['error']}")
    table = render(result, args.command)
    print(table)
    if args.write:
        with open(args.write) as f:
            doc = f.read()
        block = f"{BEGIN}\n{table}\n{END}"
        if BEGIN in doc:
            doc = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block,
                         doc, flags=re.S)
        else:
            doc += "\n" + block + "\n"
        with open(args.write, "w") as f:
            f.write(doc)


if __name__ == "__main__":
    main()
