"""The data a report page renders: one compact payload plus transcript chunks.

The payload holds what the page needs at once: the summary, breakdowns with intervals,
feedback and fidelity sections, each persona and task record once, and one short row
per episode (ids, outcome, counts, a one-line preview). Full transcripts, guard events,
checks and per-episode feedback go into *chunks* of ``chunk_size`` episodes, each
encoded on its own, so the page decodes a chunk only when one of its episodes is opened.

A chunk is either plain JSON or, for big runs, gzip-compressed JSON in base64 (the page
inflates it with the browser's built-in ``DecompressionStream``).
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from simulacra.report._feedback import feedback_section, index_feedback
from simulacra.report._fidelity import fidelity_section
from simulacra.report._load import RunData
from simulacra.report._safe import (
    clean,
    estimate,
    number,
    preview,
    script_json,
    shorten,
    to_json,
    utf8,
)

SCHEMA = 1

FIELDS = (
    "id",
    "persona",
    "task",
    "repeat",
    "mode",
    "target",
    "status",
    "outcome",
    "score",
    "turns",
    "stop",
    "guards",
    "guard_kinds",
    "fallbacks",
    "tokens",
    "duration",
    "preview",
    "feedback",
    "signals",
    "error",
)
"""The columns of an episode row, in order (rows are arrays to keep the payload small)."""

OUTCOMES = ("success", "failure", "unscored", "error")

COMPRESS_ABOVE = 1_500_000
"""Transcripts bigger than this many bytes in all are gzip-compressed by default."""

BREAKDOWN_LIMIT = 200
"""Groups beyond this number get no interval (a breakdown by thousands of tasks would be
slow to bootstrap and unreadable anyway)."""


@dataclass(frozen=True, kw_only=True)
class ReportOptions:
    """How a report is built. The defaults keep a 10,000-episode report near 15 MB."""

    chunk_size: int = 100
    max_message_chars: int = 20_000
    preview_chars: int = 160
    compress: bool | None = None
    """gzip the transcript chunks: always (True), never (False) or for big runs (None)."""
    resamples: int = 1000


@dataclass(kw_only=True)
class Payload:
    """What goes into a page: ``data`` (one JSON object) and ``chunks[run_key][i]``."""

    data: dict[str, Any]
    chunks: dict[str, list[str]]


def build_payload(
    runs: Sequence[RunData], *, live: bool = False, options: ReportOptions | None = None
) -> Payload:
    """The payload of a report on one run, or a comparison of two."""
    options = options or ReportOptions()
    if not 1 <= len(runs) <= 2:
        raise ValueError("a report shows one run or compares two")
    run_parts: list[dict[str, Any]] = []
    chunks: dict[str, list[str]] = {}
    for key, run in zip("ab", runs, strict=False):
        part, details = _run_part(run, key, options)
        encoding, encoded = encode_chunks(details, options)
        part["encoding"] = encoding
        part["chunks"] = len(encoded)
        chunks[key] = encoded
        run_parts.append(part)
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "generated": time.strftime("%Y-%m-%d %H:%M:%S"),
        "live": live,
        "fields": list(FIELDS),
        "runs": run_parts,
        "compare": _compare(runs, run_parts, options) if len(runs) == 2 else None,
    }
    return Payload(data=data, chunks=chunks)


# --- one run --------------------------------------------------------------------------


def _run_part(
    run: RunData, key: str, options: ReportOptions
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    personas = _Interner(4000)
    tasks = _Interner(4000)
    feedback = index_feedback(run.feedback)
    rows: list[list[Any]] = []
    details: list[dict[str, Any]] = []
    for episode in run.episodes:
        persona = _mapping(episode.get("persona"))
        task = _mapping(episode.get("task"))
        episode_id = str(episode.get("id", ""))
        items = feedback.get(episode_id, [])
        messages = [
            _message(m, options.max_message_chars) for m in _sequence(episode.get("messages"))
        ]
        guard_events = [
            clean(_mapping(g), max_chars=2000) for g in _sequence(episode.get("guard_events"))
        ]
        rows.append(
            [
                episode_id,
                personas.index(persona),
                tasks.index(task),
                _int(episode.get("repeat")),
                _str(episode.get("mode")),
                _str(episode.get("target")),
                _str(episode.get("status")) or "ok",
                outcome(episode),
                number(episode.get("score")),
                _int(episode.get("user_turns")),
                _str(episode.get("stop_reason")),
                len(guard_events),
                sorted({str(g.get("guard", "?")) for g in guard_events}),
                sum(1 for g in guard_events if g.get("action") == "fallback"),
                _tokens(episode.get("usage")),
                number(episode.get("duration_s")),
                _preview(episode, messages, options.preview_chars),
                sum(1 for item in items if item.get("kind") != "implicit"),
                sum(
                    len(_sequence(item.get("signals")))
                    for item in items
                    if item.get("kind") == "implicit"
                ),
                shorten(_str(episode.get("error")), 300) or None,
            ]
        )
        details.append(
            {
                "messages": messages,
                "guard_events": guard_events,
                "check": clean(episode.get("check"), max_chars=4000),
                "usage": clean(episode.get("usage"), max_chars=200),
                "error": clean(episode.get("error"), max_chars=20_000),
                "extra": clean(episode.get("extra"), max_chars=4000),
                "seed": clean(episode.get("seed"), max_chars=100),
                "started_at": number(episode.get("started_at")),
                "feedback": items,
            }
        )
    records = _records(run.episodes)
    part: dict[str, Any] = {
        "key": key,
        "name": run.name,
        "dir": run.path.name,
        "summary": clean(run.summary, max_chars=1000),
        "summary_source": run.summary_source,
        "config": _config(run.config),
        "warnings": list(run.warnings) + _summary_warnings(run.summary),
        "personas": personas.items,
        "tasks": tasks.items,
        "rows": rows,
        "chunk_size": max(1, options.chunk_size),
        "breakdowns": {
            "persona": _breakdowns(records, PERSONA_ATTRIBUTES, run.summary, options),
            "task": _breakdowns(records, TASK_ATTRIBUTES, run.summary, options),
        },
        "pass_hat_k": _pass_hat_k(run.summary, records, options),
        "success_by_turn": _success_by_turn(run.summary),
        "extra_metrics": _extra_metrics(run.summary),
        "feedback": feedback_section(
            run.feedback,
            run.feedback_summary,
            options.resamples,
            {str(e.get("id")): _str(e.get("target")) for e in run.episodes if e.get("target")},
        ),
        "fidelity": fidelity_section(run.fidelity),
    }
    return part, details


def _summary_warnings(summary: dict[str, Any]) -> list[str]:
    """Warnings the summary gives about its own numbers (e.g. too few tasks)."""
    given = summary.get("warnings")
    return [str(w) for w in given] if isinstance(given, list) else []


def outcome(episode: dict[str, Any]) -> str:
    """``success``, ``failure``, ``unscored`` or ``error`` for the list and the filters."""
    if episode.get("status") == "error":
        return "error"
    success = episode.get("success")
    if isinstance(success, bool):
        return "success" if success else "failure"
    score = number(episode.get("score"))
    if score is None:
        return "unscored"
    return "success" if score >= 1.0 else "failure"


def encode_chunks(details: list[dict[str, Any]], options: ReportOptions) -> tuple[str, list[str]]:
    """Split per-episode details into chunks; return the encoding and the encoded chunks."""
    size = max(1, options.chunk_size)
    texts = [script_json(details[i : i + size]) for i in range(0, len(details), size)]
    compress = options.compress
    if compress is None:
        compress = sum(len(t) for t in texts) > COMPRESS_ABOVE
    if not compress:
        return "json", texts
    return "gzip", [
        base64.b64encode(gzip.compress(utf8(t), compresslevel=6, mtime=0)).decode("ascii")
        for t in texts
    ]


class _Interner:
    """Stores each distinct record once (cleaned for display) and hands out its index."""

    def __init__(self, max_chars: int) -> None:
        self.items: list[Any] = []
        self.max_chars = max_chars
        self._seen: dict[str, int] = {}

    def index(self, item: Any) -> int:
        key = json.dumps(item, sort_keys=True, default=repr)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = len(self.items)
            self.items.append(clean(item, max_chars=self.max_chars))
        return found


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sequence(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _int(value: Any) -> int:
    result = number(value)
    return int(result) if result is not None else 0


def _tokens(usage: Any) -> int:
    total = 0
    for counts in _mapping(usage).values():
        value = number(_mapping(counts).get("total_tokens"))
        total += int(value) if value is not None else 0
    return total


def text_of(content: Any) -> str:
    """A message's content as text (a list of parts joins their ``text``)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
            else:
                parts.append(to_json(clean(part)))
        return "\n".join(parts)
    return to_json(clean(content))


def _message(message: Any, max_chars: int) -> dict[str, Any]:
    if not isinstance(message, dict):
        return {"role": "?", "content": shorten(text_of(message), max_chars)}
    result: dict[str, Any] = {
        "role": _str(message.get("role")) or "?",
        "content": shorten(text_of(message.get("content")), max_chars),
    }
    for key in ("name", "tool_call_id"):
        if message.get(key) is not None:
            result[key] = shorten(_str(message[key]), 500)
    calls = []
    for call in _sequence(message.get("tool_calls")):
        call = _mapping(call)
        function = _mapping(call.get("function"))
        arguments = function.get("arguments", call.get("arguments"))
        calls.append(
            {
                "id": shorten(_str(call.get("id")), 200),
                "name": shorten(_str(function.get("name", call.get("name"))), 200),
                "arguments": shorten(
                    arguments if isinstance(arguments, str) else to_json(clean(arguments)),
                    max_chars,
                ),
            }
        )
    if calls:
        result["tool_calls"] = calls
    if isinstance(message.get("meta"), dict):
        result["meta"] = clean(message["meta"], max_chars=2000)
    return result


def _preview(episode: dict[str, Any], messages: list[dict[str, Any]], limit: int) -> str:
    for message in messages:
        if message["role"] == "user" and message["content"].strip():
            return preview(message["content"], limit)
    for message in messages:
        if message["content"].strip():
            return preview(message["content"], limit)
    return preview(_str(episode.get("error")), limit)


def _config(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """The parts of a run config worth showing; never headers, URLs or key names."""
    if not config:
        return None
    target = _mapping(config.get("target"))
    user = _mapping(config.get("user"))
    models = {
        str(name): {k: _str(v) for k, v in _mapping(m).items() if k in ("backend", "model") and v}
        for name, m in _mapping(config.get("models")).items()
    }
    shown = {
        "name": config.get("name"),
        "seed": config.get("seed"),
        "repeats": config.get("repeats"),
        "max_turns": config.get("max_turns"),
        "target": {
            k: target.get(k) for k in ("type", "name", "model", "model_id") if target.get(k)
        },
        "user": {
            k: user.get(k) for k in ("simulator", "model", "temperature") if user.get(k) is not None
        },
        "models": models,
    }
    result: dict[str, Any] = clean(shown, max_chars=300)
    return result


# --- breakdowns -------------------------------------------------------------------------

Grouper = Callable[[dict[str, Any]], list[str]]


def _records(episodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scored, finished episodes as plain records for the breakdowns and pass^k."""
    records = []
    for episode in episodes:
        if episode.get("status") == "error":
            continue
        score = number(episode.get("score"))
        if score is None or not 0.0 <= score <= 1.0:
            success = episode.get("success")
            if not isinstance(success, bool):
                continue
            score = float(success)
        records.append(
            {
                "score": score,
                "task": _str(_mapping(episode.get("task")).get("id")),
                "persona": _mapping(episode.get("persona")),
                "episode": episode,
            }
        )
    return records


def _level(value: Any, names: tuple[str, str, str], cuts: tuple[float, float]) -> list[str]:
    x = number(value)
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
    x = number(record["persona"].get("patience"))
    if x is None:
        return []
    if x <= 1:
        return ["0–1 (impatient)"]
    if x <= 3:
        return ["2–3"]
    return ["4–6"] if x <= 6 else ["7+ (patient)"]


def _typos(record: dict[str, Any]) -> list[str]:
    x = number(record["persona"].get("typo_rate"))
    if x is None:
        return []
    if x < 0.01:
        return ["none (<1%)"]
    return ["some (1–5%)"] if x < 0.05 else ["many (≥5%)"]


def _category(get: Callable[[dict[str, Any]], Any]) -> Grouper:
    def group(record: dict[str, Any]) -> list[str]:
        value = get(record)
        if isinstance(value, list):
            return [shorten(str(v), 80) for v in value if v is not None]
        if value is None or value == "":
            return []
        return [shorten(str(value), 80)]

    return group


def _leveled(path: str, names: tuple[str, str, str]) -> Grouper:
    get = _persona_field(path)
    return lambda record: _level(get(record), names, (1 / 3, 2 / 3))


def _persona_label(record: dict[str, Any]) -> list[str]:
    persona = record["persona"]
    name = _str(persona.get("name"))
    shown = _str(persona.get("display_name"))
    label = f"{shown} ({name})" if shown and name and shown != name else (name or shown)
    return [shorten(label, 80)] if label else []


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

_SUMMARY_GROUPS = {"suite": "by_suite", "mode": "by_mode"}


def _breakdowns(
    records: list[dict[str, Any]],
    attributes: list[tuple[str, str, Grouper, tuple[str, ...] | None]],
    summary: dict[str, Any],
    options: ReportOptions,
) -> list[dict[str, Any]]:
    """Success by each attribute that splits the episodes into at least two groups."""
    from simulacra.stats import success_rate

    result = []
    for key, label, grouper, order in attributes:
        given = _summary_groups(summary.get(_SUMMARY_GROUPS.get(key, "")))
        if given is not None and len(given) >= 2:
            result.append({"key": key, "label": label, "groups": given, "source": "summary"})
            continue
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
                    resamples=options.resamples,
                )
                row["low"], row["high"] = number(found.low), number(found.high)
            rows.append(row)
        if order is None:
            rows.sort(key=lambda r: (-r["value"], r["label"]))
        result.append({"key": key, "label": label, "groups": rows, "source": "episodes"})
    return result


def _summary_groups(value: Any) -> list[dict[str, Any]] | None:
    """``by_suite``-like summary entries as breakdown rows, if they are Estimate-like."""
    if not isinstance(value, dict) or not value:
        return None
    rows = []
    for name, entry in value.items():
        found = estimate(entry)
        if found is None or found["value"] is None or found["low"] is None:
            return None  # without intervals, the breakdown computed here shows more
        n = number(_mapping(entry).get("n"))
        rows.append(
            {
                "label": shorten(str(name), 80),
                "n": int(n) if n is not None else None,
                "value": found["value"],
                "low": found["low"],
                "high": found["high"],
            }
        )
    return rows


def _pass_hat_k(
    summary: dict[str, Any], records: list[dict[str, Any]], options: ReportOptions
) -> dict[str, Any] | None:
    """pass^k by k: from ``summary.json`` when it has it, else from repeated episodes.

    Computed here, a "task" is a task × persona × mode unit, as in ``summary.json``, and
    its trials are the repeats.
    """
    points = _curve(summary.get("pass_hat_k"))
    if points:
        by_mode = {
            shorten(str(mode), 40): curve
            for mode, entry in _mapping(summary.get("pass_hat_k_by_mode")).items()
            if (curve := _curve(entry))
        }
        return {"points": points, "by_mode": by_mode, "source": "summary"}
    units = [
        {"task": "\x1f".join(map(str, _match_key(r["episode"])[:3])), "score": r["score"]}
        for r in records
    ]
    trials = Counter(u["task"] for u in units)
    if not trials or max(trials.values()) < 2:
        return None
    from simulacra.stats import pass_hat_k

    ks = range(1, min(max(trials.values()), 10) + 1)
    found_all = pass_hat_k(units, ks, threshold=1.0, resamples=options.resamples)
    points = [{"k": k, **(estimate(e.to_dict()) or {})} for k, e in found_all.items()]
    return {"points": points, "by_mode": {}, "source": "episodes"}


def _curve(value: Any) -> list[dict[str, Any]]:
    """``{"1": Estimate, "2": ...}`` as points sorted by k."""
    points = []
    for k, entry in _mapping(value).items():
        found = estimate(entry)
        if found is not None and str(k).isdigit():
            points.append({"k": int(k), **found})
    return sorted(points, key=lambda p: p["k"])[:50]


def _success_by_turn(summary: dict[str, Any]) -> dict[str, Any] | None:
    """The cumulative success by turn of feedback-giving episodes, when summarised."""
    given = _mapping(summary.get("success_by_turn"))
    turns = given.get("turns")
    cumulative = given.get("cumulative")
    if not isinstance(turns, list) or not isinstance(cumulative, list):
        return None
    points = []
    for turn, entry in zip(turns, cumulative, strict=False):
        found = estimate(entry)
        if found is not None and number(turn) is not None:
            points.append({"k": int(turn), **found})
    n = number(given.get("n"))
    return {"points": points[:50], "n": int(n) if n is not None else None} if points else None


# (path in summary.json, label, note, unit, +1 if higher is better else -1)
_EXTRA_METRICS = (
    ("aptitude", "Aptitude", "90th percentile score per task, averaged", "score", 1),
    ("unreliability", "Unreliability", "spread (90th − 10th percentile) per task", "score", -1),
    (
        "multi_turn_drop",
        "Multi-turn drop",
        "relative drop when the request is sharded",
        "percent",
        -1,
    ),
    (
        "policy.success_without_violation",
        "Success without violation",
        "success counting only episodes that kept the environment's policy",
        "score",
        1,
    ),
)


def _extra_metrics(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Aptitude, unreliability, the multi-turn drop and policy-clean success, when the
    summary has them."""
    result = []
    for path, label, note, unit, better in _EXTRA_METRICS:
        value: Any = summary
        for part in path.split("."):
            value = _mapping(value).get(part)
        found = estimate(value)
        if found is not None and found["value"] is not None:
            key = path.rsplit(".", 1)[-1]
            result.append(
                {"key": key, "label": label, "note": note, "unit": unit, "better": better, **found}
            )
    return result


# --- two runs -------------------------------------------------------------------------


def _match_key(episode: dict[str, Any]) -> tuple[str, str, str, int]:
    """Persona, task, mode and repeat: what makes two episodes the same trial."""
    return (
        _str(_mapping(episode.get("persona")).get("name")),
        _str(_mapping(episode.get("task")).get("id")),
        _str(episode.get("mode")) or "sharded",
        _int(episode.get("repeat")),
    )


def _compare(
    runs: Sequence[RunData], parts: list[dict[str, Any]], options: ReportOptions
) -> dict[str, Any]:
    """Episodes of two runs matched by persona × task × mode × repeat, and the paired difference."""
    from simulacra.stats import cluster_bootstrap

    first, second = runs
    in_second: dict[tuple[str, str, str, int], int] = {}
    for index, episode in enumerate(second.episodes):
        in_second.setdefault(_match_key(episode), index)
    pairs: list[list[int]] = []
    used: set[int] = set()
    seen: set[tuple[str, str, str, int]] = set()
    for index, episode in enumerate(first.episodes):
        key = _match_key(episode)
        if key in seen or key not in in_second:
            continue
        seen.add(key)
        pairs.append([index, in_second[key]])
        used.add(in_second[key])
    outcome_at = FIELDS.index("outcome")
    counts: Counter[str] = Counter()
    diffs: list[float] = []
    groups: list[str] = []
    for a, b in pairs:
        oa = parts[0]["rows"][a][outcome_at]
        ob = parts[1]["rows"][b][outcome_at]
        if oa in ("success", "failure") and ob in ("success", "failure"):
            counts[
                "both"
                if oa == ob == "success"
                else "neither"
                if oa == ob
                else "a_only"
                if oa == "success"
                else "b_only"
            ] += 1
        else:
            counts["other"] += 1
        sa = _score_of(first.episodes[a])
        sb = _score_of(second.episodes[b])
        if sa is not None and sb is not None:
            diffs.append(sb - sa)
            groups.append(_match_key(first.episodes[a])[1])
    difference = None
    if diffs:
        found = cluster_bootstrap(diffs, groups, resamples=options.resamples)
        difference = estimate(found.to_dict())
    return {
        "pairs": pairs,
        "counts": {k: counts.get(k, 0) for k in ("both", "a_only", "b_only", "neither", "other")},
        "unmatched_a": len(first.episodes) - len(pairs),
        "unmatched_b": len(second.episodes) - len(used),
        "difference": difference,
    }


def _score_of(episode: dict[str, Any]) -> float | None:
    if episode.get("status") == "error":
        return None
    score = number(episode.get("score"))
    if score is not None:
        return score
    success = episode.get("success")
    return float(success) if isinstance(success, bool) else None
