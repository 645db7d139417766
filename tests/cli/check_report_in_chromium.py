#!/usr/bin/python3
"""Opens a plantrail timeline page in headless Chromium and checks it drew.

    check_report_in_chromium.py --html FILE --expect-rows N
        [--screenshot OUT.png] [--chromium /usr/bin/chromium]

Chromium runs the page's script (offline: no network, a fresh profile), and
the DOM it dumps must show that the script finished (body
data-rendered="true"), that no script error was reported (no body
data-errors) and that there are exactly N elements of class "area-row".
With --screenshot, the page is also photographed, 1600 pixels wide and as
tall as the page says it needs.

Exit 0 when every check holds; otherwise what is wrong is printed and the
exit code is 1 (argparse's 2 for a malformed command line).
Standard library only.
"""

import argparse
import html.parser
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

# Flags that keep Chromium from reaching the network or needing a desktop.
BASE_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
]
# Virtual time lets the page's script run to completion without real waits.
VIRTUAL_TIME_BUDGET_MS = 10000
TIMEOUT_SECONDS = 180
WINDOW_WIDTH = 1600
MAX_WINDOW_HEIGHT = 16000


class DomSummary(html.parser.HTMLParser):
    """What the checks need from the dumped DOM."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.body_attrs = None
        self.area_rows = 0
        self.area_ids = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "body" and self.body_attrs is None:
            self.body_attrs = attributes
        classes = (attributes.get("class") or "").split()
        if "area-row" in classes:
            self.area_rows += 1
            self.area_ids.append(attributes.get("data-area-id"))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)


def run_chromium(chromium, extra_flags, url):
    """Runs Chromium once with a profile of its own; returns the result."""
    profile = tempfile.mkdtemp(prefix="plantrail-chromium-")
    try:
        command = (
            [chromium]
            + BASE_FLAGS
            + [
                "--user-data-dir=" + profile,
                "--virtual-time-budget=%d" % VIRTUAL_TIME_BUDGET_MS,
            ]
            + extra_flags
            + [url]
        )
        env = dict(os.environ)
        # A fresh HOME keeps Chromium from reading or writing the user's
        # configuration and caches.
        env["HOME"] = profile
        return subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=TIMEOUT_SECONDS,
            env=env,
            check=False,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def chromium_failed(what, result):
    print("chromium failed to %s (exit %d)" % (what, result.returncode))
    stderr = result.stderr.decode("utf-8", "replace").strip()
    if stderr:
        print("chromium's stderr (last lines):")
        for line in stderr.splitlines()[-15:]:
            print("  " + line)


def check_dom(dom, expect_rows):
    """Returns the list of problems found in the dumped DOM."""
    summary = DomSummary()
    summary.feed(dom)
    summary.close()
    problems = []
    if summary.body_attrs is None:
        return ["the dumped DOM has no <body>"], summary
    rendered = summary.body_attrs.get("data-rendered")
    if rendered != "true":
        problems.append(
            'body data-rendered is %r, not "true": the page\'s script did not '
            "finish" % (rendered,)
        )
    errors = summary.body_attrs.get("data-errors")
    if errors:
        problems.append("the page reported script errors:")
        problems.extend("  " + line for line in errors.splitlines())
    if summary.area_rows != expect_rows:
        problems.append(
            "found %d elements with class area-row, expected %d"
            % (summary.area_rows, expect_rows)
        )
    return problems, summary


def screenshot_height(summary, expect_rows):
    """The window height that shows the whole page."""
    natural = (summary.body_attrs or {}).get("data-natural-height", "")
    try:
        height = int(natural)
    except ValueError:
        # The page did not say: header, legend and footer plus the rows.
        height = 700 + 48 * max(expect_rows, 1)
    return max(600, min(MAX_WINDOW_HEIGHT, height + 24))


def main(argv):
    parser = argparse.ArgumentParser(
        description="Check a plantrail timeline page in headless Chromium."
    )
    parser.add_argument("--html", required=True, help="the page to open")
    parser.add_argument(
        "--expect-rows",
        required=True,
        type=int,
        help="how many area rows the page must show",
    )
    parser.add_argument("--screenshot", help="also write a PNG screenshot here")
    parser.add_argument(
        "--chromium", default="/usr/bin/chromium", help="the browser to run"
    )
    args = parser.parse_args(argv)

    page = pathlib.Path(args.html).resolve()
    if not page.is_file():
        print("no such file: %s" % page)
        return 1
    chromium = shutil.which(args.chromium) or args.chromium
    if not os.access(chromium, os.X_OK):
        print(
            "chromium not found at %s (Debian: apt-get install -y "
            "--no-install-recommends chromium)" % args.chromium
        )
        return 1
    url = page.as_uri()

    try:
        # The same width as the screenshot, so the height the page reports
        # for itself fits it.
        result = run_chromium(
            chromium,
            ["--dump-dom", "--window-size=%d,1000" % WINDOW_WIDTH],
            url,
        )
    except subprocess.TimeoutExpired:
        print("chromium did not finish within %d s" % TIMEOUT_SECONDS)
        return 1
    if result.returncode != 0:
        chromium_failed("dump the DOM", result)
        return 1
    dom = result.stdout.decode("utf-8", "replace")
    problems, summary = check_dom(dom, args.expect_rows)

    if args.screenshot:
        out = pathlib.Path(args.screenshot).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.unlink()
        height = screenshot_height(summary, args.expect_rows)
        try:
            shot = run_chromium(
                chromium,
                [
                    "--screenshot=" + str(out),
                    "--window-size=%d,%d" % (WINDOW_WIDTH, height),
                ],
                url,
            )
        except subprocess.TimeoutExpired:
            problems.append("chromium did not take the screenshot in time")
        else:
            if shot.returncode != 0:
                chromium_failed("take the screenshot", shot)
                problems.append("no screenshot")
            elif not out.is_file() or out.stat().st_size == 0:
                problems.append("chromium wrote no screenshot to %s" % out)
            else:
                print("screenshot: %s (%dx%d)" % (out, WINDOW_WIDTH, height))

    if problems:
        print("FAIL %s" % page)
        for problem in problems:
            print("  " + problem)
        return 1
    print(
        "OK %s: rendered, no script errors, %d area rows"
        % (page, summary.area_rows)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
