"""Success broken down by persona and task attributes: part of what a summary computes.

A breakdown splits the scored episodes by one attribute (a persona's expertise,
patience, verbosity, Big Five traits, ...; a task's suite, id, mode, target) and gives
the success rate of each group with its 95% interval (resampling tasks when a group
spans several). Only attributes that split the episodes into two groups or more are
kept. ``summarize`` writes them to ``summary.json``; the report lays them out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from simulacra.rundir._models import Episode

BREAKDOWN_LIMIT = 200
"""Groups beyond this many in one breakdown get no interval (it would cost too much)."""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _short(text: str, max_chars: int = 80) -> str:
    return (
        text
        if len(text) <= max_chars
        else f"{text[:max_chars]}… [{len(text) - max_chars:,} more characters]"
    )


Grouper = Callable[[dict[str, Any]], list[str]]


def scored_records(episodes: Iterable[Episode]) -> list[dict[str, Any]]:
    """Scored, finished episodes as plain records for the breakdowns and pass^k."""
    records = []
    for episode in episodes:
        if episode.status == "error":
            continue
        score = episode.score
        if score is None or not 0.0 <= score <= 1.0:
            if episode.success is None:
                continue
            score = float(episode.success)
        records.append(
            {
                "score": score,
                "task": episode.task.id,
                "persona": episode.persona.model_dump(mode="json"),
                "episode": episode.model_dump(mode="json", include=_EPISODE_FIELDS),
            }
        )
    return records


_EPISODE_FIELDS = {"task", "mode", "target"}


def _level(value: Any, names: tuple[str, str, str], cuts: tuple[float, float]) -> list[str]:
    x = _number(value)
    if x is None:
        return []
    if x < cuts[0]:
        return [names[0]]
    return [names[1]] if x < cuts[1] else [names[2]]


def _persona_field(path: str) -> Callable[[dict[str, Any]], Any]:
    def get(record: dict[str, Any]) -> Any:
        node: Any = record["persona"]
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node

    return get


def _patience(record: dict[str, Any]) -> list[str]:
    x = _number(record["persona"].get("patience"))
    if x is None:
        return []
    if x <= 1:
        return ["0–1 (impatient)"]
    if x <= 3:
        return ["2–3"]
    return ["4–6"] if x <= 6 else ["7+ (patient)"]


def _typos(record: dict[str, Any]) -> list[str]:
    x = _number(record["persona"].get("typo_rate"))
    if x is None:
        return []
    if x < 0.01:
        return ["none (<1%)"]
    return ["some (1–5%)"] if x < 0.05 else ["many (≥5%)"]


def _category(get: Callable[[dict[str, Any]], Any]) -> Grouper:
    def group(record: dict[str, Any]) -> list[str]:
        value = get(record)
        if isinstance(value, list):
            return [_short(str(v), 80) for v in value if v is not None]
        if value is None or value == "":
            return []
        return [_short(str(value), 80)]

    return group


def _leveled(path: str, names: tuple[str, str, str]) -> Grouper:
    get = _persona_field(path)
    return lambda record: _level(get(record), names, (1 / 3, 2 / 3))


def _persona_label(record: dict[str, Any]) -> list[str]:
    persona = record["persona"]
    name = _str(persona.get("name"))
    shown = _str(persona.get("display_name"))
    label = f"{shown} ({name})" if shown and name and shown != name else (name or shown)
    return [_short(label, 80)] if label else []


def _episode_field(key: str, nested: str | None = None) -> Grouper:
    def get(record: dict[str, Any]) -> Any:
        value = record["episode"].get(key)
        if nested is not None:
            value = _mapping(value).get(nested)
        return value

    return _category(get)


_LOW_MID_HIGH = ("low", "medium", "high")

PERSONA_ATTRIBUTES: list[tuple[str, str, Grouper, tuple[str, ...] | None]] = [
    ("persona", "persona", _persona_label, None),
    ("expertise", "expertise", _category(_persona_field("expertise")), ("novice", "intermediate", "expert")),
    ("patience", "patience", _patience, ("0–1 (impatient)", "2–3", "4–6", "7+ (patient)")),
    ("verbosity", "verbosity", _leveled("verbosity", ("terse", "moderate", "verbose")), ("terse", "moderate", "verbose")),
    ("cooperativeness", "cooperativeness", _leveled("cooperativeness", _LOW_MID_HIGH), _LOW_MID_HIGH),
    ("typo_rate", "typo rate", _typos, ("none (<1%)", "some (1–5%)", "many (≥5%)")),
    ("language", "language", _category(_persona_field("language")), None),
    ("tags", "tag", _category(_persona_field("tags")), None),
    *[
        (f"big_five.{trait}", trait, _leveled(f"big_five.{trait}", _LOW_MID_HIGH), _LOW_MID_HIGH)
        for trait in ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
    ],
    ("style.formality", "formality", _leveled("style.formality", _LOW_MID_HIGH), _LOW_MID_HIGH),
]  # fmt: skip
"""Persona attributes a report breaks success down by: (key, label, grouper, order)."""

TASK_ATTRIBUTES: list[tuple[str, str, Grouper, tuple[str, ...] | None]] = [
    ("suite", "suite", _episode_field("task", "suite"), None),
    ("task", "task", _episode_field("task", "id"), None),
    ("mode", "mode", _episode_field("mode"), None),
    ("target", "target", _episode_field("target"), None),
]


def breakdowns(
    episodes: Iterable[Episode], *, resamples: int = 1000, seed: int = 0
) -> dict[str, list[dict[str, Any]]]:
    """Success by each persona and task attribute that splits the episodes in two or more
    groups: ``{"persona": [...], "task": [...]}``, each entry ``{key, label, groups}``."""
    records = scored_records(episodes)
    return {
        "persona": _by(records, PERSONA_ATTRIBUTES, resamples=resamples, seed=seed),
        "task": _by(records, TASK_ATTRIBUTES, resamples=resamples, seed=seed),
    }


def _by(
    records: list[dict[str, Any]],
    attributes: list[tuple[str, str, Grouper, tuple[str, ...] | None]],
    *,
    resamples: int,
    seed: int,
) -> list[dict[str, Any]]:
    from simulacra.stats import success_rate

    result = []
    for key, label, grouper, order in attributes:
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in records:
            for name in grouper(record):
                groups[name].append(record)
        if len(groups) < 2:
            continue
        names = list(groups)
        if order is not None:
            rank = {name: i for i, name in enumerate(order)}
            names.sort(key=lambda n: (rank.get(n, len(rank)), n))
        rows = []
        for name in names:
            members = groups[name]
            scores = [r["score"] for r in members]
            row: dict[str, Any] = {
                "label": name,
                "n": len(members),
                "value": sum(scores) / len(scores),
                "low": None,
                "high": None,
            }
            if len(groups) <= BREAKDOWN_LIMIT and len(members) > 1:
                clustered = key != "task" and len({r["task"] for r in members}) > 1
                found = success_rate(
                    members,
                    task_key="task" if clustered else None,
                    resamples=resamples,
                    seed=seed,
                )
                row["low"], row["high"] = _number(found.low), _number(found.high)
            rows.append(row)
        if order is None:
            rows.sort(key=lambda r: (-r["value"], r["label"]))
        result.append({"key": key, "label": label, "groups": rows})
    return result
