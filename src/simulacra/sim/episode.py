"""The record of one conversation.

An ``Episode`` is written as one JSON line when it finishes; everything downstream
(metrics, raters, reports, exports) reads that line. Field names are the file format.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from simulacra.llm import Usage

Status = Literal["ok", "error"]
ROLES = ("user", "target", "judge")


def episode_id(*parts: object) -> str:
    """A short deterministic id from the episode's coordinates."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def derive_seed(base: int, *parts: object) -> int:
    """A 31-bit seed derived from a base seed and coordinates (stable across runs)."""
    text = "\x1f".join([str(base), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") & 0x7FFFFFFF


@dataclass(kw_only=True)
class Episode:
    id: str
    run: str
    persona: dict[str, Any]
    task: dict[str, Any]
    target: str
    repeat: int = 0
    mode: str = "sharded"
    seed: int = 0
    status: Status = "ok"
    stop_reason: str = ""
    success: bool | None = None
    score: float | None = None
    check: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    guard_events: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, Usage] = field(default_factory=dict)
    user_turns: int = 0
    started_at: float = 0.0
    duration_s: float = 0.0
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def add_usage(self, role: str, usage: Usage) -> None:
        self.usage[role] = self.usage.get(role, Usage()) + usage

    @property
    def persona_name(self) -> str:
        return str(self.persona.get("name", ""))

    @property
    def task_id(self) -> str:
        return str(self.task.get("id", ""))

    def total_usage(self) -> Usage:
        total = Usage()
        for usage in self.usage.values():
            total = total + usage
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run": self.run,
            "persona": self.persona,
            "task": self.task,
            "target": self.target,
            "repeat": self.repeat,
            "mode": self.mode,
            "seed": self.seed,
            "status": self.status,
            "stop_reason": self.stop_reason,
            "success": self.success,
            "score": self.score,
            "check": self.check,
            "user_turns": self.user_turns,
            "messages": self.messages,
            "guard_events": self.guard_events,
            "usage": {role: usage.to_dict() for role, usage in self.usage.items()},
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 4),
            "error": self.error,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Episode:
        return cls(
            id=data["id"],
            run=data.get("run", ""),
            persona=data.get("persona") or {},
            task=data.get("task") or {},
            target=data.get("target", ""),
            repeat=int(data.get("repeat", 0)),
            mode=data.get("mode", "sharded"),
            seed=int(data.get("seed", 0)),
            status=data.get("status", "ok"),
            stop_reason=data.get("stop_reason", ""),
            success=data.get("success"),
            score=data.get("score"),
            check=data.get("check") or {},
            messages=data.get("messages") or [],
            guard_events=data.get("guard_events") or [],
            usage={role: Usage.from_dict(u) for role, u in (data.get("usage") or {}).items()},
            user_turns=int(data.get("user_turns", 0)),
            started_at=float(data.get("started_at", 0.0)),
            duration_s=float(data.get("duration_s", 0.0)),
            error=data.get("error"),
            extra=data.get("extra") or {},
        )
