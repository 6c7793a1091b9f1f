"""The realism tab of a report, laid out from ``fidelity.json`` (a
:class:`~simulacra.rundir.Fidelity`).

The file compares a run's simulated users with real ones: an ``index`` (0–100) with the
``ceiling`` two halves of the human data reach against each other, dimensions each with
a score and features with a ``simulated`` and a ``human`` value and their similarity
(0–1), bootstrap intervals over the run's conversations, the ceiling at the run's size
(samples of as many real conversations against the rest, per feature too), distribution
distances, the commonest turn openers, and counts. Scores are shown on a 0–1 scale.
"""

from __future__ import annotations

from typing import Any

from simulacra.report._safe import number, shorten
from simulacra.rundir import Fidelity, Interval


def fidelity_section(data: Fidelity | None) -> dict[str, Any] | None:
    """The realism tab's content, or ``None`` when there is nothing to show."""
    if data is None or (data.index is None and not data.dimensions):
        return None
    intervals = data.intervals
    compare = data.compare
    sized = data.ceiling_at_size
    dimensions = []
    for name, dimension in list(data.dimensions.items())[:40]:
        theirs = compare.dimensions.get(name) if compare else None
        dimensions.append(
            {
                "name": shorten(name, 80),
                "score": _score(
                    dimension.score, intervals.dimensions.get(name) if intervals else None
                ),
                "ceiling": _score(data.ceiling_dimensions.get(name)),
                "compare": _score(theirs.score) if theirs else None,
                "features": [
                    {
                        "name": shorten(feature, 80),
                        "simulated": feature_data.simulated,
                        "human": feature_data.human,
                        "similarity": _score(
                            None if feature_data.similarity is None else feature_data.similarity,
                            intervals.similarity.get(feature) if intervals else None,
                            scale=1.0,
                        ),
                        "metric": None,
                        "at_size": _score(sized.features.get(feature), scale=1.0)
                        if sized
                        else None,
                    }
                    for feature, feature_data in list(dimension.features.items())[:40]
                ],
            }
        )
    return {
        "overall": _score(data.index, intervals.index if intervals else None),
        "ceiling": _score(data.ceiling),
        "ceiling_at_size": {"size": sized.size, "index": _score(sized.index)} if sized else None,
        "dimensions": dimensions,
        "distributions": [
            {
                "name": shorten(name, 80),
                "values": {
                    key: value
                    for key, value in distribution.model_dump(mode="json").items()
                    if number(value) is not None
                },
            }
            for name, distribution in list(data.distributions.items())[:20]
        ],
        "counts": _counts(data),
        "openers": _openers(data),
        "compare": {"run": shorten(compare.run, 200), "index": _score(compare.index)}
        if compare
        else None,
        "classifier": shorten(data.classifier, 300) if data.classifier else None,
        "notes": [shorten(note, 500) for note in data.notes[:20] if note],
    }


def _score(
    value: float | None, interval: Interval | None = None, *, scale: float = 100.0
) -> dict[str, Any] | None:
    """A score (on ``scale``) as an estimate on 0–1, with its interval when there is one."""
    if value is None:
        return None
    low = high = None
    if interval is not None and len(interval) == 2 and None not in interval:
        low, high = (float(v) / scale for v in interval if v is not None)
    return {"value": value / scale, "low": low, "high": high}


def _openers(data: Fidelity) -> dict[str, Any] | None:
    """The commonest openers of the run's user turns and the stock phrases' shares."""
    openers = data.openers
    if openers is None or not (openers.top or openers.canned):
        return None
    return {
        "top": [{"label": shorten(text, 80), "share": share} for text, share in openers.top[:10]],
        "canned": [
            {"label": shorten(text, 80), "share": share}
            for text, share in sorted(openers.canned.items(), key=lambda kv: -kv[1])[:10]
        ],
    }


def _counts(data: Fidelity) -> list[dict[str, Any]]:
    rows = []
    for label, counts in (
        ("conversations", data.n_conversations),
        ("user turns", data.n_user_turns),
    ):
        if counts is None:
            continue
        for side in ("simulated", "human"):
            rows.append({"label": f"{label} ({side})", "value": getattr(counts, side)})
    return rows
