"""Summaries of episodes written as JSON lines, as a test writes them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from simulacra.rundir import Episode, breakdowns, summarize


def summary_of(episodes: Iterable[Mapping[str, Any]], *, seed: int = 0) -> dict[str, Any]:
    """``summary.json`` of these episode lines: read as records, then summarised."""
    return summarize([Episode.from_dict(dict(e)) for e in episodes], seed=seed).to_dict()


def breakdowns_of(episodes: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The breakdowns of these episode lines, as ``summary.json`` writes them."""
    return breakdowns([Episode.from_dict(dict(e)) for e in episodes])
