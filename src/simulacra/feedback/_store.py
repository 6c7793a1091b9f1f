"""``feedback.jsonl``: one JSON line per judgement, written whole and flushed at once.

Each line has a ``key`` (kind, item, rater and, for rubric and implicit lines, the
dimension or turn). A re-run skips keys already present, after cutting a torn last line
and dropping duplicated keys, so the file never holds half a line or the same judgement
twice. ``feedback_config.json`` remembers the raters config that wrote the file; adding to
it with a different config needs ``overwrite``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from simulacra.errors import ConfigError, RunError

FEEDBACK = "feedback.jsonl"
FEEDBACK_SUMMARY = "feedback_summary.json"
FEEDBACK_CONFIG = "feedback_config.json"


def write_json_atomic(path: Path, data: Any) -> None:
    """JSON to ``path`` via a temporary file and a rename: never half-written."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(
        json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    os.replace(temporary, path)


def _lines(path: Path) -> Iterator[tuple[bytes, dict[str, Any] | None]]:
    with path.open("rb") as handle:
        for raw in handle:
            item = None
            if raw.endswith(b"\n"):
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = None
                if isinstance(parsed, dict):
                    item = parsed
            yield raw, item


def read_feedback(run_dir: str | Path) -> list[dict[str, Any]]:
    """The complete lines of ``RUN_DIR/feedback.jsonl`` (each key once, the first)."""
    path = Path(run_dir) / FEEDBACK
    if not path.exists():
        return []
    seen: set[str] = set()
    records: list[dict[str, Any]] = []
    for _, item in _lines(path):
        if item is None:
            continue
        key = str(item.get("key", len(records)))
        if key in seen:
            continue
        seen.add(key)
        records.append(item)
    return records


class FeedbackStore:
    """Appends judgements to ``RUN_DIR/feedback.jsonl``; knows which keys are done."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.path = run_dir / FEEDBACK
        self.done: set[str] = set()
        self._handle: Any = None

    def prepare(self, fingerprint: Mapping[str, Any], *, overwrite: bool = False) -> int:
        """Get the directory ready; return how many judgements are already there."""
        if not self.run_dir.is_dir():
            raise ConfigError("run directory not found", source=str(self.run_dir))
        saved = self.run_dir / FEEDBACK_CONFIG
        if overwrite:
            for name in (FEEDBACK, FEEDBACK_SUMMARY, FEEDBACK_CONFIG):
                (self.run_dir / name).unlink(missing_ok=True)
        if self.path.exists() and self.path.stat().st_size > 0 and saved.exists():
            try:
                before = json.loads(saved.read_text(encoding="utf-8"))
            except ValueError:
                before = None
            if before is not None and before != json.loads(json.dumps(dict(fingerprint))):
                raise RunError(
                    f"{self.path} was written with a different raters config; "
                    "pass --overwrite to judge again from scratch"
                )
        count = self.repair()
        write_json_atomic(saved, dict(fingerprint))
        return count

    def repair(self) -> int:
        """Cut a torn tail and drop duplicated keys; return the number of judgements."""
        self.done.clear()
        if not self.path.exists():
            return 0
        good: list[bytes] = []
        changed = False
        for raw, item in _lines(self.path):
            if item is None or "key" not in item or item["key"] in self.done:
                changed = True
                continue
            self.done.add(str(item["key"]))
            good.append(raw)
        if changed:
            temporary = self.path.with_name(f".{FEEDBACK}.{os.getpid()}.tmp")
            with temporary.open("wb") as out:
                out.writelines(good)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        return len(self.done)

    def open(self) -> None:
        self._handle = self.path.open("ab", buffering=0)

    def append(self, record: Mapping[str, Any]) -> bool:
        """Write one judgement as a single line; False if its key was already there."""
        if self._handle is None:
            raise RunError("the feedback store is not open")
        key = str(record["key"])
        if key in self.done:
            return False
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
        self._handle.write(line.encode("utf-8") + b"\n")
        self.done.add(key)
        return True

    def close(self) -> None:
        if self._handle is not None:
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None
