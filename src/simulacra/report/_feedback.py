"""The feedback part of a report: win rates, bias diagnostics, rubric scores, signals.

Every number comes from the feedback summary (:class:`~simulacra.rundir.FeedbackSummary`):
``feedback_summary.json`` when it describes the judgements there are, else the same
summary computed from ``feedback.jsonl`` by the judge's own function
(:func:`simulacra.feedback.summarize_judgements`), as while a judge is still running.
This module only lays the numbers out; it computes none of them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from simulacra.report._safe import clean, estimate, shorten
from simulacra.rundir import (
    Estimate,
    FeedbackRecord,
    FeedbackSummary,
    LengthControlled,
    PairwiseRecord,
    WinRates,
)

IMPLICIT = "implicit"

_SHOWN = (
    ("pairwise",),
    ("bias", "position", "first_position_win_rate"),
    ("bias", "position", "swap_consistency"),
    ("bias", "verbosity", "longer_wins"),
    ("bias", "verbosity", "longer_wins_any_correctness"),
    ("bias", "self_preference", "own_side_win_rate"),
    ("bias", "agreement"),
    ("rubric",),
    ("implicit",),
    ("human",),
)
"""Parts of the summary that a section of the feedback tab lays out; any other estimate
of the summary (one a newer judge writes, say) is listed among the other estimates."""


def index_feedback(records: list[FeedbackRecord]) -> dict[str, list[dict[str, Any]]]:
    """Feedback items by the id of each episode they are about (cleaned for display)."""
    result: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        ids = set(record.episodes)
        if not ids:
            continue
        shown = clean(record.model_dump(mode="json", exclude_unset=True), max_chars=4000)
        for episode_id in ids:
            result[episode_id].append(shown)
    return result


def effective_summary(
    records: list[FeedbackRecord], summary: FeedbackSummary | None
) -> FeedbackSummary | None:
    """The summary to show: the file's when it counts the judgements there are, else the
    summary of the judgements themselves (a judge still running, or items written by
    something else), computed as the judge computes it."""
    if not records or (summary is not None and sum(summary.judgements.values()) == len(records)):
        if summary is not None and records and "schema_version" not in summary.model_fields_set:
            _fill_older(summary, records)
        return summary
    from simulacra.feedback import summarize_judgements

    computed = summarize_judgements(records)
    if summary is not None:  # keep what only the finished judge knows (setup, humans)
        for name in ("run", "kinds", "raters", "options", "target_model", "human"):
            if name in summary.model_fields_set:
                setattr(computed, name, getattr(summary, name))
    return computed


def _fill_older(summary: FeedbackSummary, records: list[FeedbackRecord]) -> None:
    """What a summary written by an older version lacks (each rater's win rate),
    computed from the judgements by the same function."""
    if not any(rates.by_rater for rates in summary.pairwise.values()):
        from simulacra.feedback import summarize_judgements

        computed = summarize_judgements(records).pairwise
        for name, rates in summary.pairwise.items():
            if name in computed and computed[name].by_rater:
                rates.by_rater = computed[name].by_rater


def feedback_section(
    records: list[FeedbackRecord],
    summary: FeedbackSummary | None,
    targets: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    """Everything the feedback tab shows, or ``None`` when the run has no feedback."""
    shown = effective_summary(records, summary)
    if shown is None:
        return None
    kinds = Counter(shorten(record.kind, 40) for record in records)
    if not kinds:
        kinds.update({shorten(k, 40): n for k, n in shown.judgements.items()})
    # raters judge; the rules that read implicit signals off the users' turns do not
    raters = {r.rater for r in records if r.rater and r.kind != IMPLICIT}
    pairwise = [r for r in records if isinstance(r, PairwiseRecord)]
    bias = shown.bias
    position = bias.position if bias else None
    return {
        "items": len(records) or sum(shown.judgements.values()),
        "kinds": dict(kinds.most_common()),
        "raters": len(raters) or len(shown.raters),
        "wins": [
            _win_block(name, rates, pairwise, targets or {})
            for name, rates in list(shown.pairwise.items())[:12]
            if rates.win_rate is not None or rates.length_controlled is not None
        ],
        "swap": _swap(position.swap_consistency if position else None),
        "bias": _bias(shown),
        "agreement": _agreement(shown),
        "rubric": _rubric(shown),
        "signals": _signals(shown),
        "critiques": kinds.get("critique", 0),
        "other": _other(shown),
    }


def _est(value: Estimate | None) -> dict[str, Any] | None:
    return None if value is None else estimate(value.model_dump(mode="json"))


def _win_block(
    name: str, rates: WinRates, pairwise: list[PairwiseRecord], targets: dict[str, str]
) -> dict[str, Any]:
    counts = {
        side: count
        for side, count in (("A", rates.wins_a), ("B", rates.wins_b), ("tie", rates.ties))
        if count
    }
    group = [r for r in pairwise if (r.pairing or "other") == name]
    label_a = _side_label([r.episode_a for r in group], targets)
    label_b = _side_label([r.episode_b for r in group], targets)
    if not label_a or not label_b or label_a == label_b:
        label_a, label_b = "A", "B"
    return {
        "pairing": shorten(name, 60),
        "overall": _est(rates.win_rate),
        "lc": _lc(rates.length_controlled),
        "by_rater": [
            {"label": shorten(r.rater, 60), **(_est(r.win_rate) or {})} for r in rates.by_rater[:30]
        ],
        "verdicts": counts,
        "label_a": label_a,
        "label_b": label_b,
    }


def _lc(value: LengthControlled | None) -> dict[str, Any] | None:
    win = _est(value.win_rate) if value is not None else None
    if value is None or win is None:
        return None
    lc: dict[str, Any] = {
        "win_rate": win,
        "raw_win_rate": value.raw_win_rate,
        "slope": _est(value.beta1),
    }
    if value.warning:  # the estimate extrapolates
        lc["warning"] = shorten(value.warning, 400)
    return lc


def _side_label(episodes: list[str | None], targets: dict[str, str]) -> str | None:
    names = Counter(targets[e] for e in episodes if e in targets)
    return shorten(names.most_common(1)[0][0], 60) if names else None


def _bias(summary: FeedbackSummary) -> list[dict[str, Any]]:
    bias = summary.bias
    if bias is None:
        return []
    position, verbosity, own = bias.position, bias.verbosity, bias.self_preference
    longer = None
    if verbosity is not None:
        longer = _est(verbosity.longer_wins)
        if longer is None or longer["value"] is None:
            longer = _est(verbosity.longer_wins_any_correctness)
    rows = [
        (
            "position_bias",
            "Position bias",
            "share of wins going to the response shown first (0.5 = none)",
            _est(position.first_position_win_rate) if position else None,
        ),
        (
            "verbosity_bias",
            "Verbosity bias",
            "share of wins going to the longer response (0.5 = none)",
            longer,
        ),
        (
            "self_preference",
            "Self-preference",
            "how often a rater prefers the side made by its own model (0.5 = none)",
            _est(own.own_side_win_rate) if own else None,
        ),
    ]
    return [
        {"key": key, "label": label, "note": note, "reference": 0.5, **found}
        for key, label, note, found in rows
        if found is not None and found["value"] is not None
    ]


def _swap(swap: Any) -> dict[str, Any] | None:
    if swap is None or _est(swap.consistency) is None:
        return None
    return {
        "consistency": _est(swap.consistency),
        "first_position": swap.first_position,
        "second_position": swap.second_position,
        "other": swap.other,
        "n": swap.n,
    }


def _agreement(summary: FeedbackSummary) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    agreement = summary.bias.agreement if summary.bias else None
    if agreement is not None and agreement.items:
        for label, value in (
            ("items", agreement.items),
            ("raters", agreement.raters),
            ("judgements", agreement.judgements),
            ("krippendorff alpha", agreement.krippendorff_alpha),
            ("percent agreement", agreement.percent_agreement),
            ("mean cohen kappa", agreement.mean_cohen_kappa),
            ("rater pairs with kappa", agreement.rater_pairs_with_kappa),
        ):
            if value is not None:
                rows.append({"label": label, "value": value, "low": None, "high": None})
    human = summary.human
    if human is not None and human.items:
        for label, value in (
            ("accuracy against human labels", human.accuracy),
            ("cohen kappa against human labels", human.cohen_kappa),
        ):
            if value is not None:
                rows.append({"label": label, "value": value, "low": None, "high": None})
    return rows


def _rubric(summary: FeedbackSummary) -> list[dict[str, Any]]:
    rows = []
    for dimension, report in list(summary.rubric.items())[:40]:
        found = _est(report.mean) or {}
        scale = report.scale if len(report.scale) == 2 else [1.0, 5.0]
        rows.append(
            {
                "label": shorten(dimension, 60),
                "n": report.scored,
                "mean": found.get("value"),
                "low": found.get("low"),
                "high": found.get("high"),
                "scale_low": scale[0],
                "scale_high": scale[1],
            }
        )
    return [row for row in rows if row["n"]]


def signal_name(signal: Any) -> str | None:
    """The name of an implicit signal given as a string or a dict."""
    if isinstance(signal, str):
        return signal
    if isinstance(signal, dict):
        for key in ("name", "signal", "type", "kind", "label"):
            if isinstance(signal.get(key), str):
                return str(signal[key])
    return None


def _signals(summary: FeedbackSummary) -> list[dict[str, Any]]:
    counts = Counter(
        {
            shorten(name, 60): n
            for name, n in (summary.implicit.signals if summary.implicit else {}).items()
            if n
        }
    )
    return [{"label": name, "n": n} for name, n in counts.most_common(30)]


def _other(summary: FeedbackSummary) -> list[dict[str, Any]]:
    """Estimates of the summary that no section shows, under their path."""
    rows: list[dict[str, Any]] = []

    def walk(node: Any, path: tuple[str, ...], depth: int) -> None:
        if any(path[: len(part)] == part for part in _SHOWN) or depth > 4:
            return
        found = estimate(node) if isinstance(node, dict) else None
        if found is not None and path:
            rows.append({"label": " · ".join(p.replace("_", " ") for p in path), **found})
            return
        if isinstance(node, dict):
            for key, value in list(node.items())[:200]:
                walk(value, (*path, str(key)), depth + 1)

    walk(summary.to_dict(), (), 0)
    return [clean(row, max_chars=200) for row in rows[:60]]
