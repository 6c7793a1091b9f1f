"""How big is the HTML report of a 10,000-episode run, and how fast does it open?

Writes a synthetic run directory, builds its report, opens it in headless Chromium (the
system's /usr/bin/chromium, driven by Playwright) and prints the file size and the
time from navigation start until the page has drawn its first view:

- overview: the summary cards and charts (``#/overview``);
- episode list: the first page of the episode list (``#/episodes``);
- open episode: from a click on a row until its conversation is drawn (this decodes
  one transcript chunk).

Usage: ``python benchmarks/report_load.py [--episodes 10000] [--runs 3] [--keep DIR]``.
Targets: under 3 s to first view, under 20 MB on disk.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MAX_SECONDS = 3.0
MAX_BYTES = 20_000_000


def _rendered_ms(page: object) -> float:
    """Milliseconds from navigation start to the page's own "rendered" mark."""
    value = page.evaluate(  # type: ignore[attr-defined]
        "performance.getEntriesByName('simulacra-rendered')[0].startTime"
    )
    return float(value)


def measure(report: Path, runs: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    timings: dict[str, list[float]] = {"overview": [], "episode list": [], "open episode": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(runs):
                for view, selector in (
                    ("overview", "[data-card='episodes'] [data-value]"),
                    ("episode list", "table[data-list] tbody tr[data-index]"),
                ):
                    page = browser.new_page()
                    hash_part = "#/overview" if view == "overview" else "#/episodes"
                    page.goto(report.resolve().as_uri() + hash_part, wait_until="commit")
                    page.wait_for_selector(selector, timeout=30_000)
                    timings[view].append(_rendered_ms(page) / 1000)
                    if view == "episode list":
                        start = time.perf_counter()
                        page.click("table[data-list] tbody tr[data-index]")
                        page.wait_for_selector(".chat .bubble", timeout=30_000)
                        timings["open episode"].append(time.perf_counter() - start)
                    page.close()
        finally:
            browser.close()
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="page loads per view")
    parser.add_argument("--keep", type=Path, help="write the run directory here and keep it")
    args = parser.parse_args(argv)

    from simulacra.report import build_report
    from simulacra.report._sample_runs import synthetic_run

    with tempfile.TemporaryDirectory() as scratch:
        run_dir = args.keep or Path(scratch) / "synthetic-10k"
        start = time.perf_counter()
        synthetic_run(run_dir, episodes=args.episodes, feedback=True, fidelity=True)
        generated = time.perf_counter() - start
        episodes_bytes = (run_dir / "episodes.jsonl").stat().st_size
        start = time.perf_counter()
        report = build_report(run_dir, output=run_dir / "report.html")
        built = time.perf_counter() - start
        size = report.stat().st_size
        timings = measure(report, args.runs)

    print(f"episodes:               {args.episodes:,}")
    print(f"episodes.jsonl:         {episodes_bytes / 1e6:.1f} MB (generated in {generated:.1f} s)")
    print(f"report.html:            {size / 1e6:.1f} MB (built in {built:.1f} s)")
    worst = 0.0
    for view, values in timings.items():
        print(
            f"{view + ':':<23} median {statistics.median(values):.2f} s, "
            f"max {max(values):.2f} s over {len(values)} loads"
        )
        if view != "open episode":
            worst = max(worst, max(values))
    ok = worst < MAX_SECONDS and size < MAX_BYTES
    print(
        f"target (< {MAX_SECONDS:.0f} s, < {MAX_BYTES / 1e6:.0f} MB): {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
