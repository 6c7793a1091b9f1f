"""The run directory: the files that are the interface between stages.

``episodes.jsonl`` gets one line per finished episode, written with a single ``write``
and flushed at once, so a crash loses at most the episode in flight. On resume, a torn
last line (no newline, or not JSON) is cut off and any duplicated id is dropped, so the
file holds every finished episode exactly once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from simulacra.errors import RunError

EPISODES = "episodes.jsonl"
SUMMARY = "summary.json"
CONFIG = "config.json"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` via a temporary file and rename: never half-written."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    os.replace(temporary, path)


class EpisodeStore:
    """Appends finished episodes to ``episodes.jsonl`` and knows which ids are done."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.path = run_dir / EPISODES
        self.done: set[str] = set()
        self._handle: Any = None

    def repair(self) -> int:
        """Cut a torn tail and drop duplicate ids; return the number of finished episodes."""
        if not self.path.exists():
            return 0
        good: list[bytes] = []
        changed = False
        self.done.clear()
        with self.path.open("rb") as handle:
            for raw in handle:
                try:
                    item = json.loads(raw) if raw.endswith(b"\n") else None
                except ValueError:
                    item = None
                if not isinstance(item, dict) or "id" not in item or item["id"] in self.done:
                    changed = True
                    continue
                self.done.add(str(item["id"]))
                good.append(raw)
        if changed:
            temporary = self.path.with_name(f".{EPISODES}.{os.getpid()}.tmp")
            with temporary.open("wb") as out:
                out.writelines(good)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        return len(self.done)

    def open(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("ab", buffering=0)

    def append(self, episode: dict[str, Any]) -> None:
        if self._handle is None:
            raise RunError("the episode store is not open")
        if episode["id"] in self.done:
            return
        line = json.dumps(episode, ensure_ascii=False, separators=(",", ":"), default=str)
        self._handle.write(line.encode("utf-8") + b"\n")
        self.done.add(episode["id"])

    def close(self) -> None:
        if self._handle is not None:
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None
