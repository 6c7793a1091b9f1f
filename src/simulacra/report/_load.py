"""Reading a run directory for a report, tolerating whatever is missing or malformed.

Only ``episodes.jsonl`` is required. Every other file (``summary.json``,
``config.json``, ``feedback.jsonl``, ``feedback_summary.json``, ``fidelity.json``) is
used when present and readable and skipped otherwise, with a note in ``warnings``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulacra.errors import RunError

EPISODES = "episodes.jsonl"
SUMMARY = "summary.json"
CONFIG = "config.json"
FEEDBACK = "feedback.jsonl"
FEEDBACK_SUMMARY = "feedback_summary.json"
FIDELITY = "fidelity.json"

WATCHED = (EPISODES, SUMMARY, CONFIG, FEEDBACK, FEEDBACK_SUMMARY, FIDELITY)
"""The files whose change makes a live view reload its data."""


@dataclass(kw_only=True)
class RunData:
    """What a run directory holds, as read for a report."""

    path: Path
    name: str
    episodes: list[dict[str, Any]]
    summary: dict[str, Any]
    summary_source: str
    """``file`` (summary.json matches the episodes), ``computed`` (no summary.json) or
    ``stale`` (summary.json counts other episodes than episodes.jsonl holds, as while a
    run is in progress; the summary shown is computed from the episodes)."""
    config: dict[str, Any] | None = None
    feedback: list[dict[str, Any]] = field(default_factory=list)
    feedback_summary: dict[str, Any] | None = None
    fidelity: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)


def check_run_dir(path: str | Path) -> Path:
    """``path`` as a run directory, or a ``RunError`` saying why it is not one."""
    run_dir = Path(path)
    if not run_dir.exists():
        raise RunError(f"{run_dir}: no such directory")
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: not a directory")
    if not (run_dir / EPISODES).is_file():
        raise RunError(f"{run_dir}: no {EPISODES} here (is this a run directory?)")
    return run_dir


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
    from simulacra._records import read_episodes, read_jsonl

    run_dir = check_run_dir(path)
    warnings: list[str] = []
    try:
        episodes = read_episodes(run_dir)
    except OSError as exc:
        raise RunError(f"{run_dir / EPISODES}: cannot read ({exc.strerror})") from None
    config = _read_json(run_dir / CONFIG, warnings)
    _register_keys(config)
    file_summary = _read_json(run_dir / SUMMARY, warnings)
    summary, source = _effective_summary(episodes, file_summary, config, warnings)
    name = _run_name(run_dir, summary, config)
    feedback: list[dict[str, Any]] = []
    try:
        feedback = list(read_jsonl(run_dir / FEEDBACK))
    except OSError as exc:
        warnings.append(f"{FEEDBACK}: cannot read ({exc.strerror})")
    return RunData(
        path=run_dir,
        name=name,
        episodes=episodes,
        summary=summary,
        summary_source=source,
        config=config,
        feedback=feedback,
        feedback_summary=_read_json(run_dir / FEEDBACK_SUMMARY, warnings),
        fidelity=_read_json(run_dir / FIDELITY, warnings),
        warnings=warnings,
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


def _read_json(path: Path, warnings: list[str]) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        warnings.append(f"{path.name}: cannot read ({exc.strerror})")
        return None
    except ValueError as exc:
        warnings.append(f"{path.name}: not valid JSON ({exc})")
        return None
    if not isinstance(data, dict):
        warnings.append(f"{path.name}: expected a JSON object")
        return None
    return data


def _effective_summary(
    episodes: list[dict[str, Any]],
    file_summary: dict[str, Any] | None,
    config: dict[str, Any] | None,
    warnings: list[str],
) -> tuple[dict[str, Any], str]:
    if file_summary is not None and file_summary.get("episodes") == len(episodes):
        return file_summary, "file"
    source = "computed" if file_summary is None else "stale"
    computed = _summarize(episodes, config, warnings)
    if file_summary is not None:
        for key in ("run", "scheduled"):
            if key in file_summary and key not in computed:
                computed[key] = file_summary[key]
        computed["complete"] = False
    return computed, source


def _summarize(
    episodes: list[dict[str, Any]], config: dict[str, Any] | None, warnings: list[str]
) -> dict[str, Any]:
    from simulacra.runs import summarize

    seed = config.get("seed") if config else 0
    try:
        summary = summarize(episodes, seed=seed if isinstance(seed, int) else 0)
    except Exception as exc:  # malformed episodes must not stop a report
        warnings.append(f"could not summarize the episodes ({type(exc).__name__}: {exc})")
        errors = sum(1 for e in episodes if e.get("status") == "error")
        summary = {"episodes": len(episodes), "errors": errors}
    return summary


def _run_name(run_dir: Path, summary: dict[str, Any], config: dict[str, Any] | None) -> str:
    for candidate in (summary.get("run"), (config or {}).get("name")):
        if isinstance(candidate, str) and candidate:
            return candidate
    return run_dir.resolve().name or str(run_dir)
