"""The run directory: the files that are the interface between stages.

``episodes.jsonl`` gets one line per finished episode, written with a single ``write``
and flushed at once, so a crash loses at most the episode in flight. On resume, a torn
last line (no newline, or not JSON) is cut off and any duplicated id is dropped, so the
file holds every finished episode exactly once.
"""

from __future__ import annotations

from pathlib import Path

from simulacra._records import KeyedLog, write_json_atomic

__all__ = ["CONFIG", "EPISODES", "SUMMARY", "EpisodeStore", "write_json_atomic"]

EPISODES = "episodes.jsonl"
SUMMARY = "summary.json"
CONFIG = "config.json"


class EpisodeStore(KeyedLog):
    """``episodes.jsonl`` of a run directory, keyed by episode id."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(run_dir / EPISODES, key="id")
