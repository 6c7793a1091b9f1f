"""Loading conversations: a corpus of real chats, or a run directory's episodes.

A corpus file is JSONL, one conversation per line, either a bare list of messages or an
object with ``messages`` (and optionally ``id``, ``metadata`` and ``task``: lines of one
task are not compared with each other, see :class:`~simulacra.trust.TaskConversation`).
A message is ``{"role": ..., "content": ...}``; ``{"from": ..., "value": ...}`` is
accepted too, and so is content given as a list of ``{"type": "text", "text": ...}``
parts. Roles ``human`` and ``gpt``/``bot``/``model`` are read as ``user`` and
``assistant``; other roles (system, tool) are kept and ignored by the measures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulacra._records import read_jsonl_values
from simulacra.errors import ConfigError, RunError
from simulacra.rundir import Episode
from simulacra.trust._realism import TaskConversation

Message = dict[str, str]

_ROLE_ALIASES = {
    "human": "user",
    "user": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "bot": "assistant",
    "model": "assistant",
    "chatbot": "assistant",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Corpus:
    """Conversations from one source; ``skipped`` had no user turn and are left out."""

    conversations: list[list[Message]]
    ids: list[str]
    source: str
    skipped: int = 0


def _content(value: Any, where: str, source: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for part in value:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    if value is None:
        return ""
    raise ConfigError(f"message content must be text, got {value!r}", source=source, field=where)


def _message(raw: Any, number: int, index: int, source: str) -> Message:
    where = f"line {number}, message {index}"
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"a message must be an object with role and content, got {raw!r}",
            source=source,
            field=where,
        )
    role = raw.get("role", raw.get("from"))
    if not isinstance(role, str) or not role.strip():
        raise ConfigError("message has no role", source=source, field=where)
    content = next((raw[k] for k in ("content", "value", "text") if k in raw), None)
    normalised = role.strip().lower()
    return {
        "role": _ROLE_ALIASES.get(normalised, normalised),
        "content": _content(content, where, source),
    }


def _task(row: Mapping[str, Any]) -> str | None:
    """The task a corpus line says it played: ``task`` (a name, or an object with an
    ``id``, as simulacra's exports write it) or ``metadata.task``."""
    metadata = row.get("metadata")
    for given in (row.get("task"), metadata.get("task") if isinstance(metadata, Mapping) else None):
        if isinstance(given, Mapping):
            given = given.get("id")
        if isinstance(given, str | int) and str(given).strip():
            return str(given)
    return None


def read_conversations(path: str | Path) -> Corpus:
    """Read a JSONL corpus of conversations, validating every line and message."""
    file = Path(path)
    source = str(file)
    conversations: list[list[Message]] = []
    ids: list[str] = []
    skipped = 0
    for number, value in read_jsonl_values(file):
        task: str | None = None
        if isinstance(value, Mapping):
            raw = next(
                (value[k] for k in ("messages", "conversation", "turns") if k in value), None
            )
            identifier = value.get("id")
            task = _task(value)
        else:
            raw, identifier = value, None
        if not isinstance(raw, list):
            raise ConfigError(
                "expected a list of messages, or an object with a 'messages' (or 'turns') list",
                source=source,
                field=f"line {number}",
            )
        messages = [_message(m, number, i, source) for i, m in enumerate(raw, start=1)]
        if not any(m["role"] == "user" and m["content"].strip() for m in messages):
            skipped += 1
            continue
        # a line that names its task (an exported run) is compared only with other tasks
        conversations.append(TaskConversation(messages, task=task) if task else messages)
        ids.append(str(identifier) if identifier is not None else f"line-{number}")
    if not conversations:
        raise ConfigError("no conversation with a user turn in this file", source=source)
    return Corpus(conversations=conversations, ids=ids, source=source, skipped=skipped)


def run_corpus(run_dir: str | Path) -> Corpus:
    """The conversations of a run directory's episodes (those with a user turn), each a
    :class:`~simulacra.trust.TaskConversation` naming its task."""
    from simulacra.rundir import RunDir

    run = RunDir.open(run_dir)
    conversations: list[list[Message]] = []
    ids: list[str] = []
    skipped = 0
    for episode in run.episodes():
        messages: list[Message] = [{"role": m.role, "content": m.content} for m in episode.messages]
        if not any(m["role"] == "user" and m["content"].strip() for m in messages):
            skipped += 1
            continue
        # conversations of one task are not compared with each other (TaskConversation)
        conversations.append(TaskConversation(messages, task=episode.task.id))
        ids.append(episode.id)
    if not conversations:
        raise RunError(f"{run.path}: no episode with a user turn")
    return Corpus(conversations=conversations, ids=ids, source=str(run.path), skipped=skipped)


def run_episodes(run_dir: str | Path) -> dict[str, Episode]:
    """A run directory's episodes by id (for responses and system names)."""
    from simulacra.rundir import RunDir

    return {episode.id: episode for episode in RunDir.open(run_dir).episodes()}


__all__ = ["Corpus", "read_conversations", "run_corpus", "run_episodes"]
