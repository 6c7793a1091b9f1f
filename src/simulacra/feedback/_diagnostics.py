"""Win rates and bias diagnostics computed from pairwise records (``feedback.jsonl`` lines).

Pure functions over plain dicts; the statistics are those of :mod:`simulacra.stats`.
Bias diagnostics describe the raters themselves, so they use each rater's verdict
*before* label noise (``raw_verdict``, and per presentation order for position bias);
win rates and agreement use the verdicts the crowd finally gives (``verdict``).

- win rate: per item, the mean over its judgements (A = 1, tie = ½, B = 0) rounded to a
  verdict; the share of items A wins (ties half), with a bootstrap CI over items,
- length-controlled win rate: ``stats.length_controlled_win_rate`` on those verdicts,
- position bias: share of wins going to the response shown first (``stats.position_bias``),
  and swap consistency where both orders were judged (``stats.swap_consistency``),
- verbosity bias: share of wins going to the longer response among pairs whose two
  sides are equally correct (``stats.length_preference``), and the logistic length
  coefficient ``β1`` of the length-controlled fit,
- self-preference: how often a rater that runs on the same model as one side's system
  prefers that side, against the other raters' verdicts on the same items,
- agreement: Krippendorff's alpha, percentage agreement and mean pairwise Cohen's kappa
  over items judged by more than one rater.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

from simulacra.stats import VERDICT_SCORE


def majority(scores: Sequence[float]) -> str:
    """Several verdicts' scores combined: their mean rounded to a verdict."""
    mean = sum(scores) / len(scores)
    return "A" if mean > 0.5 else "B" if mean < 0.5 else "tie"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def pairwise_records(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in records if r.get("kind") == "pairwise"]


def item_verdicts(records: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per item: the crowd's verdict (mean score rounded), lengths and judgement count."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for record in pairwise_records(records):
        if record.get("verdict") in VERDICT_SCORE:
            groups[str(record["item_id"])].append(record)
    items: dict[str, dict[str, Any]] = {}
    for item_id, group in groups.items():
        scores = [VERDICT_SCORE[r["verdict"]] for r in group]
        mean = sum(scores) / len(scores)
        verdict = majority(scores)
        first = group[0]
        items[item_id] = {
            "verdict": verdict,
            "score": mean,
            "judgements": len(group),
            "len_a": int(first.get("len_a", 0)),
            "len_b": int(first.get("len_b", 0)),
            "correct_a": first.get("correct_a"),
            "correct_b": first.get("correct_b"),
        }
    return items


def win_rates(records: Sequence[Mapping[str, Any]], *, seed: int = 0) -> dict[str, Any]:
    """Win rate of A and the length-controlled win rate, over items (abstentions left out)."""
    from simulacra.stats import length_controlled_win_rate, win_rate

    items = item_verdicts(records)
    judged = len(pairwise_records(records))
    abstained = sum(1 for r in pairwise_records(records) if r.get("verdict") is None)
    if not items:
        return {
            "items": 0,
            "judged": judged,
            "abstained": abstained,
            "win_rate": None,
            "length_controlled": None,
        }
    verdicts = [v["verdict"] for v in items.values()]
    len_a = [v["len_a"] for v in items.values()]
    len_b = [v["len_b"] for v in items.values()]
    lc = length_controlled_win_rate(verdicts, len_a, len_b, l2=1e-3, seed=seed)
    result: dict[str, Any] = {
        "items": len(items),
        "judged": judged,
        "abstained": abstained,
        "wins_a": verdicts.count("A"),
        "wins_b": verdicts.count("B"),
        "ties": verdicts.count("tie"),
        "win_rate": win_rate(verdicts, seed=seed).to_dict(),
        "length_controlled": lc.to_dict(),
    }
    by_rater: dict[str, list[str]] = defaultdict(list)
    for record in pairwise_records(records):
        if record.get("verdict") in VERDICT_SCORE:
            by_rater[str(record.get("rater", "?"))].append(str(record["verdict"]))
    if len(by_rater) > 1:
        result["by_rater"] = [
            {"rater": rater, "win_rate": win_rate(found, seed=seed).to_dict()}
            for rater, found in sorted(by_rater.items())
        ]
    return result


def position_report(records: Sequence[Mapping[str, Any]], *, seed: int = 0) -> dict[str, Any]:
    """Position bias over every judged order, and swap consistency where both were judged."""
    from simulacra.stats import position_bias, swap_consistency

    verdicts: list[str] = []
    first: list[str] = []
    ab: list[str] = []
    ba: list[str] = []
    for record in pairwise_records(records):
        orders = record.get("orders") or [
            {
                "verdict": record.get("raw_verdict", record.get("verdict")),
                "first_shown": record.get("first_shown"),
            }
        ]
        for order in orders:
            if order.get("verdict") in VERDICT_SCORE and order.get("first_shown") in ("A", "B"):
                verdicts.append(order["verdict"])
                first.append(order["first_shown"])
        if len(orders) == 2 and all(o.get("verdict") in VERDICT_SCORE for o in orders):
            by_first = {o["first_shown"]: o["verdict"] for o in orders}
            if set(by_first) == {"A", "B"}:
                ab.append(by_first["A"])
                ba.append(by_first["B"])
    shown_first_a = first.count("A")
    report: dict[str, Any] = {
        "judged_orders": len(verdicts),
        "shown_first_a": shown_first_a,
        "first_position_win_rate": position_bias(verdicts, first, seed=seed).to_dict()
        if verdicts
        else None,
        "swap_consistency": swap_consistency(ab, ba, seed=seed).to_dict() if ab else None,
    }
    return report


def verbosity_report(records: Sequence[Mapping[str, Any]], *, seed: int = 0) -> dict[str, Any]:
    """Preference for the longer response at equal correctness, and the length coefficient."""
    from simulacra.stats import length_controlled_win_rate, length_preference

    rows = [
        r
        for r in pairwise_records(records)
        if r.get("raw_verdict", r.get("verdict")) in VERDICT_SCORE
    ]
    if not rows:
        return {
            "pairs": 0,
            "longer_wins": None,
            "longer_wins_any_correctness": None,
            "length_coefficient": None,
        }
    verdicts = [r.get("raw_verdict", r.get("verdict")) for r in rows]
    len_a = [int(r.get("len_a", 0)) for r in rows]
    len_b = [int(r.get("len_b", 0)) for r in rows]
    known = [
        i
        for i, r in enumerate(rows)
        if isinstance(r.get("correct_a"), bool) and isinstance(r.get("correct_b"), bool)
    ]
    equal_correctness = None
    if known:
        equal_correctness = length_preference(
            [verdicts[i] for i in known],
            [len_a[i] for i in known],
            [len_b[i] for i in known],
            correct_a=[rows[i]["correct_a"] for i in known],
            correct_b=[rows[i]["correct_b"] for i in known],
            seed=seed,
        ).to_dict()
    fit = length_controlled_win_rate(verdicts, len_a, len_b, l2=1e-3, seed=seed)
    return {
        "pairs": len(rows),
        "pairs_with_correctness": len(known),
        "longer_wins": equal_correctness,
        "longer_wins_any_correctness": length_preference(
            verdicts, len_a, len_b, seed=seed
        ).to_dict(),
        "length_coefficient": fit.beta1.to_dict(),
    }


def self_preference_report(
    records: Sequence[Mapping[str, Any]],
    *,
    rater_models: Mapping[str, str | None],
    side_models: Mapping[str, tuple[str | None, str | None]],
    seed: int = 0,
) -> dict[str, Any]:
    """Do raters favour the side produced by their own model?

    ``rater_models`` maps rater id → model identity; ``side_models`` maps item id →
    (identity of A's system, identity of B's). For every judgement by a rater that shares
    the model of exactly one side, that side's score (win 1, tie ½, loss 0) is collected;
    the same side's score from raters that share neither side is the baseline. The
    difference is the self-preference estimate (None without a baseline).
    """
    from simulacra.stats import bootstrap

    own: list[float] = []
    baseline: list[float] = []
    sharing: set[str] = set()
    items_with_own: dict[str, str] = {}
    rows = [
        r
        for r in pairwise_records(records)
        if r.get("raw_verdict", r.get("verdict")) in VERDICT_SCORE
    ]
    for record in rows:
        identity = rater_models.get(str(record.get("rater")))
        sides = side_models.get(str(record["item_id"]), (None, None))
        matches = [
            side for side, model in zip("AB", sides, strict=True) if identity and model == identity
        ]
        if identity and any(model == identity for model in sides):
            sharing.add(str(record["rater"]))
        if len(matches) == 1:
            items_with_own[str(record["item_id"])] = matches[0]
            verdict = record.get("raw_verdict", record.get("verdict"))
            score = VERDICT_SCORE[verdict]
            own.append(score if matches[0] == "A" else 1.0 - score)
    for record in rows:
        item = str(record["item_id"])
        identity = rater_models.get(str(record.get("rater")))
        sides = side_models.get(item, (None, None))
        if item in items_with_own and not (identity and identity in sides):
            verdict = record.get("raw_verdict", record.get("verdict"))
            score = VERDICT_SCORE[verdict]
            baseline.append(score if items_with_own[item] == "A" else 1.0 - score)
    own_rate = bootstrap(own, seed=seed).to_dict() if own else None
    baseline_rate = sum(baseline) / len(baseline) if baseline else None
    difference = sum(own) / len(own) - baseline_rate if own and baseline_rate is not None else None
    if not sharing:
        note = "no rater shares a model with the systems compared"
    elif not own:
        note = "raters share the model of both sides, so self-preference cannot be told apart"
    elif baseline_rate is None:
        note = "no rater on another model judged the same items: own-side win rate only"
    else:
        note = "own-side win rate minus other raters' rate for the same side"
    return {
        "raters_sharing_a_model": sorted(sharing),
        "judgements": len(own),
        "own_side_win_rate": own_rate,
        "other_raters_same_side": _clean(baseline_rate),
        "difference": _clean(difference),
        "note": note,
    }


def agreement_report(
    records: Sequence[Mapping[str, Any]], *, field: str = "verdict"
) -> dict[str, Any]:
    """Agreement among raters on items judged by more than one (nominal A/B/tie labels)."""
    from simulacra.stats import cohen_kappa, krippendorff_alpha, percent_agreement

    labels: dict[str, dict[str, str]] = defaultdict(dict)
    for record in pairwise_records(records):
        verdict = record.get(field, record.get("verdict"))
        if verdict in VERDICT_SCORE:
            labels[str(record["item_id"])][str(record["rater"])] = verdict
    shared = {item: by for item, by in labels.items() if len(by) >= 2}
    if not shared:
        return {"items": 0, "note": "no item was judged by two raters (set judges_per_item: 2)"}
    raters = sorted({r for by in shared.values() for r in by})
    items = sorted(shared)
    matrix = [[shared[item].get(rater) for item in items] for rater in raters]
    kappas = []
    for left, right in combinations(range(len(raters)), 2):
        both = [(a, b) for a, b in zip(matrix[left], matrix[right], strict=True) if a and b]
        if len(both) >= 2:
            kappa = cohen_kappa([a for a, _ in both], [b for _, b in both])
            if math.isfinite(kappa):
                kappas.append(kappa)
    return {
        "items": len(items),
        "raters": len(raters),
        "judgements": sum(len(by) for by in shared.values()),
        "krippendorff_alpha": _clean(krippendorff_alpha(matrix)),
        "percent_agreement": _clean(percent_agreement(matrix)),
        "mean_cohen_kappa": _clean(sum(kappas) / len(kappas)) if kappas else None,
        "rater_pairs_with_kappa": len(kappas),
    }


def human_report(records: Sequence[Mapping[str, Any]], labels: Mapping[str, str]) -> dict[str, Any]:
    """Agreement of the crowd's item verdicts with human verdicts on the same items."""
    from simulacra.stats import cohen_kappa

    items = item_verdicts(records)
    both = [(items[i]["verdict"], labels[i]) for i in sorted(labels) if i in items]
    if not both:
        return {"items": 0, "labelled": len(labels)}
    synthetic = [a for a, _ in both]
    human = [b for _, b in both]
    return {
        "items": len(both),
        "labelled": len(labels),
        "accuracy": sum(a == b for a, b in both) / len(both),
        "cohen_kappa": _clean(cohen_kappa(synthetic, human)),
    }


def bias_report(
    records: Sequence[Mapping[str, Any]],
    *,
    rater_models: Mapping[str, str | None],
    side_models: Mapping[str, tuple[str | None, str | None]],
    seed: int = 0,
) -> dict[str, Any]:
    """All bias diagnostics of a set of pairwise records."""
    return {
        "position": position_report(records, seed=seed),
        "verbosity": verbosity_report(records, seed=seed),
        "self_preference": self_preference_report(
            records, rater_models=rater_models, side_models=side_models, seed=seed
        ),
        "agreement": agreement_report(records),
        "agreement_before_noise": agreement_report(records, field="raw_verdict"),
    }


def rubric_report(records: Sequence[Mapping[str, Any]], *, seed: int = 0) -> dict[str, Any]:
    """Mean score per dimension (bootstrap CI over items) and abstentions."""
    from simulacra.stats import bootstrap

    scores: dict[str, list[float]] = defaultdict(list)
    abstained: dict[str, int] = defaultdict(int)
    scales: dict[str, list[float]] = {}
    for record in records:
        if record.get("kind") != "rubric":
            continue
        dimension = str(record.get("dimension"))
        score = record.get("score")
        if isinstance(score, int | float) and not isinstance(score, bool):
            scores[dimension].append(float(score))
        else:
            abstained[dimension] += 1
        scale = record.get("scale")
        if isinstance(scale, list) and len(scale) == 2 and dimension not in scales:
            scales[dimension] = [float(v) for v in scale]
    report: dict[str, Any] = {}
    for dimension in sorted(set(scores) | set(abstained)):
        low, high = scales.get(dimension, [1.0, 5.0])
        report[dimension] = {
            "mean": bootstrap(scores[dimension], seed=seed).to_dict()
            if scores[dimension]
            else None,
            "scored": len(scores[dimension]),
            "abstained": abstained[dimension],
            "distribution": {
                str(k): scores[dimension].count(float(k)) for k in range(int(low), int(high) + 1)
            },
        }
        if dimension in scales:
            report[dimension]["scale"] = scales[dimension]
    return report


def implicit_report(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Signal counts, and the share of episodes that show each signal at least once."""
    from simulacra.feedback._implicit import SIGNALS

    per_episode: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, int] = dict.fromkeys(SIGNALS, 0)
    turns = 0
    for record in records:
        if record.get("kind") != "implicit":
            continue
        turns += 1
        episode = str(record.get("episode") or record.get("item_id"))
        per_episode.setdefault(episode, set())
        for signal in record.get("signals") or []:
            counts[signal] = counts.get(signal, 0) + 1
            per_episode[episode].add(signal)
    episodes = len(per_episode)
    return {
        "episodes": episodes,
        "user_turns": turns,
        "signals": counts,
        "episode_share": {
            s: (sum(s in found for found in per_episode.values()) / episodes if episodes else None)
            for s in SIGNALS
        },
        "by_episode": {e: sorted(found) for e, found in sorted(per_episode.items())},
    }


# --- judged tasks -------------------------------------------------------------------------


def _criterion_labels(judgement: Mapping[str, Any]) -> list[bool | None]:
    return [c.get("met") for c in judgement.get("criteria") or []]


def checklist_report(
    judgements: Sequence[Mapping[str, Any]],
    second: Sequence[Mapping[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """Diagnostics of a judge of judged tasks, from its judgement records (as dicts).

    - verdicts: pass, fail and abstain counts,
    - position and length: :func:`simulacra.rundir.judge_figures`, the figures a run's
      summary keeps under ``judged`` (the share of must-haves called met by where they
      were shown, the agreement of two orders; the pass rate of the longer half of the
      judged texts against the shorter half),
    - agreement (with ``second``, the same episodes judged by another configuration, in
      the same order; None where it did not judge): on episode verdicts (pass/fail,
      both decided) and on each must-have (both answered), percentage and Cohen's kappa.
    """
    from simulacra.rundir import judge_figures
    from simulacra.stats import cohen_kappa

    verdicts = [str(j.get("verdict")) for j in judgements]
    report: dict[str, Any] = {
        "episodes": len(judgements),
        "passed": verdicts.count("pass"),
        "failed": verdicts.count("fail"),
        "abstained": verdicts.count("abstain"),
        **judge_figures(judgements),
    }
    if second is not None:
        report["agreement"] = _checklist_agreement(judgements, second, cohen_kappa)
    return report


def _checklist_agreement(
    first: Sequence[Mapping[str, Any]],
    second: Sequence[Mapping[str, Any] | None],
    kappa: Any,
) -> dict[str, Any]:
    episodes: list[tuple[str, str]] = []
    items: list[tuple[bool, bool]] = []
    both_abstained = 0
    for left, right in zip(first, second, strict=True):
        if right is None:
            continue
        a, b = left.get("verdict"), right.get("verdict")
        if a in ("pass", "fail") and b in ("pass", "fail"):
            episodes.append((str(a), str(b)))
        elif a == b == "abstain":
            both_abstained += 1
        for x, y in zip(_criterion_labels(left), _criterion_labels(right), strict=False):
            if isinstance(x, bool) and isinstance(y, bool):
                items.append((x, y))

    def stats(pairs: Sequence[tuple[Any, Any]]) -> dict[str, Any]:
        if not pairs:
            return {"n": 0, "agreement": None, "cohen_kappa": None}
        value = kappa([a for a, _ in pairs], [b for _, b in pairs]) if len(pairs) >= 2 else None
        return {
            "n": len(pairs),
            "agreement": sum(a == b for a, b in pairs) / len(pairs),
            "cohen_kappa": _clean(value),
        }

    return {
        "verdicts": stats(episodes),
        "must_haves": stats(items),
        "both_abstained": both_abstained,
    }
