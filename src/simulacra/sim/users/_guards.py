"""Guards on a simulated user's turn.

Small, assistant-tuned models drift into the assistant's role, blurt out every hidden
fact at once, drop the fact they were meant to give, go silent or repeat themselves.
Each guard inspects a candidate turn and names the problem; the simulator regenerates a
bounded number of times and then falls back to a plain statement. Every hit is recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from simulacra.tasks import Fact

_ASSISTANT_PHRASES = re.compile(
    r"|".join(
        [
            r"\bhow (?:can|may) i (?:help|assist)",
            r"\bi(?:'d| would) be (?:happy|glad) to (?:help|assist)",
            r"\b(?:happy|glad) (?:i could|to) help\b",
            r"\bi can help you\b",
            r"\blet me know if (?:you|there)",
            r"\bfeel free to\b",
            r"\bas an ai\b",
            r"\bi'?m (?:an|a) (?:ai|assistant|language model)\b",
            r"\bhere(?:'s| is) (?:the|a|your) (?:solution|answer|breakdown|calculation|step)",
            r"\bstep[- ]by[- ]step\b",
            r"\byou'?re welcome\b",
            r"\bis there anything else\b",
            r"\bi hope (?:this|that) helps\b",
            r"^(?:sure|certainly|of course|absolutely)\b[!,.]",
            r"\bto (?:calculate|find|determine) (?:the|how|this)\b",
            r"\byour (?:message|request|question)\b",
            r"\*\*|^#+ |\n\s*\d+\.\s",  # markdown structure: assistants format, people rarely do
        ]
    ),
    re.IGNORECASE | re.MULTILINE,
)
_QUOTES = "\"'“”‘’`"
_LABEL = re.compile(
    r"^\s*(?:\*\*)?(?:user|human|me|message|rewritten(?: message)?|[A-Z][a-z]+)\s*(?:\*\*)?:\s+"
)


@dataclass(frozen=True, kw_only=True, slots=True)
class GuardEvent:
    turn: int
    guard: str
    action: str  # "regenerate" | "fallback" | "truncate"
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "turn": self.turn,
            "guard": self.guard,
            "action": self.action,
            "detail": self.detail,
        }


def clean_turn(text: str) -> str:
    """Remove wrappers models put around a message: quotes, speaker labels, trailing notes."""
    text = text.strip()
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    text = paragraphs[0].strip() if paragraphs else ""
    text = _LABEL.sub("", text, count=1)
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    elif text[:1] in _QUOTES and text.count(text[0]) == 1:
        text = text[1:].strip()
    return " ".join(text.split())


def similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a.lower(), b.lower(), autojunk=False).ratio()


# "you" as the one whose situation it is ("save you", "you'd need"), not "can you check"
_SITUATION_OF_YOU = re.compile(
    r"\b(?:save|saves|cost|costs|give|gives|get|gets|owe|owes|charge|charges) you\b"
    r"|\byou(?:'d|'ll| would| will| could)? (?:save|need|have|pay|get|spend|owe|want)\b",
    re.I,
)


def role_drift(text: str, planned: str) -> str | None:
    """Assistant-like phrasing, or the user talking about "your" problem."""
    match = _ASSISTANT_PHRASES.search(text)
    if match:
        return f"assistant-like phrase {match.group(0).strip()!r}"
    owns = re.search(r"\b(?:my|i|i'm|me)\b", planned, re.I)
    addresses = re.search(r"\byou\b|\byour\b", planned, re.I)
    if owns and not addresses:
        if re.search(r"\byour\b", text, re.I):
            return "speaks of 'your' where the user means their own situation"
        if _SITUATION_OF_YOU.search(text) and not re.search(r"\b(?:my|i|i'm|me)\b", text, re.I):
            return "speaks to the user about their situation instead of as the user"
    return None


def leaked_facts(text: str, planned: str, hidden: list[Fact]) -> list[Fact]:
    """Hidden facts the turn mentions although the plan did not include them."""
    return [fact for fact in hidden if fact.mentioned_in(text) and not fact.mentioned_in(planned)]


def dropped_fact(text: str, fact: Fact | None) -> bool:
    return fact is not None and bool(fact.mention_keys()) and not fact.mentioned_in(text)


_STOPWORDS = frozenset(
    [
        "that",
        "this",
        "with",
        "what",
        "have",
        "just",
        "your",
        "from",
        "they",
        "them",
        "then",
        "than",
        "there",
        "their",
        "about",
        "would",
        "could",
        "should",
        "will",
        "need",
        "want",
        "know",
        "does",
        "make",
        "much",
        "many",
        "more",
        "some",
        "into",
        "also",
        "been",
        "were",
        "when",
        "where",
        "which",
        "while",
        "still",
        "okay",
    ]
)


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in _STOPWORDS}


def off_plan(text: str, planned: str) -> bool:
    """The turn shares no content word with what the user meant to say."""
    wanted = _content_words(planned)
    return bool(wanted) and not (wanted & _content_words(text))


def repeated(text: str, previous: list[str], threshold: float = 0.9) -> bool:
    return any(similarity(text, before) >= threshold for before in previous)


def check_turn(
    text: str,
    *,
    planned: str,
    fact: Fact | None,
    hidden: list[Fact],
    previous: list[str],
) -> tuple[str, str] | None:
    """The first problem with a candidate turn as ``(guard, detail)``, or ``None``."""
    if not text.strip():
        return "empty", "the model wrote nothing usable"
    drift = role_drift(text, planned)
    if drift:
        return "role_drift", drift
    leaks = leaked_facts(text, planned, hidden)
    if leaks:
        return "leak", f"{len(leaks)} hidden fact(s) revealed early: " + "; ".join(
            f.text for f in leaks
        )
    if dropped_fact(text, fact):
        assert fact is not None
        return "dropped_fact", f"the turn should say: {fact.text}"
    if fact is None and off_plan(text, planned):
        return "off_plan", "the turn does not say what the user meant to say"
    if repeated(text, previous):
        return "repetition", "near-identical to an earlier user turn"
    return None
