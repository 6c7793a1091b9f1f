"""The feedback part of a report: win rates, bias diagnostics, rubric scores, signals.

Numbers come from ``feedback_summary.json`` when it has them. While a judge is still
running (no summary yet), the win rates and bias diagnostics are computed from the items
of ``feedback.jsonl`` with the judge's own functions, so they match what the summary will
say; items written by something else are read as they come, with :mod:`simulacra.stats`. Both files are read
tolerantly. The summary's entries are found by name at any depth (``position_bias`` or
``bias.position.first_position_win_rate`` alike), unknown kinds and fields of items are
kept for display and otherwise ignored, and any Estimate-like entry of the summary that
no section shows still appears, under its path, among the other diagnostics.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from simulacra.report._safe import clean, estimate, number, shorten
from simulacra.rundir import FeedbackRecord

PAIRWISE = "pairwise"
IMPLICIT = "implicit"

_WIN = ("win_rate",)
_LC = ("length_controlled_win_rate", "lc_win_rate", "length_controlled")
_POSITION = ("position_bias", "first_position_win_rate")
_SWAP = ("swap_consistency",)
_VERBOSITY = (
    "verbosity_bias",
    "longer_wins",
    "length_preference",
    "length_bias",
    "longer_wins_any_correctness",
)
_SELF = ("own_side_win_rate", "self_preference_rate")
_AGREEMENT = ("agreement", "inter_rater_agreement")
_COUNTS = {"A": ("wins_a",), "B": ("wins_b",), "tie": ("ties",)}
_BULKY = ("by_episode", "episode_share", "distribution", "by_item", "items_detail")
"""Summary entries that are per-episode or per-item detail, never walked."""

_MAX_CHILDREN = 200

LC_L2 = 0.01
"""Ridge penalty of the length-controlled fit computed here (keeps it finite when one
side wins every item)."""


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


def verdict(value: Any) -> str | None:
    """``A``, ``B`` or ``tie`` from a verdict field; ``None`` for anything else."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text in ("a", "b"):
        return text.upper()
    return "tie" if text in ("tie", "draw", "equal") else None


class _Lookup:
    """The entries of a feedback summary, found by name at any depth (shallowest first).

    Entries a section takes are marked as shown, with everything under them, so that
    :meth:`other` can list the Estimate-like entries that nothing else showed.
    """

    def __init__(self, summary: dict[str, Any]) -> None:
        self.entries: list[tuple[tuple[str, ...], Any]] = []
        self.shown: set[tuple[str, ...]] = set()
        level: list[tuple[tuple[str, ...], Any]] = [((), summary)]
        for _ in range(4):
            following = []
            for path, node in level:
                if not isinstance(node, dict) or estimate(node) is not None:
                    continue
                for key, value in list(node.items())[:_MAX_CHILDREN]:
                    if str(key) in _BULKY:
                        continue
                    entry = ((*path, str(key)), value)
                    self.entries.append(entry)
                    following.append(entry)
            level = following

    def _covered(self, path: tuple[str, ...]) -> bool:
        return any(path[:depth] in self.shown for depth in range(1, len(path) + 1))

    def take(self, names: tuple[str, ...]) -> Any:
        """The shallowest entry called by the first of ``names`` that has one."""
        for name in names:
            for path, value in self.entries:
                if path[-1] == name and value is not None and not self._covered(path):
                    self.shown.add(path)
                    return value
        return None

    def hide(self, names: tuple[str, ...]) -> None:
        """Mark every entry called one of ``names`` (and what is under it) as shown."""
        for path, _ in self.entries:
            if path[-1] in names:
                self.shown.add(path)

    def other(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for path, value in self.entries:
            if not isinstance(value, dict) or self._covered(path):
                continue
            found = estimate(value)
            if found is not None:
                rows.append({"label": " · ".join(p.replace("_", " ") for p in path), **found})
        return rows[:60]


def feedback_section(
    records: list[FeedbackRecord],
    summary: dict[str, Any] | None,
    resamples: int,
    targets: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    """Everything the feedback tab shows, or ``None`` when the run has no feedback."""
    items = [record.model_dump(mode="json", exclude_unset=True) for record in records]
    if not items and not summary:
        return None
    if not summary:
        summary = _diagnosed(items)
    lookup = _Lookup(summary or {})
    kinds = Counter(shorten(str(item.get("kind", "?")), 40) for item in items)
    # raters judge; the rules that read implicit signals off the users' turns do not
    raters = {
        str(item.get("rater"))
        for item in items
        if item.get("rater") is not None and item.get("kind") != IMPLICIT
    }
    pairwise = [item for item in items if item.get("kind") == PAIRWISE]
    section: dict[str, Any] = {
        "items": len(items),
        "kinds": dict(kinds.most_common()),
        "raters": len(raters),
        "wins": _wins(pairwise, summary or {}, lookup, resamples, targets or {}),
        "swap": _swap(pairwise, lookup, resamples),
        "bias": _bias(pairwise, lookup, resamples),
        "agreement": _agreement(lookup),
        "rubric": _rubric(items, resamples),
        "signals": _signals(items),
        "critiques": kinds.get("critique", 0),
    }
    # sections computed from the items themselves, and alternates of measures shown
    lookup.hide(("rubric", "implicit", "critique", *_VERBOSITY, *_POSITION))
    section["other"] = lookup.other()
    return section


def _diagnosed(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What ``simulacra judge`` would write in ``feedback_summary.json`` about the pairwise
    items (win rates per pairing, position and verbosity bias, agreement), computed with
    the judge's own functions, for a run whose judging has not finished. ``None`` when
    the items are not the judge's (no ``item_id``): they are then read as they come."""
    from simulacra.feedback import (
        agreement_report,
        position_report,
        verbosity_report,
        win_rates,
    )

    pairwise = [i for i in items if i.get("kind") == PAIRWISE]
    if not pairwise or not all(isinstance(i.get("item_id"), str) for i in pairwise):
        return None
    by_pairing: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in pairwise:  # grouped as _wins groups the items
        by_pairing[shorten(str(item.get("pairing") or ""), 60)].append(item)
    return {
        "pairwise": {name: win_rates(group) for name, group in sorted(by_pairing.items())},
        "bias": {
            "position": position_report(pairwise),
            "verbosity": verbosity_report(pairwise),
            "agreement": agreement_report(pairwise),
        },
    }


def _orders(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The presentation orders a pairwise item was judged in (``orders``, or the item)."""
    orders = item.get("orders")
    if isinstance(orders, list) and orders:
        return [o for o in orders if isinstance(o, dict)]
    return [
        {
            "verdict": item.get("raw_verdict", item.get("verdict")),
            "first_shown": item.get("first_shown"),
        }
    ]


def _valid_pairs(pairwise: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    return [(item, v) for item in pairwise if (v := verdict(item.get("verdict"))) is not None]


def _pairings(summary: dict[str, Any], lookup: _Lookup) -> dict[str, dict[str, Any]]:
    """Per-pairing win-rate blocks of a summary laid out as ``pairwise.<pairing>.win_rate``."""
    block = summary.get("pairwise")
    if not isinstance(block, dict) or estimate(block) is not None:
        return {}
    found = {
        str(name): entry
        for name, entry in block.items()
        if isinstance(entry, dict) and ("win_rate" in entry or "length_controlled" in entry)
    }
    if found:
        lookup.shown.add(("pairwise",))
    return found


def _wins(
    pairwise: list[dict[str, Any]],
    summary: dict[str, Any],
    lookup: _Lookup,
    resamples: int,
    targets: dict[str, str],
) -> list[dict[str, Any]]:
    """Win rates, one block per pairing of the items (``pairing``: how A and B were paired)."""
    given = _pairings(summary, lookup)
    by_pairing: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in pairwise:
        by_pairing[shorten(str(item.get("pairing") or ""), 60)].append(item)
    names = list(dict.fromkeys([*sorted(by_pairing), *given]))
    if not given and names in ([], [""]):
        # a flat summary: its win rates describe all the pairwise items together
        flat_lc = lookup.take(_LC)  # first: it holds a "win_rate" of its own
        flat = {"length_controlled": flat_lc, "win_rate": lookup.take(_WIN)}
        for side, keys in _COUNTS.items():
            flat[f"count_{side}"] = lookup.take(keys)
        block = _win_block("", pairwise, flat, resamples, targets)
        return [block] if block else []
    blocks = []
    for name in names[:12]:
        block = _win_block(name, by_pairing.get(name, []), given.get(name, {}), resamples, targets)
        if block:
            blocks.append(block)
    return blocks


def _win_block(
    name: str,
    pairwise: list[dict[str, Any]],
    given: dict[str, Any],
    resamples: int,
    targets: dict[str, str],
) -> dict[str, Any] | None:
    from simulacra.stats import length_controlled_win_rate, win_rate

    valid = _valid_pairs(pairwise)
    given_raw = given.get("win_rate")
    overall = estimate(given_raw)
    if overall is None and isinstance(given_raw, dict):
        overall = estimate(given_raw.get("win_rate"))
    lc = _lc_from(given.get("length_controlled"))
    if not valid and overall is None and lc is None:
        return None
    verdicts = [v for _, v in valid]
    source = "summary"
    if overall is None and verdicts:
        overall = estimate(win_rate(verdicts, resamples=resamples).to_dict())
        source = "feedback"
    if lc is None:
        lengths = [(number(i.get("len_a")), number(i.get("len_b"))) for i, _ in valid]
        if len(lengths) >= 3 and all(a is not None and b is not None for a, b in lengths):
            fit = length_controlled_win_rate(
                verdicts,
                [a for a, _ in lengths],
                [b for _, b in lengths],
                l2=LC_L2,
                resamples=resamples,
            )
            lc = _lc_from(fit.to_dict())
    by_rater: list[dict[str, Any]] = []
    groups: dict[str, list[str]] = defaultdict(list)
    for item, v in valid:
        groups[shorten(str(item.get("rater", "?")), 60)].append(v)
    if len(groups) > 1:
        for rater, found in sorted(groups.items())[:30]:
            result = estimate(win_rate(found, resamples=resamples).to_dict()) or {}
            by_rater.append({"label": rater, **result, "n": len(found)})
    counts = dict(Counter(verdicts))
    if not counts:
        for side, keys in _COUNTS.items():
            value = number(given.get(f"count_{side}", given.get(keys[0])))
            if value is not None:
                counts[side] = int(value)
    label_a = _side_label(pairwise, "episode_a", targets)
    label_b = _side_label(pairwise, "episode_b", targets)
    if not label_a or not label_b or label_a == label_b:
        label_a, label_b = "A", "B"
    return {
        "pairing": name,
        "overall": overall,
        "lc": lc,
        "by_rater": by_rater,
        "verdicts": counts,
        "label_a": label_a,
        "label_b": label_b,
        "source": source,
    }


def _lc_from(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict) and isinstance(value.get("win_rate"), dict | int | float):
        win = estimate(value["win_rate"])
        if win is None:
            return None
        lc: dict[str, Any] = {
            "win_rate": win,
            "raw_win_rate": number(value.get("raw_win_rate")),
            "slope": estimate(value.get("beta1")),
        }
        warning = value.get("warning")
        if isinstance(warning, str) and warning:  # the estimate extrapolates
            lc["warning"] = shorten(warning, 400)
        return lc
    win = estimate(value)
    return None if win is None else {"win_rate": win, "raw_win_rate": None, "slope": None}


def _side_label(pairwise: list[dict[str, Any]], key: str, targets: dict[str, str]) -> str | None:
    names = Counter(targets[str(i[key])] for i in pairwise if str(i.get(key)) in targets)
    return shorten(names.most_common(1)[0][0], 60) if names else None


def _bias(pairwise: list[dict[str, Any]], lookup: _Lookup, resamples: int) -> list[dict[str, Any]]:
    from simulacra.stats import length_preference, position_bias

    valid = _valid_pairs(pairwise)
    result = []
    position = estimate(lookup.take(_POSITION))
    if position is None:
        shown = [
            (v, f)
            for item in pairwise
            for order in _orders(item)
            if (v := verdict(order.get("verdict")))
            and (f := verdict(order.get("first_shown"))) in ("A", "B")
        ]
        if len(shown) >= 2:
            found = position_bias(
                [v for v, _ in shown], [f or "" for _, f in shown], resamples=resamples
            )
            position = estimate(found.to_dict())
    if position is not None:
        result.append(
            {
                "key": "position_bias",
                "label": "Position bias",
                "note": "share of wins going to the response shown first (0.5 = none)",
                "reference": 0.5,
                **position,
            }
        )
    verbosity = estimate(lookup.take(_VERBOSITY))
    if verbosity is None:
        lengths = [
            (v, a, b)
            for i, v in valid
            if (a := number(i.get("len_a"))) is not None
            and (b := number(i.get("len_b"))) is not None
        ]
        if sum(1 for _, a, b in lengths if a != b) >= 2:
            found = length_preference(
                [v for v, _, _ in lengths],
                [a for _, a, _ in lengths],
                [b for _, _, b in lengths],
                resamples=resamples,
            )
            verbosity = estimate(found.to_dict())
    if verbosity is not None:
        result.append(
            {
                "key": "verbosity_bias",
                "label": "Verbosity bias",
                "note": "share of wins going to the longer response (0.5 = none)",
                "reference": 0.5,
                **verbosity,
            }
        )
    own = estimate(lookup.take(_SELF))
    if own is not None:
        result.append(
            {
                "key": "self_preference",
                "label": "Self-preference",
                "note": "how often a rater prefers the side made by its own model (0.5 = none)",
                "reference": 0.5,
                **own,
            }
        )
    return result


def _swap(pairwise: list[dict[str, Any]], lookup: _Lookup, resamples: int) -> dict[str, Any] | None:
    from simulacra.stats import swap_consistency

    given = lookup.take(_SWAP)
    if isinstance(given, dict) and isinstance(given.get("consistency"), dict):
        found = estimate(given["consistency"])
        if found is not None:
            return {
                "consistency": found,
                "first_position": number(given.get("first_position")),
                "second_position": number(given.get("second_position")),
                "other": number(given.get("other")),
                "n": number(given.get("n")),
            }
    found = estimate(given)
    if found is not None:
        return {"consistency": found}
    orders: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for number_, item in enumerate(pairwise):
        key = (str(item.get("item_id", number_)), str(item.get("rater")))
        for order in _orders(item):
            first, v = verdict(order.get("first_shown")), verdict(order.get("verdict"))
            if first in ("A", "B") and v is not None:
                orders[key][first or ""] = v
    both = [(o["A"], o["B"]) for o in orders.values() if "A" in o and "B" in o]
    if not both:
        return None
    data = swap_consistency(
        [a for a, _ in both], [b for _, b in both], resamples=resamples
    ).to_dict()
    return {
        "consistency": estimate(data["consistency"]),
        "first_position": number(data.get("first_position")),
        "second_position": number(data.get("second_position")),
        "other": number(data.get("other")),
        "n": len(both),
    }


def _agreement(lookup: _Lookup) -> list[dict[str, Any]]:
    block = lookup.take(_AGREEMENT)
    if isinstance(block, dict) and block.get("items") == 0:
        return []  # no item was judged by two raters: nothing to agree on
    rows: list[dict[str, Any]] = []
    _flatten(block, "", rows, depth=0)
    return rows


def _flatten(value: Any, label: str, rows: list[dict[str, Any]], *, depth: int) -> None:
    found = estimate(value)
    if found is not None:
        rows.append({"label": label or "agreement", **found})
        return
    if isinstance(value, dict) and depth < 3:
        for key, inner in list(value.items())[:_MAX_CHILDREN]:
            name = str(key).replace("_", " ")
            _flatten(inner, f"{label} · {name}" if label else name, rows, depth=depth + 1)


def _scale_bounds(scale: Any) -> tuple[float, float] | None:
    if isinstance(scale, list | tuple) and len(scale) == 2:
        low, high = number(scale[0]), number(scale[1])
        if low is not None and high is not None and high > low:
            return low, high
    value = number(scale)
    if value is not None and value > 0:
        return (1.0 if value > 1 else 0.0), value
    if isinstance(scale, dict):
        low, high = number(scale.get("min")), number(scale.get("max"))
        if low is not None and high is not None and high > low:
            return low, high
    return None


def _rubric(items: list[dict[str, Any]], resamples: int) -> list[dict[str, Any]]:
    from simulacra.stats import bootstrap

    scores: dict[str, list[float]] = defaultdict(list)
    scales: dict[str, Any] = {}
    for item in items:
        if item.get("kind") != "rubric":
            continue
        score = number(item.get("score"))
        if score is None:
            continue
        dimension = shorten(str(item.get("dimension") or "overall"), 60)
        scores[dimension].append(score)
        scales.setdefault(dimension, item.get("scale"))
    rows = []
    for dimension, values in sorted(scores.items())[:40]:
        found = estimate(bootstrap(values, resamples=resamples).to_dict()) or {}
        bounds = _scale_bounds(scales.get(dimension))
        rows.append(
            {
                "label": dimension,
                "n": len(values),
                "mean": found.get("value"),
                "low": found.get("low"),
                "high": found.get("high"),
                "scale_low": bounds[0] if bounds else None,
                "scale_high": bounds[1] if bounds else None,
            }
        )
    return rows


def signal_name(signal: Any) -> str | None:
    """The name of an implicit signal given as a string or a dict."""
    if isinstance(signal, str):
        return signal
    if isinstance(signal, dict):
        for key in ("name", "signal", "type", "kind", "label"):
            if isinstance(signal.get(key), str):
                return str(signal[key])
    return None


def _signals(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter()
    for item in items:
        if item.get("kind") != IMPLICIT:
            continue
        signals = item.get("signals")
        for signal in signals if isinstance(signals, list) else []:
            name = signal_name(signal)
            if name:
                counts[shorten(name, 60)] += 1
    return [{"label": name, "n": n} for name, n in counts.most_common(30)]
