"""Reading user files of records (YAML or JSONL) with errors that say where."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simulacra.errors import ConfigError


def validation_message(error: ValidationError) -> str:
    """Every problem of a pydantic error as ``field.path: message``, joined."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in error.errors()
    )


def read_records(path: Path, *, what: str) -> Any:
    """The parsed content of a YAML file (safely loaded) or a JSONL file (a list).

    ``what`` names the file's kind in errors ("persona file"); JSON errors name the line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {what} ({exc.strerror})", source=str(path)) from None
    if path.suffix == ".jsonl":
        items = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ConfigError(
                    f"invalid JSON ({exc.msg})", source=str(path), field=f"line {number}"
                ) from None
        return items
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise ConfigError(
            f"invalid YAML: {getattr(exc, 'problem', exc)}", source=str(path), field=where
        ) from None


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Complete JSON lines of a file; a torn last line is skipped."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break
            try:
                item = json.loads(raw)
            except ValueError:
                continue
            if isinstance(item, dict):
                yield item


def read_episodes(run_dir: str | Path) -> list[dict[str, Any]]:
    """Every episode of a run directory, each id once (the first occurrence)."""
    seen: set[str] = set()
    episodes = []
    for item in read_jsonl(Path(run_dir) / "episodes.jsonl"):
        if item.get("id") not in seen:
            seen.add(str(item.get("id")))
            episodes.append(item)
    return episodes
