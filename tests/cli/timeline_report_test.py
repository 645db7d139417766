#!/usr/bin/python3
"""The timeline for real: start plantraild, import KTH's action plan with the
CLI, revise one area's end, write `plantrail report --html`, and load the
page in headless Chromium (tests/cli/check_report_in_chromium.py): it must
finish drawing without a script error and show one row per area of the plan,
the revised area marked as slipped. With --screenshot the page is also
photographed (docs/timeline-kth.png is made this way)."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plantraild", required=True)
    parser.add_argument("--plantrail", required=True)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--checker", required=True)
    parser.add_argument("--screenshot")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="plantrail-timeline-")
    server = subprocess.Popen([args.plantraild, "--data-dir", os.path.join(work, "data"),
                               "--listen", "127.0.0.1:0", "--durability", "none"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        match = re.search(r"listening on (127\.0\.0\.1:\d+)", server.stdout.readline())
        if not match:
            print("FAIL: plantraild did not start")
            return 1
        env = dict(os.environ, PLANTRAIL_SERVER=match.group(1), HOME=work,
                   XDG_DATA_HOME=os.path.join(work, "xdg"))
        with open(os.path.join(work, "data", "admin.token"), encoding="utf-8") as f:
            env["PLANTRAIL_TOKEN"] = f.read().strip()

        def cli(*argv):
            done = subprocess.run([args.plantrail, *argv], env=env, capture_output=True,
                                  text=True, timeout=120)
            if done.returncode != 0:
                raise RuntimeError(f"plantrail {' '.join(argv)}: {done.stderr}")
            return done.stdout

        cli("import", args.plan)
        areas = len(json.load(open(args.plan, encoding="utf-8"))["areas"])
        cli("reschedule", "3.1.3", "--end", "VT25", "--reason", "Agreements renegotiated")
        cli("status", "3.1.3", "--phase", "in progress", "--health", "at risk",
            "--note", "Partner universities answer slowly", "--reported-on", "2024-03-01")
        page = os.path.join(work, "plan.html")
        written = json.loads(cli("--json", "report", "--html", page, "--title",
                                 "KTH action plan V-2022-0218"))
        failures = []
        if written["areas"] != areas:
            failures.append(f"the report has {written['areas']} areas, the plan {areas}")
        text = open(page, encoding="utf-8").read()
        if "http://" in text or "https://" in text:
            failures.append("the page refers to something outside itself")
        # The revised area carries its slip (baseline HT24, now VT25).
        row = re.search(r'<[^>]*class="area-row[^"]*"[^>]*data-area-id="3\.1\.3"', text)
        if not row:
            failures.append("no row for area 3.1.3")
        elif "slip" not in text[row.start():row.start() + 4000]:
            failures.append("area 3.1.3 is not marked as slipped")
        check = [sys.executable, args.checker, "--html", page, "--expect-rows", str(areas)]
        if args.screenshot:
            check += ["--screenshot", args.screenshot]
        result = subprocess.run(check, capture_output=True, text=True, timeout=180)
        if result.returncode != 0:
            failures.append(f"chromium check failed: {result.stdout}{result.stderr}")
        for failure in failures:
            print(f"FAIL: {failure}")
        if not failures:
            print(f"ok: {areas} rows drawn in Chromium without errors")
        return 1 if failures else 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
