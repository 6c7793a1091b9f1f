"""What raters judge: pairs of responses, single responses, and how episodes become them.

A response is either a text or a whole conversation (a list of OpenAI-style message
dicts). Lengths (``len_a``/``len_b`` in records) count characters of what the assistant
wrote: the text itself, or the assistant messages of a conversation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from simulacra.errors import ConfigError
from simulacra.rundir import Episode

Side = Literal["A", "B"]
Verdict = Literal["A", "B", "tie"]
Conversation = Sequence[Mapping[str, Any]]
Content = str | Conversation

ROLE_NAMES = {"user": "User", "assistant": "Assistant", "tool": "Tool", "system": "System"}


def derive_seed(*parts: object) -> int:
    """A stable 31-bit seed from any parts (same parts, same seed, in every process)."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") & 0x7FFFFFFF


def render(content: Content, *, max_chars: int | None = None) -> str:
    """A text as is; a conversation as ``Role: text`` blocks (tool calls named).

    With ``max_chars``, a longer rendering keeps its beginning and end around a marker.
    """
    if isinstance(content, str):
        text = content.strip()
    else:
        blocks: list[str] = []
        for message in content:
            role = ROLE_NAMES.get(str(message.get("role", "")), str(message.get("role", "")))
            body = str(message.get("content") or "").strip()
            calls = message.get("tool_calls") or []
            names = [
                str((call.get("function") or {}).get("name", "?"))
                for call in calls
                if isinstance(call, Mapping)
            ]
            if names:
                body = (body + "\n" if body else "") + f"[calls tools: {', '.join(names)}]"
            if body:
                blocks.append(f"{role}: {body}")
        text = "\n\n".join(blocks)
    if max_chars is not None and len(text) > max_chars:
        head = max_chars // 3
        tail = max_chars - head
        text = f"{text[:head].rstrip()}\n[... {len(text) - max_chars} characters left out ...]\n{text[-tail:].lstrip()}"
    return text


def assistant_chars(content: Content) -> int:
    """Characters the assistant wrote: a text's length, or its messages' in a conversation."""
    if isinstance(content, str):
        return len(content.strip())
    return sum(
        len(str(m.get("content") or "").strip()) for m in content if m.get("role") == "assistant"
    )


def _normalised(content: Content) -> str:
    return " ".join(render(content).split())


@dataclass(frozen=True, kw_only=True, slots=True)
class PairItem:
    """Two responses (or conversations) to the same context, to be compared.

    ``meta`` carries what the records should keep (episode ids, correctness, pairing).
    An empty ``item_id`` or an empty response is a ``ConfigError`` naming the item.
    """

    item_id: str
    context: Content
    response_a: Content
    response_b: Content
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.item_id, str) or not self.item_id.strip():
            raise ConfigError("a pair needs a non-empty item_id")
        for side, response in (("response_a", self.response_a), ("response_b", self.response_b)):
            if not render(response):
                raise ConfigError(f"pair {self.item_id!r}: {side} is empty")

    @classmethod
    def from_contexts(
        cls,
        item_id: str,
        *,
        context_a: Content,
        response_a: Content,
        context_b: Content,
        response_b: Content,
        meta: Mapping[str, Any] | None = None,
    ) -> PairItem:
        """A pair from two (context, response) halves; the contexts must be the same.

        Contexts are compared after collapsing whitespace; a difference is a
        ``ConfigError`` naming the item, since the responses would answer different things.
        """
        if _normalised(context_a) != _normalised(context_b):
            raise ConfigError(
                f"pair {item_id!r}: the two responses answer different contexts "
                f"({_normalised(context_a)[:60]!r} vs {_normalised(context_b)[:60]!r})"
            )
        return cls(
            item_id=item_id,
            context=context_a,
            response_a=response_a,
            response_b=response_b,
            meta=dict(meta or {}),
        )

    @property
    def len_a(self) -> int:
        return assistant_chars(self.response_a)

    @property
    def len_b(self) -> int:
        return assistant_chars(self.response_b)

    def shown(self, first_shown: Side) -> tuple[Content, Content]:
        """The (first, second) responses for a presentation order."""
        if first_shown == "A":
            return self.response_a, self.response_b
        return self.response_b, self.response_a


@dataclass(frozen=True, kw_only=True, slots=True)
class ResponseItem:
    """One response (or conversation) to rate on a rubric, critique, or rate as the user."""

    item_id: str
    context: Content
    response: Content
    persona: Mapping[str, Any] | None = None
    episode: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.item_id, str) or not self.item_id.strip():
            raise ConfigError("an item needs a non-empty item_id")
        if not render(self.response):
            raise ConfigError(f"item {self.item_id!r}: the response is empty")


# --- episodes -----------------------------------------------------------------------------


def conversation(episode: Episode) -> list[dict[str, Any]]:
    """The user and assistant messages of an episode (tool results left out)."""
    out = []
    for message in episode.messages:
        if message.role not in ("user", "assistant"):
            continue
        item: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.tool_calls:
            item["tool_calls"] = [call.model_dump(mode="json") for call in message.tool_calls]
        out.append(item)
    return out


def final_answer(episode: Episode) -> str:
    """The last non-empty assistant message of an episode ("" if there is none)."""
    for message in reversed(episode.messages):
        if message.role == "assistant" and message.content.strip():
            return message.content.strip()
    return ""


def persona_text(persona: Mapping[str, Any] | None) -> str:
    """A short description of a persona (name, expertise, background, preferences)."""
    if not persona:
        return ""
    parts = [str(persona.get("display_name") or persona.get("name") or "a user")]
    if persona.get("expertise"):
        parts.append(f"({persona['expertise']} expertise)")
    text = " ".join(parts) + "."
    if persona.get("background"):
        text += f" {str(persona['background']).strip()}"
    preferences = [str(p) for p in persona.get("hidden_preferences") or []]
    if preferences:
        text += " Cares about: " + "; ".join(preferences) + "."
    return text


def episode_context(episode: Episode) -> str:
    """What both sides of an episode pair answer: the user's goal and who the user is."""
    goal = (episode.task.goal or episode.task.id).strip()
    who = persona_text(episode.persona.model_dump(mode="json"))
    return f"The user's goal: {goal}\nThe user: {who}" if who else f"The user's goal: {goal}"


def episode_content(episode: Episode, unit: Literal["conversation", "final"]) -> Content:
    """The part of an episode a rater sees: the whole conversation or the final answer."""
    return conversation(episode) if unit == "conversation" else final_answer(episode)


def record_key(kind: str, item_id: str, rater: str, detail: object = None) -> str:
    """The key of one judgement in ``feedback.jsonl``: a re-run skips the keys it finds."""
    parts = [kind, item_id, rater] + ([] if detail is None else [str(detail)])
    return "|".join(parts)


def judgeable(episode: Episode) -> bool:
    """An episode that finished and has at least one assistant reply with text."""
    return episode.status == "ok" and bool(final_answer(episode))
