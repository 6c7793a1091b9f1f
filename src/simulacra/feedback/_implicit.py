"""Implicit feedback: what a user's next turn says about the assistant's last reply.

Each user turn after the first is labelled with zero or more signals:

- ``rephrase``: restates an earlier user turn (high content-word overlap with one),
- ``correction``: says the assistant got something wrong ("that's wrong", "no, ..."),
- ``frustration``: annoyance or impatience ("ugh", "!!", "still not ...", capitals),
- ``gratitude``: thanks or praise,
- ``topic_switch``: moves to another subject ("by the way", or no overlap at all with
  the goal and earlier turns),
- ``abandonment``: gives up ("never mind", "forget it", or the episode stopped because
  the user gave up — only on the last user turn).

The first user turn states the request and gets no signals (unless it is also the last
one and the user gave up). Rules are transparent and cheap; an optional model classifier
(``classify_turns``) adds its own labels, which are recorded apart.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from simulacra.errors import ModelError
from simulacra.feedback._items import record_key
from simulacra.feedback._parse import parse_signals
from simulacra.feedback._templates import Template, get_template
from simulacra.llm import ChatModel, ChatParams

SIGNALS = ("rephrase", "correction", "frustration", "gratitude", "topic_switch", "abandonment")
GAVE_UP_REASONS = frozenset({"gave_up", "abandoned", "user_gave_up", "frustrated"})

_STOP = frozenset(
    {
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "so",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "this",
        "that",
        "these",
        "those",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "me",
        "my",
        "your",
        "our",
        "their",
        "its",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "should",
        "will",
        "just",
        "not",
        "no",
        "yes",
        "please",
        "what",
        "how",
        "why",
        "when",
        "where",
        "which",
        "who",
        "there",
        "here",
        "about",
        "into",
        "than",
        "too",
        "very",
        "also",
        "any",
        "some",
        "all",
        "more",
        "most",
        "such",
        "only",
        "own",
        "same",
        "have",
        "has",
        "had",
        "am",
        "im",
        "i'm",
        "it's",
        "that's",
        "don't",
    }
)
_WORD = re.compile(r"[a-z0-9']+")

_CORRECTION = re.compile(
    r"(that'?s|that is|this is|it'?s|you'?re|you are)\s+(not (right|correct|true|what)|wrong|incorrect|a mistake)"
    r"|^\s*(no|nope|nah)\b[\s,.!]"
    r"|\bnot what i (asked|meant|wanted|said|need)"
    r"|\bi (said|meant|asked for|told you)\b"
    r"|\byou (misunderstood|misread|got it wrong|forgot|missed|ignored)"
    r"|\b(incorrect|wrong|that'?s not it|not quite|mistaken)\b"
    r"|^\s*actually[,\s]",
    re.IGNORECASE | re.MULTILINE,
)
_FRUSTRATION = re.compile(
    r"!{2,}|\?!|!\?"
    r"|\b(ugh+|argh+|seriously|come on|useless|frustrat\w*|annoy\w*|ridiculous|pointless|"
    r"waste of (my )?time|for the (second|third|last) time|you keep|not helpful|unhelpful|"
    r"doesn'?t help|still (not|doesn'?t|don'?t|wrong|no)|again\?|how many times|what\?!?)\b",
    re.IGNORECASE,
)
_GRATITUDE = re.compile(
    r"\b(thanks|thank you|thank u|thx|ty|appreciate\w*|grateful|awesome|perfect|"
    r"exactly what i (needed|wanted)|that helps|that helped|(?<!not )helpful|great,? thanks?)\b"
    r"|^\s*(great|nice|cool|excellent|brilliant|lovely)\b[\s,.!]",
    re.IGNORECASE,
)
_NO_THANKS = re.compile(r"\bno,? thanks?\b", re.IGNORECASE)
_TOPIC = re.compile(
    r"\b(by the way|btw|anyway|on another note|different question|another question|"
    r"unrelated|change of topic|new topic|switching gears|something else)\b",
    re.IGNORECASE,
)
_ABANDON = re.compile(
    r"\b(never ?mind|forget it|i give up|giving up|i'?ll (figure it out|look elsewhere|do it myself|"
    r"ask someone else)|this is pointless|not worth it|i'?m done|let'?s stop|stop here)\b",
    re.IGNORECASE,
)


def content_words(text: str) -> list[str]:
    """Lower-case words without stop words."""
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1]


def similarity(a: str, b: str) -> float:
    """Cosine similarity of the content-word counts of two texts (0 when either is empty)."""
    ca, cb = Counter(content_words(a)), Counter(content_words(b))
    if not ca or not cb:
        return 0.0
    dot = sum(ca[w] * cb[w] for w in ca.keys() & cb.keys())
    norm_a = sum(v * v for v in ca.values()) ** 0.5
    norm_b = sum(v * v for v in cb.values()) ** 0.5
    return float(dot / (norm_a * norm_b))


def _shouting(text: str) -> bool:
    words = re.findall(r"\b[A-Z]{4,}\b", text)
    return len(words) >= 2 or any(len(w) >= 6 for w in words)


@dataclass(frozen=True, kw_only=True, slots=True)
class ImplicitRules:
    """Thresholds of the rules: ``rephrase`` at or above, ``topic_switch`` below."""

    rephrase_threshold: float = 0.5
    topic_threshold: float = 0.05
    topic_min_words: int = 6


@dataclass(frozen=True, kw_only=True, slots=True)
class TurnSignals:
    """The signals of one user turn: a ``kind: implicit`` JSON line.

    ``turn`` counts user turns from 0; ``message`` is the index in ``messages``.
    ``signals`` is the union of ``rule_signals`` and ``llm_signals``.
    """

    item_id: str
    episode: str | None
    turn: int
    message: int
    text: str
    rule_signals: tuple[str, ...]
    llm_signals: tuple[str, ...] | None = None
    similarity: float | None = None
    rater: str = "rules"
    error: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def signals(self) -> list[str]:
        merged = list(self.rule_signals)
        merged.extend(s for s in self.llm_signals or () if s not in merged)
        return [s for s in SIGNALS if s in merged]

    @property
    def key(self) -> str:
        return record_key("implicit", self.item_id, self.rater, self.turn)

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "item_id": self.item_id,
            "kind": "implicit",
            "rater": self.rater,
            "confidence": None,
            "episode": self.episode,
            "turn": self.turn,
            "signals": self.signals,
            "key": self.key,
            "message": self.message,
            "rule_signals": list(self.rule_signals),
            "llm_signals": None if self.llm_signals is None else list(self.llm_signals),
            "similarity_to_previous": self.similarity,
            "text": self.text[:500],
            "error": self.error,
        }
        record.update({k: v for k, v in self.meta.items() if k not in record})
        return record


def rule_signals(
    text: str,
    *,
    previous_user: Sequence[str] = (),
    previous_assistant: str = "",
    goal: str = "",
    last: bool = False,
    stop_reason: str | None = None,
    rules: ImplicitRules | None = None,
) -> tuple[list[str], float | None]:
    """The rule-based signals of one user turn, and its highest similarity to an earlier
    user turn (``rephrase`` when that is at least the threshold).

    ``topic_switch`` comes from an explicit marker ("by the way"), or from a turn with no
    other signal that shares (almost) no content words with the goal, the earlier user
    turns or the assistant's last reply.
    """
    rules = rules or ImplicitRules()
    found: list[str] = []
    sim = max((similarity(text, earlier) for earlier in previous_user), default=None)
    if sim is not None and sim >= rules.rephrase_threshold:
        found.append("rephrase")
    if _CORRECTION.search(text):
        found.append("correction")
    if _FRUSTRATION.search(text) or _shouting(text):
        found.append("frustration")
    if _GRATITUDE.search(text) and not _NO_THANKS.search(text):
        found.append("gratitude")
    if _ABANDON.search(text) or (last and stop_reason in GAVE_UP_REASONS):
        found.append("abandonment")
    if _TOPIC.search(text):
        found.append("topic_switch")
    elif not found and previous_user and len(content_words(text)) >= rules.topic_min_words:
        earlier = [*previous_user, goal, previous_assistant]
        if max(similarity(text, e) for e in earlier) < rules.topic_threshold:
            found.append("topic_switch")
    return [s for s in SIGNALS if s in found], sim


def label_turns(
    messages: Sequence[Mapping[str, Any]],
    *,
    episode: str | None = None,
    item_id: str | None = None,
    goal: str = "",
    stop_reason: str | None = None,
    rules: ImplicitRules | None = None,
) -> list[TurnSignals]:
    """Rule-based signals for every user turn of a conversation (the first gets none)."""
    user_positions = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    turns: list[TurnSignals] = []
    previous: list[str] = []
    for turn, position in enumerate(user_positions):
        text = str(messages[position].get("content") or "")
        if turn == 0:
            found: list[str] = []
            sim = None
            # an opening can still be a give-up if it is also the last turn
            if len(user_positions) == 1 and stop_reason in GAVE_UP_REASONS:
                found = ["abandonment"]
        else:
            found, sim = rule_signals(
                text,
                previous_user=previous,
                previous_assistant=_previous_assistant(messages, position),
                goal=goal,
                last=turn == len(user_positions) - 1,
                stop_reason=stop_reason,
                rules=rules,
            )
        turns.append(
            TurnSignals(
                item_id=item_id or episode or "conversation",
                episode=episode,
                turn=turn,
                message=position,
                text=text,
                rule_signals=tuple(found),
                similarity=None if sim is None else round(sim, 4),
            )
        )
        previous.append(text)
    return turns


def _previous_assistant(messages: Sequence[Mapping[str, Any]], position: int) -> str:
    for message in reversed(messages[:position]):
        if message.get("role") == "assistant" and str(message.get("content") or "").strip():
            return str(message["content"])
    return ""


async def classify_turns(
    turns: Sequence[TurnSignals],
    messages: Sequence[Mapping[str, Any]],
    model: ChatModel,
    *,
    template: Template | str = "implicit",
    rater: str = "rules+llm",
    seed: int = 0,
    max_tokens: int = 40,
) -> list[TurnSignals]:
    """Add a model's labels to each turn after the first (``llm_signals``).

    A reply without a ``Signals:`` line leaves ``llm_signals`` None with ``error`` set;
    the rule signals stand either way.
    """
    prompt = get_template(template, "implicit") if isinstance(template, str) else template
    labelled: list[TurnSignals] = []
    for item in turns:
        if item.turn == 0:
            labelled.append(replace(item, rater=rater, llm_signals=()))
            continue
        request = prompt.render(
            previous=_previous_assistant(messages, item.message)[:3000] or "(none)",
            message=item.text[:2000],
            signals=", ".join(SIGNALS),
        )
        params = ChatParams(temperature=0.0, max_tokens=max_tokens, seed=seed + item.turn)
        try:
            completion = await model.chat(request, params)
        except ModelError as exc:
            if exc.fatal:
                raise  # refused credentials: the whole judge stops
            labelled.append(replace(item, rater=rater, error=f"model error: {exc}"))
            continue
        found = parse_signals(completion.text, SIGNALS)
        if found is None:
            labelled.append(replace(item, rater=rater, error="no Signals line in the reply"))
        else:
            labelled.append(replace(item, rater=rater, llm_signals=tuple(found)))
    return labelled


def aggregate_signals(turns: Sequence[TurnSignals]) -> dict[str, Any]:
    """Per-episode counts: turns labelled, each signal's count, and ``negative`` /
    ``positive`` totals (correction+frustration+rephrase+abandonment vs gratitude)."""
    counts = Counter(s for t in turns for s in t.signals)
    labelled = [t for t in turns if t.turn > 0]
    negative = sum(counts[s] for s in ("rephrase", "correction", "frustration", "abandonment"))
    return {
        "user_turns": len(turns),
        "follow_up_turns": len(labelled),
        "signals": {s: counts.get(s, 0) for s in SIGNALS},
        "negative": negative,
        "positive": counts.get("gratitude", 0),
        "abandoned": counts.get("abandonment", 0) > 0,
    }
