"""Reading a run directory for a report, tolerating whatever is missing or malformed.

Only ``episodes.jsonl`` is required. Every other file (``summary.json``,
``config.json``, ``feedback.jsonl``, ``feedback_summary.json``, ``fidelity.json``) is
used when present and readable and skipped otherwise, with a note in ``warnings``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulacra.rundir import (
    EPISODES,
    SCHEMA_VERSION,
    WATCHED,
    Episode,
    FeedbackRecord,
    FeedbackSummary,
    Fidelity,
    RunDir,
    Summary,
    judged_summary,
)


@dataclass(kw_only=True)
class RunData:
    """What a run directory holds, as read for a report: typed records."""

    path: Path
    name: str
    episodes: list[Episode]
    summary: Summary
    summary_source: str
    """``file`` (summary.json matches the episodes), ``computed`` (no summary.json) or
    ``stale`` (summary.json counts other episodes than episodes.jsonl holds, as while a
    run is in progress; the summary shown is computed from the episodes)."""
    config: dict[str, Any] | None = None
    """The resolved config the run was made with, as saved (secrets never saved)."""
    feedback: list[FeedbackRecord] = field(default_factory=list)
    feedback_summary: FeedbackSummary | None = None
    fidelity: Fidelity | None = None
    warnings: list[str] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)
    """Sections of ``summary`` that ``summary.json`` did not have (written by an older
    version) and that were computed from the episodes, by the same ``summarize``."""


def check_run_dir(path: str | Path) -> Path:
    """``path`` as a run directory, or a ``RunError`` saying why it is not one."""
    return RunDir.open(path).path


def signature(path: str | Path) -> tuple[tuple[str, int, int], ...]:
    """(name, mtime in ns, size) of each watched file that exists: changes when data does."""
    run_dir = Path(path)
    result = []
    for name in WATCHED:
        try:
            stat = (run_dir / name).stat()
        except OSError:
            continue
        result.append((name, stat.st_mtime_ns, stat.st_size))
    return tuple(result)


def count_episodes(path: str | Path) -> int:
    """Number of complete lines in ``episodes.jsonl`` (cheap; no JSON parsing)."""
    count = 0
    try:
        with (Path(path) / EPISODES).open("rb") as handle:
            while block := handle.read(1 << 20):
                count += block.count(b"\n")
    except OSError:
        return 0
    return count


def load_run(path: str | Path) -> RunData:
    """Read a run directory; only ``episodes.jsonl`` must exist."""
    run = RunDir.open(path)
    episodes = run.episodes()
    config = run.config()
    _register_keys(config)
    summary, source, filled = _effective_summary(episodes, run.summary(), config, run.warnings)
    return RunData(
        path=run.path,
        name=summary.run or run.name,
        episodes=episodes,
        summary=summary,
        summary_source=source,
        config=config,
        feedback=run.feedback(),
        feedback_summary=run.feedback_summary(),
        fidelity=run.fidelity(),
        warnings=run.warnings,
        filled=filled,
    )


def _register_keys(config: dict[str, Any] | None) -> None:
    """Register the keys of the environment variables the run's config names, so that a
    key an older run stored (before scrubbing at write time) is not shown."""
    from simulacra import _secrets

    if not config:
        return
    holders = [config.get("target"), *(config.get("models") or {}).values()]
    for holder in holders:
        name = holder.get("api_key_env") if isinstance(holder, dict) else None
        if isinstance(name, str) and name:
            _secrets.register(os.environ.get(name))


def _effective_summary(
    episodes: list[Episode],
    file_summary: Summary | None,
    config: dict[str, Any] | None,
    warnings: list[str],
) -> tuple[Summary, str, list[str]]:
    """The summary a report shows: ``summary.json`` when it counts the episodes there
    are (with what an older version did not write computed from the episodes), else
    the summary of the episodes as they are (a run in progress: the same computation)."""
    if file_summary is not None and file_summary.episodes == len(episodes):
        given = file_summary.model_fields_set
        if "schema_version" in given and file_summary.schema_version >= SCHEMA_VERSION:
            return file_summary, "file", _complete_judged(file_summary, episodes)
        computed = _summarize(episodes, config, warnings)
        filled = [k for k in computed.model_fields_set if k not in given]
        merged = Summary.from_dict({**computed.to_dict(), **file_summary.to_dict()})
        return merged, "file", filled + _complete_judged(merged, episodes)
    source = "computed" if file_summary is None else "stale"
    computed = _summarize(episodes, config, warnings)
    if file_summary is None:
        return computed, source, []
    data = computed.to_dict()
    for key in ("run", "scheduled"):
        if key in file_summary.model_fields_set and key not in data:
            data[key] = getattr(file_summary, key)
    data["complete"] = False
    return Summary.from_dict(data), source, []


def _complete_judged(summary: Summary, episodes: list[Episode]) -> list[str]:
    """Give a summary's ``judged`` section the judge's position and length figures when
    it was written before they were kept, computed from the episodes by the function
    ``summarize`` uses; the names of what was filled."""
    given = summary.judged
    if given is None or (given.position is not None and given.length is not None):
        return []
    computed = judged_summary(e for e in episodes if e.status != "error")
    if computed is None:
        return []
    filled = []
    for name in ("position", "length"):
        if getattr(given, name) is None:
            setattr(given, name, getattr(computed, name))
            filled.append(f"judged.{name}")
    return filled


def _summarize(
    episodes: list[Episode], config: dict[str, Any] | None, warnings: list[str]
) -> Summary:
    from simulacra.rundir import summarize

    seed = config.get("seed") if config else 0
    try:
        return summarize(episodes, seed=seed if isinstance(seed, int) else 0)
    except Exception as exc:  # malformed episodes must not stop a report
        warnings.append(f"could not summarize the episodes ({type(exc).__name__}: {exc})")
        errors = sum(1 for e in episodes if e.status == "error")
        return Summary(episodes=len(episodes), errors=errors)
