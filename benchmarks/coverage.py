"""Do simulacra's intervals cover at their nominal rate? A simulation study with known truth.

For every estimator of the trust layer and the task metrics, data are drawn many times
from a model whose true value is known; each repetition runs the estimator exactly as
simulacra does and records whether its 95% interval holds the truth, the error of the
point estimate and the interval's width. The output is a Markdown table:

- ``coverage``: the share of intervals holding the truth, with its binomial standard
  error ``sqrt(c (1 - c) / reps)``;
- ``bias``: the mean error of the point estimate, with its standard error;
- ``width``: the mean width of the interval;
- ``status``: ``ok`` when coverage is within 2.5 points of 95% (or, with fewer
  repetitions than that can resolve, within two binomial SEs), else the documented
  limitation (see docs/trust.md) or ``NOT OK`` when there is none. Rows marked
  ``reference`` show the interval a fix replaced, for comparison.

The models:

- PPI / PPI++ (``stats.ppi_mean``): binary labels with success rate p; a rater right
  80% of the time on items people call 1 and 90% on those they call 0 (so biased);
  ``n`` human labels and 1,000 synthetic-only items. Samples the trust layer refuses
  (``check_human_size``: fewer than 10 labels expected on the rarer side, or all equal)
  are counted under ``refused`` and left out of the coverage.
- select + estimate: 1,000 items, 30% hard; three synthetic raters each right 95% of the
  time on easy items and saying 1 with probability 0.8 on hard ones; people say 1 with
  probability 0.5 (hard) or 0.7 (easy), so the truth is 0.64. ``select_items`` takes
  the K = 200 items of highest vote entropy and R = 100 at random from the rest, and
  ``trust.estimate`` weights the strata.
- success rate and pass^k (``stats.success_rate``, ``stats.pass_hat_k`` with k = 2):
  T tasks of 4 trials; task success probabilities from a beta distribution with mean p
  and intra-task correlation 0.2 (``Beta(4p, 4(1 − p))``); the truth is p, or
  ``E[p_task²]`` for pass^2.
- LC win rate (``stats.length_controlled_win_rate``): A wins with probability
  ``σ(0.3 + 1.5·tanh(d / sd))``, A longer by one sd on average; the truth is σ(0.3).
  Intervals use 1,000 bootstrap resamples here (2,000 by default) to keep the run short.
- calibrate's held-out gap: each item has a true answer (A 50%, B 35%, tie 15%) given by
  each person and by the rater with probability 0.7; 300 items of h people; the rater is
  one more person, so the truth is a gap of 0.

Usage: ``python benchmarks/coverage.py [--quick] [--reps N] [--only NAME] [--jobs J]``.
``--quick`` runs 200 repetitions per cell (for CI); the default is 1,000.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

NOMINAL = 0.95
TOLERANCE = 0.025

LIMITATIONS = {
    "few-tasks": "conservative with 5 tasks (docs/trust.md, few tasks)",
}


@dataclass
class Outcome:
    """One repetition: the point estimate, the bounds and the truth (None: refused)."""

    value: float
    low: float
    high: float
    truth: float


@dataclass(frozen=True)
class Cell:
    estimator: str
    setting: str
    run: Callable[[np.random.Generator], Outcome | None]
    limitation: str | None = None
    reference: bool = False


# --- PPI and PPI++ -------------------------------------------------------------------


def _ppi(method: str, n: int, p: float) -> Callable[[np.random.Generator], Outcome | None]:
    def run(rng: np.random.Generator) -> Outcome | None:
        from simulacra.errors import ConfigError
        from simulacra.stats import ppi_mean
        from simulacra.trust._estimate import check_human_size

        total = n + 1000
        y = (rng.random(total) < p).astype(float)
        right = rng.random(total) < np.where(y == 1, 0.8, 0.9)
        f = np.where(right, y, 1 - y)
        try:
            check_human_size(list(y[:n]), level=0.95, scale=(0.0, 1.0), source="")
        except ConfigError:
            return None
        est = ppi_mean(y[:n], f[:n], f[n:], method=method).estimate  # type: ignore[arg-type]
        return Outcome(est.value, est.low, est.high, p)

    return run


# --- select + estimate ---------------------------------------------------------------


def _select_estimate(rng: np.random.Generator) -> Outcome | None:
    from simulacra.trust import estimate, select_items
    from simulacra.trust._labels import Label, LabelSet

    items = 1000
    hard = rng.random(items) < 0.3
    y = rng.random(items) < np.where(hard, 0.5, 0.7)
    synthetic = []
    for rater in ("r1", "r2", "r3"):
        right = rng.random(items) < 0.95
        says = np.where(hard, rng.random(items) < 0.8, np.where(right, y, ~y))
        synthetic += [
            Label(item_id=f"x{i}", annotator=rater, kind="pairwise", value="A" if s else "B")
            for i, s in enumerate(says)
        ]
    labels = LabelSet(labels=synthetic, kind="pairwise", source="synthetic")
    chosen = select_items(labels, 200, random=100, seed=int(rng.integers(2**31)))
    human = LabelSet(
        labels=[
            Label(
                item_id=s.item_id,
                annotator="h",
                kind="pairwise",
                value="A" if y[int(s.item_id[1:])] else "B",
                selected_by=s.selected_by,
                stratum=s.stratum,
                stratum_size=s.stratum_size,
                inclusion_probability=s.inclusion_probability,
            )
            for s in chosen
        ],
        kind="pairwise",
        source="human",
    )
    est = estimate(human, labels, method="ppi++").result.estimate
    return Outcome(est.value, est.low, est.high, 0.3 * 0.5 + 0.7 * 0.7)


def _select_dropping_the_top(rng: np.random.Generator) -> Outcome | None:
    """The estimator it replaced: PPI on the random items, the chosen ones unlabelled."""
    from simulacra.stats import ppi_mean

    items = 1000
    hard = rng.random(items) < 0.3
    y = (rng.random(items) < np.where(hard, 0.5, 0.7)).astype(float)
    votes = np.zeros(items)
    for _ in range(3):
        right = rng.random(items) < 0.95
        votes += np.where(hard, rng.random(items) < 0.8, np.where(right, y, 1 - y))
    f = votes / 3
    entropy = np.where((votes == 0) | (votes == 3), 0.0, 1.0)
    order = np.lexsort((rng.random(items), -entropy))
    top, rest = order[:200], order[200:]
    drawn = rng.choice(rest, size=100, replace=False)
    others = np.setdiff1d(np.arange(items), drawn)
    est = ppi_mean(y[drawn], f[drawn], f[others], method="ppi++").estimate
    assert top.size == 200
    return Outcome(est.value, est.low, est.high, 0.3 * 0.5 + 0.7 * 0.7)


# --- success rate and pass^k ---------------------------------------------------------


def _tasks(rng: np.random.Generator, tasks: int, p: float) -> list[dict[str, object]]:
    rates = rng.beta(4 * p, 4 * (1 - p), size=tasks)
    outcomes = rng.random((tasks, 4)) < rates[:, None]
    return [{"task": f"t{t}", "score": float(s)} for t in range(tasks) for s in outcomes[t]]


def _success(
    tasks: int, p: float, interval: str = "score"
) -> Callable[[np.random.Generator], Outcome | None]:
    def run(rng: np.random.Generator) -> Outcome | None:
        from simulacra.stats import success_rate

        est = success_rate(_tasks(rng, tasks, p), interval=interval)  # type: ignore[arg-type]
        return Outcome(est.value, est.low, est.high, p)

    return run


def _pass2(
    tasks: int, p: float, interval: str = "score"
) -> Callable[[np.random.Generator], Outcome | None]:
    a, b = 4 * p, 4 * (1 - p)
    truth = a * (a + 1) / ((a + b) * (a + b + 1))

    def run(rng: np.random.Generator) -> Outcome | None:
        from simulacra.stats import pass_hat_k

        est = pass_hat_k(_tasks(rng, tasks, p), [2], interval=interval)[2]  # type: ignore[arg-type]
        return Outcome(est.value, est.low, est.high, truth)

    return run


# --- LC win rate ---------------------------------------------------------------------


def _lc(n: int, form: str) -> Callable[[np.random.Generator], Outcome | None]:
    def run(rng: np.random.Generator) -> Outcome | None:
        from simulacra.stats import length_controlled_win_rate

        d = rng.normal(1.0, 1.0, n) * 300.0
        p = 1 / (1 + np.exp(-(0.3 + 1.5 * np.tanh(d / d.std(ddof=1)))))
        verdicts = np.where(rng.random(n) < p, "A", "B").tolist()
        fit = length_controlled_win_rate(
            verdicts,
            d + 2000.0,
            [2000.0] * n,
            form=form,
            resamples=1000,  # type: ignore[arg-type]
        )
        est = fit.win_rate
        return Outcome(est.value, est.low, est.high, 1 / (1 + math.exp(-0.3)))

    return run


# --- calibrate's held-out gap --------------------------------------------------------


def _gap(humans: int) -> Callable[[np.random.Generator], Outcome | None]:
    def run(rng: np.random.Generator) -> Outcome | None:
        from simulacra.stats import bootstrap
        from simulacra.trust._calibrate import _Item, _loo
        from simulacra.trust._labels import Label

        names = ("A", "B", "tie")
        items = 300
        truth = rng.choice(3, size=items, p=[0.5, 0.35, 0.15])
        right = rng.random((items, humans + 1)) < 0.7
        other = (truth[:, None] + 1 + rng.integers(2, size=(items, humans + 1))) % 3
        given = np.where(right, truth[:, None], other)
        rows = [
            _Item(
                item_id=str(i),
                human=[
                    Label(item_id=str(i), annotator=str(j), kind="pairwise", value=names[g])
                    for j, g in enumerate(row[:-1])
                ],
                score=0.0,
                category=names[row[-1]],
                segment=None,
            )
            for i, row in enumerate(given)
        ]
        rater, people = _loo(rows)
        est = bootstrap(np.array(rater) - np.array(people), seed=int(rng.integers(2**31)))
        return Outcome(est.value, est.low, est.high, 0.0)

    return run


def cells() -> list[Cell]:
    found = []
    for method, label in (("ppi", "PPI"), ("ppi++", "PPI++")):
        for p, n in ((0.5, 20), (0.5, 50), (0.5, 200), (0.9, 100), (0.9, 200), (0.9, 400)):
            found.append(Cell(label, f"p={p}, n={n}", _ppi(method, n, p)))
    found.append(Cell("select+estimate", "1000 items, K=200, R=100", _select_estimate))
    found.append(
        Cell("select, top-K dropped", "1000 items, K=200, R=100", _select_dropping_the_top,
             reference=True)
    )  # fmt: skip
    for name, make in (("success rate", _success), ("pass^2", _pass2)):
        for tasks in (5, 20, 50):
            for p in (0.05, 0.5, 0.95):
                limitation = "few-tasks" if tasks == 5 else None
                found.append(Cell(name, f"{tasks} tasks x 4, p={p}", make(tasks, p), limitation))
        for p in (0.05, 0.5, 0.95):
            found.append(
                Cell(f"{name} (bootstrap)", f"5 tasks x 4, p={p}", make(5, p, "bootstrap"),
                     reference=True)
            )  # fmt: skip
    for n in (200, 805):
        found.append(Cell("LC win rate (tanh)", f"n={n}", _lc(n, "tanh")))
    found.append(Cell("LC win rate (linear)", "n=805, tanh data", _lc(805, "linear"),
                      reference=True))  # fmt: skip
    for humans in (3, 4, 5):
        found.append(Cell("calibrate gap", f"{humans} people/item, 300 items", _gap(humans)))
    return found


@dataclass
class Row:
    index: int
    estimator: str
    setting: str
    limitation: str | None
    reference: bool
    reps: int
    refused: int
    coverage: float
    bias: float
    bias_se: float
    width: float
    seconds: float


def run_cell(args: tuple[int, int, int]) -> Row:
    index, reps, seed = args
    cell = cells()[index]
    rng = np.random.default_rng([seed, index])
    started = time.perf_counter()
    outcomes = []
    refused = 0
    for _ in range(reps):
        outcome = cell.run(rng)
        if outcome is None:
            refused += 1
        else:
            outcomes.append(outcome)
    errors = np.array([o.value - o.truth for o in outcomes])
    covered = np.array([o.low <= o.truth <= o.high for o in outcomes], dtype=float)
    widths = np.array([o.high - o.low for o in outcomes])
    kept = max(len(outcomes), 1)
    return Row(
        index=index,
        estimator=cell.estimator,
        setting=cell.setting,
        limitation=cell.limitation,
        reference=cell.reference,
        reps=len(outcomes),
        refused=refused,
        coverage=float(covered.mean()) if outcomes else math.nan,
        bias=float(errors.mean()) if outcomes else math.nan,
        bias_se=float(errors.std(ddof=1) / math.sqrt(kept)) if len(outcomes) > 1 else math.nan,
        width=float(np.nanmean(widths)) if outcomes else math.nan,
        seconds=time.perf_counter() - started,
    )


def tolerance(row: Row) -> float:
    """2.5 points, or twice the binomial SE of a 95% coverage over the accepted
    repetitions when that is wider (as with ``--quick``'s 200): fewer repetitions cannot
    tell a 2.5-point miss from chance, and must not be read as one."""
    accepted = max(1, row.reps - row.refused)
    return max(TOLERANCE, 2 * math.sqrt(NOMINAL * (1 - NOMINAL) / accepted))


def status(row: Row) -> str:
    if row.reference:
        return "reference (replaced)"
    if math.isnan(row.coverage):
        return "all refused"
    if abs(row.coverage - NOMINAL) <= tolerance(row):
        return "ok"
    if row.limitation:
        return "limitation: " + LIMITATIONS[row.limitation]
    return "NOT OK"


def table(rows: list[Row]) -> str:
    lines = [
        "| estimator | setting | reps | refused | nominal | coverage ± SE | bias ± SE | width | status |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        se = math.sqrt(r.coverage * (1 - r.coverage) / r.reps) if r.reps else math.nan
        lines.append(
            f"| {r.estimator} | {r.setting} | {r.reps} | {r.refused} | 95% | "
            f"{100 * r.coverage:.1f}% ± {100 * se:.1f} | {r.bias:+.4f} ± {r.bias_se:.4f} | "
            f"{r.width:.3f} | {status(r)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 repetitions per cell")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per cell")
    parser.add_argument("--only", default=None, help="only estimators containing this text")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    reps = args.reps or (200 if args.quick else 1000)
    every = cells()
    chosen = [
        i
        for i, cell in enumerate(every)
        if args.only is None or args.only.lower() in cell.estimator.lower()
    ]
    started = time.perf_counter()
    # Long cells first, so that the workers finish together.
    slow = ("LC", "select", "calibrate")
    work = sorted(
        ((i, reps, args.seed) for i in chosen),
        key=lambda w: not any(word in every[w[0]].estimator for word in slow),
    )
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = sorted(pool.map(run_cell, work), key=lambda r: r.index)
    print(table(rows))
    bad = [r for r in rows if status(r) == "NOT OK"]
    print(
        f"\n{len(rows)} cells, {reps} repetitions each, {time.perf_counter() - started:.0f} s; "
        f"{len(bad)} not within {100 * TOLERANCE:.1f} points of 95% without a documented reason"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
