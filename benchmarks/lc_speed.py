"""How long does the length-controlled win rate take on an AlpacaEval-sized set?

Times ``stats.length_controlled_win_rate`` on 805 pairs (the size of AlpacaEval) with
2,000 bootstrap resamples and the small ridge penalty the feedback diagnostics use,
best of ``--runs`` (wall-clock and process CPU time; on a loaded machine the CPU time
is the steadier of the two). ``--rev REV`` times the implementation of a git revision instead
(its ``stats/_preference.py``, on the current helpers), for before/after comparisons.

Usage: ``python benchmarks/lc_speed.py [--n 805] [--runs 3] [--rev REV] [--form F]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _implementation(rev: str | None) -> Any:
    if rev is None:
        from simulacra.stats import _preference

        return _preference
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:src/simulacra/stats/_preference.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "preference_at_rev.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("preference_at_rev", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=805)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rev", default=None, help="time this git revision's implementation")
    parser.add_argument("--form", default=None, help="tanh or linear (default: the default)")
    args = parser.parse_args(argv)
    module = _implementation(args.rev)
    rng = np.random.default_rng(0)
    d = rng.normal(0.5, 1.0, args.n) * 400.0
    p = 1 / (1 + np.exp(-(0.2 + 0.8 * np.tanh(d / d.std(ddof=1)))))
    u = rng.random(args.n)
    verdicts = np.where(u < 0.9 * p, "A", np.where(u < 0.9 * p + 0.1, "tie", "B")).tolist()
    len_b = np.full(args.n, 1500.0)
    best = cpu = float("inf")
    options = {} if args.form is None else {"form": args.form}
    for _ in range(args.runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        fit = module.length_controlled_win_rate(verdicts, len_b + d, len_b, l2=1e-3, **options)
        best = min(best, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    print(
        f"{args.rev or 'working tree'} ({args.form or 'default form'}): n={args.n}, "
        f"2000 resamples: {best:.2f} s wall, {cpu:.2f} s CPU (best of {args.runs}); "
        f"LC win rate {fit.win_rate}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
