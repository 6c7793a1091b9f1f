"""The realism table of a report, from ``fidelity.json``.

The file compares simulated users with real ones: an ``index`` (0–100) with the
``ceiling`` that two halves of the human data reach against each other, dimensions each
with a ``score`` (0–100) and features that have a ``simulated`` and a ``human`` value and
a ``similarity`` (0–1), per-dimension ceilings, distribution distances and counts.

Read tolerantly: the index may be called ``index``, ``overall`` or ``fidelity_index`` and
be a number or an Estimate-like dict; dimensions and features may be mappings (name →
entry) or lists of entries with a ``name``; values may be numbers, strings, lists or
small mappings. Scores given on a 0–1 scale are accepted too. Anything else is skipped.
"""

from __future__ import annotations

from typing import Any

from simulacra.report._safe import clean, estimate, number, shorten

_INDEX_KEYS = ("index", "overall", "fidelity_index")
_KNOWN = (
    *_INDEX_KEYS,
    "ceiling",
    "dimensions",
    "ceiling_dimensions",
    "distributions",
    "notes",
    "note",
    "n_conversations",
    "n_user_turns",
    "compare",
    "classifier",
    "human_corpus",
    "run",
    "splits",
    "seed",
)


def fidelity_section(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The normalised realism table, or ``None`` when there is nothing to show."""
    if not data:
        return None
    overall = _first_index(data)
    dimensions_in = data.get("dimensions")
    if dimensions_in is None:
        dimensions_in = {
            k: v for k, v in data.items() if k not in _KNOWN and isinstance(v, dict | list)
        }
    ceilings = _as_dict(data.get("ceiling_dimensions"))
    compare = _as_dict(data.get("compare"))
    compared = _scores(compare.get("dimensions"))
    dimensions = []
    for name, entry in _named(dimensions_in):
        dimension = _dimension(name, entry)
        if dimension is not None:
            dimension["ceiling"] = _percent(estimate(ceilings.get(name)))
            dimension["compare"] = compared.get(name)
            dimensions.append(dimension)
    if overall is None and not dimensions:
        return None
    notes = data.get("notes", data.get("note"))
    return {
        "overall": _percent(overall),
        "ceiling": _percent(_index(data.get("ceiling"))),
        "dimensions": dimensions,
        "distributions": _distributions(data.get("distributions")),
        "counts": _counts(data),
        "compare": {
            "run": shorten(str(compare.get("run", "")), 200),
            "index": _percent(_first_index(compare)),
        }
        if compare
        else None,
        "classifier": shorten(str(data["classifier"]), 300) if data.get("classifier") else None,
        "notes": [
            shorten(str(n), 500) for n in (notes if isinstance(notes, list) else [notes]) if n
        ],
    }


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first_index(data: dict[str, Any]) -> dict[str, Any] | None:
    for key in _INDEX_KEYS:
        found = _index(data.get(key))
        if found is not None:
            return found
    return None


def _index(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict) and "value" not in value:
        value = value.get("index", value.get("score"))
    return estimate(value)


def _named(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [(shorten(str(k), 80), v) for k, v in value.items()]
    if isinstance(value, list):
        result = []
        for position, entry in enumerate(value):
            if isinstance(entry, dict):
                name = entry.get("name", entry.get("feature", entry.get("dimension")))
                result.append((shorten(str(name if name is not None else position + 1), 80), entry))
        return result
    return []


def _scores(value: Any) -> dict[str, dict[str, Any] | None]:
    """Dimension name → score (0–1) of a compared run's dimensions."""
    result = {}
    for name, entry in _named(value):
        found = estimate(entry) or (
            estimate(entry.get("score")) if isinstance(entry, dict) else None
        )
        result[name] = _percent(found)
    return result


def _dimension(name: str, entry: Any) -> dict[str, Any] | None:
    if not isinstance(entry, dict | list):
        return None
    score = None
    features_in: Any = entry
    if isinstance(entry, dict):
        if "features" in entry:
            features_in = entry["features"]
        for key in ("score", "similarity", "index"):
            score = score or estimate(entry.get(key))
    features = []
    for feature_name, feature in _named(features_in):
        if not isinstance(feature, dict):
            continue
        if not any(k in feature for k in ("simulated", "human", "similarity")):
            continue
        features.append(
            {
                "name": feature_name,
                "simulated": clean(feature.get("simulated"), max_chars=200),
                "human": clean(feature.get("human"), max_chars=200),
                "similarity": _percent(estimate(feature.get("similarity"))),
                "metric": shorten(str(feature["metric"]), 60) if feature.get("metric") else None,
            }
        )
    if not features and score is None:
        return None
    return {"name": name, "score": _percent(score), "features": features}


def _percent(found: dict[str, Any] | None) -> dict[str, Any] | None:
    """A score on a 0–1 scale: values above 1 are read as percentages."""
    if found is None or found["value"] is None:
        return found
    value = number(found["value"])
    if value is not None and value > 1.0:
        return {
            **found,
            "value": value / 100,
            "low": None if found["low"] is None else found["low"] / 100,
            "high": None if found["high"] is None else found["high"] / 100,
        }
    return found


def _distributions(value: Any) -> list[dict[str, Any]]:
    rows = []
    for name, entry in _named(value):
        if not isinstance(entry, dict):
            continue
        numbers = {
            shorten(str(k), 40): number(v) for k, v in entry.items() if number(v) is not None
        }
        if numbers:
            rows.append({"name": name, "values": dict(list(numbers.items())[:8])})
    return rows[:20]


def _counts(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key in ("n_conversations", "n_user_turns"):
        entry = data.get(key)
        if isinstance(entry, dict):
            for side, count in entry.items():
                found = number(count)
                if found is not None:
                    rows.append({"label": f"{key[2:].replace('_', ' ')} ({side})", "value": found})
        elif number(entry) is not None:
            rows.append({"label": key[2:].replace("_", " "), "value": number(entry)})
    return rows
