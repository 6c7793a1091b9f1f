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
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simulacra.report._feedback import feedback_section, index_feedback
from simulacra.report._fidelity_view import fidelity_section
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
from simulacra.report._sections import section_payload
from simulacra.rundir import match_key

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
    part: dict[str, Any] = {
        "key": key,
        "name": run.name,
        "dir": run.path.name,
        "summary": clean(
            {k: v for k, v in run.summary.items() if k != "breakdowns"}, max_chars=1000
        ),
        "summary_source": run.summary_source,
        "config": _config(run.config),
        "warnings": list(run.warnings) + _summary_warnings(run.summary),
        "personas": personas.items,
        "tasks": tasks.items,
        "rows": rows,
        "chunk_size": max(1, options.chunk_size),
        "breakdowns": _breakdowns(run),
        "pass_hat_k": _pass_hat_k(run),
        "success_by_turn": _success_by_turn(run.summary),
        "extra_metrics": _extra_metrics(run.summary),
        "feedback": feedback_section(
            run.feedback,
            run.feedback_summary,
            options.resamples,
            {str(e.get("id")): _str(e.get("target")) for e in run.episodes if e.get("target")},
        ),
        "fidelity": fidelity_section(run.fidelity),
        "sections": section_payload(run),
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


# --- breakdowns and pass^k: computed in the summary layer, laid out here -----------------


def _source(run: RunData, key: str) -> str:
    return "computed" if key in run.filled or run.summary_source != "file" else "summary"


def _breakdowns(run: RunData) -> dict[str, list[dict[str, Any]]]:
    """The summary's breakdowns of success by persona and task attributes."""
    given = _mapping(run.summary.get("breakdowns"))
    source = _source(run, "breakdowns")
    return {
        kind: [
            {**entry, "source": source}
            for entry in _sequence(given.get(kind))
            if isinstance(entry, dict)
        ]
        for kind in ("persona", "task")
    }


def _pass_hat_k(run: RunData) -> dict[str, Any] | None:
    """pass^k by k (and by mode) as the summary computed it."""
    points = _curve(run.summary.get("pass_hat_k"))
    if not points:
        return None
    by_mode = {
        shorten(str(mode), 40): curve
        for mode, entry in _mapping(run.summary.get("pass_hat_k_by_mode")).items()
        if (curve := _curve(entry))
    }
    return {"points": points, "by_mode": by_mode, "source": _source(run, "pass_hat_k")}


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


def _compare(
    runs: Sequence[RunData], parts: list[dict[str, Any]], options: ReportOptions
) -> dict[str, Any]:
    """Episodes of two runs matched by persona × task × mode × repeat, and the paired difference."""
    from simulacra.stats import cluster_bootstrap

    first, second = runs
    in_second: dict[tuple[str, str, str, int], int] = {}
    for index, episode in enumerate(second.episodes):
        in_second.setdefault(match_key(episode), index)
    pairs: list[list[int]] = []
    used: set[int] = set()
    seen: set[tuple[str, str, str, int]] = set()
    for index, episode in enumerate(first.episodes):
        key = match_key(episode)
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
            groups.append(match_key(first.episodes[a])[1])
    difference = None
    if diffs:
        found = cluster_bootstrap(diffs, groups, resamples=options.resamples)
        difference = estimate(found.to_dict())
    from simulacra.feedback import read_comparison

    return {
        "pairs": pairs,
        "counts": {k: counts.get(k, 0) for k in ("both", "a_only", "b_only", "neither", "other")},
        "unmatched_a": len(first.episodes) - len(pairs),
        "unmatched_b": len(second.episodes) - len(used),
        "difference": difference,
        # the raters' verdicts of `simulacra compare A B`, as the feedback layer read them
        "raters": clean(read_comparison(first.path, second.path), max_chars=1000),
    }


def _score_of(episode: dict[str, Any]) -> float | None:
    if episode.get("status") == "error":
        return None
    score = number(episode.get("score"))
    if score is not None:
        return score
    success = episode.get("success")
    return float(success) if isinstance(success, bool) else None
