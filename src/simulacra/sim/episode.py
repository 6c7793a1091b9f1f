"""The record of one conversation, and the ids and seeds that make a run reproducible.

``Episode`` is the run directory's record (``simulacra.rundir.Episode``): the runner fills
it while a conversation is played and writes it as one JSON line when it ends; every
stage downstream reads it back from the run directory.
"""

from __future__ import annotations

import hashlib

from simulacra.rundir import ROLES, Episode, Status

__all__ = ["ROLES", "Episode", "Status", "derive_seed", "episode_id"]


def episode_id(*parts: object) -> str:
    """A short deterministic id from the episode's coordinates."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def derive_seed(base: int, *parts: object) -> int:
    """A 31-bit seed derived from a base seed and coordinates (stable across runs)."""
    text = "\x1f".join([str(base), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") & 0x7FFFFFFF
