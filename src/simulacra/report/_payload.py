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

import orjson

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
    utf8,
)
from simulacra.report._sections import section_payload
from simulacra.rundir import Episode, Estimate, MessageRecord, Summary, match_key

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
    summary = run.summary.model_dump(mode="json", exclude_unset=True, exclude={"breakdowns"})
    rows: list[list[Any]] = []
    details: list[dict[str, Any]] = []
    for episode in run.episodes:
        items = feedback.get(episode.id, [])
        messages = [_message(m, options.max_message_chars) for m in episode.messages]
        guard_events = [
            clean(g.model_dump(mode="json"), max_chars=2000) for g in episode.guard_events
        ]
        rows.append(
            [
                episode.id,
                personas.index(episode.persona.model_dump(mode="json")),
                tasks.index(episode.task.model_dump(mode="json")),
                episode.repeat,
                episode.mode,
                episode.target,
                episode.status,
                outcome(episode),
                number(episode.score),
                episode.user_turns,
                episode.stop_reason,
                len(guard_events),
                sorted({g.guard for g in episode.guard_events}),
                sum(1 for g in episode.guard_events if g.action == "fallback"),
                episode.total_usage().total_tokens,
                number(episode.duration_s),
                _preview(episode, messages, options.preview_chars),
                sum(1 for item in items if item.get("kind") != "implicit"),
                sum(
                    len(_sequence(item.get("signals")))
                    for item in items
                    if item.get("kind") == "implicit"
                ),
                shorten(episode.error or "", 300) or None,
            ]
        )
        details.append(
            {
                "messages": messages,
                "guard_events": guard_events,
                "check": clean(episode.check, max_chars=4000),
                "usage": clean(
                    {role: u.model_dump(mode="json") for role, u in episode.usage.items()},
                    max_chars=200,
                ),
                "error": clean(episode.error, max_chars=20_000),
                "extra": clean(episode.extra, max_chars=4000),
                "seed": clean(episode.seed, max_chars=100),
                "started_at": number(episode.started_at),
                "feedback": items,
            }
        )
    part: dict[str, Any] = {
        "key": key,
        "name": run.name,
        "dir": run.path.name,
        "summary": clean(summary, max_chars=1000),
        "summary_source": run.summary_source,
        "config": _config(run.config),
        "warnings": list(run.warnings) + run.summary.warnings,
        "personas": personas.items,
        "tasks": tasks.items,
        "rows": rows,
        "chunk_size": max(1, options.chunk_size),
        "breakdowns": _breakdowns(run),
        "pass_hat_k": _pass_hat_k(run),
        "success_by_turn": _success_by_turn(run.summary),
        "extra_metrics": _extra_metrics(summary),
        "feedback": feedback_section(
            run.feedback,
            run.feedback_summary,
            {e.id: e.target for e in run.episodes if e.target},
        ),
        "fidelity": fidelity_section(run.fidelity),
        "best_of_n": _best_of_n(run),
        "sections": section_payload(run),
    }
    return part, details


def outcome(episode: Episode) -> str:
    """``success``, ``failure``, ``unscored`` or ``error`` for the list and the filters."""
    if episode.status == "error":
        return "error"
    if episode.success is not None:
        return "success" if episode.success else "failure"
    if episode.score is None:
        return "unscored"
    return "success" if episode.score >= 1.0 else "failure"


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
        base64.b64encode(gzip.compress(utf8(t), compresslevel=GZIP_LEVEL, mtime=0)).decode("ascii")
        for t in texts
    ]


GZIP_LEVEL = 6
"""Of the chunks. Level 3 takes a third of the time (10,000 episodes: 0.43 s of CPU
against 1.26 s) but writes 12% more bytes, and the browser reads every byte of the page
before it draws: at level 3 the 10,000-episode overview was drawn in 1.10 s, at level 6
in 0.85 s."""


_IDENTITY = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def _identity(item: Any) -> bytes:
    """Equal for records with equal content (keys in any order)."""
    try:
        return orjson.dumps(item, option=_IDENTITY, default=repr)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(item, sort_keys=True, default=repr).encode("utf-8", "replace")


class _Interner:
    """Stores each distinct record once (cleaned for display) and hands out its index."""

    def __init__(self, max_chars: int) -> None:
        self.items: list[Any] = []
        self.max_chars = max_chars
        self._seen: dict[bytes, int] = {}

    def index(self, item: Any) -> int:
        key = _identity(item)
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


def _message(message: MessageRecord, max_chars: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "role": message.role or "?",
        "content": shorten(message.content, max_chars),
    }
    for key in ("name", "tool_call_id"):
        value = getattr(message, key)
        if value is not None:
            result[key] = shorten(value, 500)
    calls = [
        {
            "id": shorten(call.id, 200),
            "name": shorten(call.name, 200),
            "arguments": shorten(call.arguments, max_chars),
        }
        for call in message.tool_calls
    ]
    if calls:
        result["tool_calls"] = calls
    meta = message.meta
    if "best_of_n" in meta:  # a best-of-n reply: its candidates are shown apart
        meta = dict(meta)
        choice = meta.pop("best_of_n")
        if isinstance(choice, dict):
            result["best_of_n"] = _choice(choice, max_chars)
    if meta:
        result["meta"] = clean(meta, max_chars=2000)
    return result


def _choice(record: dict[str, Any], max_chars: int) -> dict[str, Any]:
    """A best-of-n reply's record (``meta.best_of_n``) as the page shows it: every
    candidate as a message, which one was chosen, by which rater, and the knockout."""
    candidates = []
    for item in _sequence(record.get("candidates")):
        try:
            candidates.append(_message(MessageRecord.model_validate(item), max_chars))
        except ValueError:  # not a message: shown as its text
            candidates.append({"role": "assistant", "content": shorten(_str(item), max_chars)})
    comparisons = [
        {
            key: clean(c.get(key), max_chars=200)
            for key in ("champion", "challenger", "verdict")
            if key in c
        }
        for c in _sequence(record.get("comparisons"))
        if isinstance(c, dict)
    ]
    chosen = record.get("chosen")
    view: dict[str, Any] = {
        "n": number(record.get("n")),
        "rater": clean(record.get("rater"), max_chars=200),
        "chosen": chosen if isinstance(chosen, int) and not isinstance(chosen, bool) else None,
        "candidates": candidates,
        "comparisons": comparisons,
        "error": clean(record.get("error"), max_chars=2000),
    }
    return view


def _preview(episode: Episode, messages: list[dict[str, Any]], limit: int) -> str:
    for message in messages:
        if message["role"] == "user" and message["content"].strip():
            return preview(message["content"], limit)
    for message in messages:
        if message["content"].strip():
            return preview(message["content"], limit)
    return preview(episode.error or "", limit)


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
    given = run.summary.breakdowns
    source = _source(run, "breakdowns")
    return {
        kind: [
            {**entry.model_dump(mode="json"), "source": source}
            for entry in (getattr(given, kind) if given is not None else [])
        ]
        for kind in ("persona", "task")
    }


def _pass_hat_k(run: RunData) -> dict[str, Any] | None:
    """pass^k by k (and by mode) as the summary computed it."""
    points = _curve(run.summary.pass_hat_k)
    if not points:
        return None
    by_mode = {
        shorten(mode, 40): curve
        for mode, entry in (run.summary.pass_hat_k_by_mode or {}).items()
        if (curve := _curve(entry))
    }
    return {"points": points, "by_mode": by_mode, "source": _source(run, "pass_hat_k")}


def _curve(value: dict[str, Estimate] | None) -> list[dict[str, Any]]:
    """``{"1": Estimate, "2": ...}`` as points sorted by k."""
    points = []
    for k, entry in (value or {}).items():
        found = estimate(entry.model_dump(mode="json"))
        if found is not None and k.isdigit():
            points.append({"k": int(k), **found})
    return sorted(points, key=lambda p: p["k"])[:50]


def _success_by_turn(summary: Summary) -> dict[str, Any] | None:
    """The cumulative success by turn of feedback-giving episodes, when summarised."""
    given = summary.success_by_turn
    if given is None:
        return None
    points = []
    for turn, entry in zip(given.turns, given.cumulative, strict=False):
        found = estimate(entry.model_dump(mode="json"))
        if found is not None:
            points.append({"k": turn, **found})
    return {"points": points[:50], "n": given.n} if points else None


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
    return {
        "pairs": pairs,
        "counts": {k: counts.get(k, 0) for k in ("both", "a_only", "b_only", "neither", "other")},
        "unmatched_a": len(first.episodes) - len(pairs),
        "unmatched_b": len(second.episodes) - len(used),
        "difference": difference,
        # the raters' verdicts of `simulacra compare A B`, as the feedback layer read them
        "raters": _rater_comparison(first, second),
    }


def _rater_comparison(first: RunData, second: RunData) -> dict[str, Any] | None:
    """What ``simulacra compare A B`` found (read by the feedback layer, seen from A)."""
    from simulacra.feedback import read_comparison

    found = read_comparison(first.path, second.path)
    if found is None:
        return None
    c = found.comparison
    lc = c.length_controlled
    view = {
        "path": str(found.path),
        "items": c.items,
        "judged": c.judged,
        "abstained": c.abstained,
        "wins_a": c.wins_a,
        "wins_b": c.wins_b,
        "ties": c.ties,
        "win_rate": c.win_rate.to_dict() if c.win_rate else None,
        "length_controlled": {
            "win_rate": lc.win_rate.to_dict() if lc.win_rate else None,
            "warning": lc.warning,
        }
        if lc
        else None,
        "raters": sorted(c.raters),
        "flipped": found.flipped,
    }
    shown: dict[str, Any] = clean(view, max_chars=1000)
    return shown


def _best_of_n(run: RunData) -> dict[str, Any] | None:
    """A best-of-n run's win rate over plain samples (n = 1) with the length-controlled
    rate beside it, as ``simulacra show`` reads them from the ``simulacra compare``
    files; with none, the command that writes one. None for any other run."""
    from simulacra.sim.best_of_n import comparisons_with_single_samples

    found = comparisons_with_single_samples(run.path)
    if found is None:
        return None
    view = {
        "n": found.n,
        "model": found.model,
        "comparisons": [
            {
                "run": c.run,
                "same_model": c.same_model,
                "items": c.comparison.items,
                "wins": c.comparison.wins_a,
                "losses": c.comparison.wins_b,
                "ties": c.comparison.ties,
                "win_rate": estimate(c.win_rate.to_dict()) if c.win_rate else None,
                "length_controlled": (
                    estimate(c.length_controlled.to_dict()) if c.length_controlled else None
                ),
                "warning": c.warning,
                "raters": sorted(c.comparison.raters),
                "file": f"{c.path.parent.name}/{c.path.name}",
            }
            for c in found.comparisons
        ],
        "plain": [p.name for p in found.plain],
        "command": found.command(),
    }
    shown: dict[str, Any] = clean(view, max_chars=1000)
    return shown


def _score_of(episode: Episode) -> float | None:
    if episode.status == "error":
        return None
    if episode.score is not None:
        return episode.score
    return None if episode.success is None else float(episode.success)
