"""``summary.json``: what a run amounts to, computed from ``episodes.jsonl`` alone."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from simulacra.llm import Usage


def summarize(episodes: Iterable[dict[str, Any]], *, seed: int = 0) -> dict[str, Any]:
    """Success with a bootstrap 95% CI (resampling tasks), turns, tokens per role, guard
    events, stop reasons and errors, plus success by persona and by task."""
    from simulacra.stats import success_rate

    records: list[dict[str, Any]] = []
    usage: dict[str, Usage] = defaultdict(Usage)
    guards: Counter[str] = Counter()
    fallbacks = 0
    stops: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    turns: list[int] = []
    total = 0
    for episode in episodes:
        total += 1
        stops[episode.get("stop_reason") or "unknown"] += 1
        for role, counts in (episode.get("usage") or {}).items():
            usage[role] = usage[role] + Usage.from_dict(counts)
        for event in episode.get("guard_events") or ():
            guards[event.get("guard", "?")] += 1
            fallbacks += event.get("action") == "fallback"
        if episode.get("status") == "error":
            errors[(episode.get("error") or "unknown error").split(":")[0]] += 1
            continue
        turns.append(int(episode.get("user_turns", 0)))
        if episode.get("score") is not None:
            records.append(
                {
                    "task": (episode.get("task") or {}).get("id", ""),
                    "persona": (episode.get("persona") or {}).get("name", ""),
                    "suite": (episode.get("task") or {}).get("suite", ""),
                    "score": float(episode["score"]),
                }
            )
    scored = len(records)
    summary: dict[str, Any] = {
        "episodes": total,
        "scored": scored,
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "success": success_rate(records, seed=seed).to_dict() if records else None,
        "mean_user_turns": round(sum(turns) / len(turns), 3) if turns else None,
        "stop_reasons": dict(stops),
        "guard_events": {"total": sum(guards.values()), "fallbacks": fallbacks, **dict(guards)},
        "usage": {role: u.to_dict() for role, u in sorted(usage.items())},
        "tokens": sum(u.total_tokens for u in usage.values()),
        "by_persona": _rates(records, "persona"),
        "by_task": _rates(records, "task"),
    }
    return summary


def _rates(records: list[dict[str, Any]], key: str) -> dict[str, dict[str, float]]:
    groups: dict[str, list[float]] = defaultdict(list)
    for record in records:
        groups[record[key]].append(record["score"])
    return {
        name: {"n": len(scores), "success": round(sum(scores) / len(scores), 4)}
        for name, scores in sorted(groups.items())
    }
