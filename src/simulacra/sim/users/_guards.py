"""Guards on a simulated user's turn.

Small, assistant-tuned models drift into the assistant's role, blurt out every hidden
fact at once, drop the fact they were meant to give, go silent or repeat themselves.
Each guard inspects a candidate turn and names the problem; the simulator regenerates a
bounded number of times and then falls back to a plain statement. Every hit is recorded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from simulacra.llm import ChatModel, ChatParams, Message, Usage
from simulacra.tasks import Fact

T = TypeVar("T")

_ASSISTANT_PHRASES = re.compile(
    r"|".join(
        [
            r"\bhow (?:can|may) i (?:help|assist)",
            r"\bi(?:'d| would) be (?:happy|glad) to (?:help|assist)",
            r"\b(?:happy|glad) (?:i could|to) help\b",
            r"\bi can help you\b",
            r"\bi can (?:find|book|get|recommend|suggest|reserve) (?:you|that for you|one for you)\b",
            r"\blet me know if (?:you|there)",
            r"\bfeel free to\b",
            r"\bas an ai\b",
            r"\bi'?m (?:an|a) (?:ai|assistant|language model)\b",
            r"\bhere(?:'s| is| are) (?:the|a|an|your) (?:\w+ )?(?:solution|answer|breakdown|"
            r"calculation|steps?|code|function|implementation|result|summary|version|draft)",
            r"\bstep[- ]by[- ]step\b",
            r"\byou'?re welcome\b",
            r"\bis there anything else\b",
            r"\bi hope (?:this|that) helps\b",
            # an opener is assistant-like only with what assistants say after it: people
            # write "Sure, 10 people" and "Absolutely, I would love to book a table"
            r"^(?:sure|certainly|of course|absolutely)\b[!,.]?\s+(?:here\b|let me\b|let's\b|"
            r"i can (?:help|do that|assist)|i(?:'d| would)? ?be (?:happy|glad)|i'll help|"
            r"i will help|the answer\b|to (?:calculate|find|solve|determine)\b)",
            r"\bto (?:calculate|find|determine) (?:the|how|this)\b",
            r"\byour (?:message|request|question)\b",
            # reading the prompt back ("Based on the message, eating Italian food …")
            r"\bbased on (?:the|your|this|that) (?:message|information|details?|description|"
            r"conversation|context|request)\b|\bthe message (?:tells|says|suggests)\b",
            r"\bwould you like\b",  # offering: 16% of MultiWOZ's assistant turns, no user's
            r"^\W*(?:certainly|surely)!",
            r"\bglad (?:you|that you) (?:found|liked|enjoyed)\b|\bglad (?:i could|to hear)\b",
            r"\bapologi[sz]e for (?:the|any) (?:inconvenience|confusion)\b",
            r"\bsorry to hear\b",
            # talking about the message being written rather than writing it
            r"\b(?:the|your|my) (?:original|rewritten|revised) (?:sentence|message|text|request)\b",
            r"\bto make it more accurate\b",
            # refusals
            r"\bi'?m sorry,? but i (?:can(?:not|'t)|am unable|'m unable|won't)\b",
            r"\bi(?: can(?:not|'t)| am unable to|'m unable to| won't) (?:assist|help) with (?:that|this|your)",
            r"\bgoes against my (?:guidelines|programming)\b",
            r"\bi (?:can(?:not|'t)|am unable to|'m unable to) (?:provide|fulfil|fulfill|comply)",
            # writing out a solution
            r"\bto solve (?:the|this) (?:problem|question|task)\b",
            r"\b(?:we|you) (?:need|have) to follow these steps\b",
            r"\bfollow these steps\b",
            r"\bhere are (?:the|some) (?:steps|options|ways)\b",
            r"\blet'?s (?:break (?:it|this|that) down|calculate|solve|compute)\b",
            r"\bstep \d+\s*[:.]",
            r"\bwe (?:need to|can|will|have to) (?:calculate|find|determine|compute|multiply|divide)\b",
            # worked arithmetic, the figures with their units or nouns ("300g / 10 people =")
            r"\b\d+(?:[.,]\d+)?\s*(?:[a-z%]+\.?\s*){0,2}[x×*/÷+−-]\s*[$£€]?\d+(?:[.,]\d+)?"
            r"\s*(?:[a-z%]+\.?\s*){0,2}=",
            r"\*\*|^#+ |\n\s*\d+\.\s|```",  # markdown structure: assistants format, people rarely do
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
    elif text[:1] and text[:1] in _QUOTES and text.count(text[0]) == 1:
        text = text[1:].strip()
    return " ".join(text.split())


def rejected(
    failed: list[tuple[str, str]],
    events: list[GuardEvent],
    problem: tuple[str, str],
    text: str,
    *,
    turn: int,
    last_attempt: bool,
) -> bool:
    """Record a candidate turn a guard rejected (in ``failed`` and as a guard event);
    True when it is the last try: the attempts ran out, or the model failed the same
    way twice running with nearly the same text, so another sample won't help."""
    guard, detail = problem
    stuck = bool(failed) and failed[-1][0] == guard and similar(failed[-1][1], text, 0.8)
    failed.append((guard, text))
    last_try = last_attempt or stuck
    action = "fallback" if last_try else "regenerate"
    events.append(GuardEvent(turn=turn, guard=guard, action=action, detail=detail))
    return last_try


REDRAW_PROBES = 16
"""Redraws of one kind a run tries with a user model before it judges whether they help."""


@dataclass
class RedrawRecord:
    """How drawing a turn again has gone, so far, for one user model and one kind of
    redraw: the first or the second, after a role drift or after another guard.

    A model that answers as the assistant mostly does so again when asked again, and a
    small model that failed a guard twice seldom passes on the third try. The first
    ``REDRAW_PROBES`` redraws of a kind are tried; from then on they are tried only while
    at least one in eight of them gave a turn that passed the guards, and otherwise the
    turn goes straight to the plain planned text (its guard event says so). Redraws still
    in flight count towards the first ``REDRAW_PROBES``, so a run of many episodes at once
    does not start them all blind. Each process keeps its own records (on Ray, each
    worker learns for itself). With many episodes at once, which turns are redrawn
    around the moment a record closes depends on the order calls come back.
    """

    tried: int = 0
    helped: int = 0
    pending: int = 0

    def worth_trying(self) -> bool:
        if self.tried + self.pending < REDRAW_PROBES:
            return True
        return self.tried >= REDRAW_PROBES and 8 * self.helped >= self.tried

    def start(self) -> None:
        self.pending += 1

    def finish(self, *, helped: bool | None) -> None:
        """A redraw came back (``helped``: its turn passed), or failed (None)."""
        self.pending -= 1
        if helped is not None:
            self.tried += 1
            self.helped += helped


_RECORDS: WeakKeyDictionary[object, dict[tuple[bool, int], RedrawRecord]] = WeakKeyDictionary()


def redraw_record(model: object, guard: str, redraw: int) -> RedrawRecord:
    """The record of ``model``'s ``redraw``-th redraw (1, 2, …) after ``guard`` fired: a
    run builds its models, so this is the run's. Redraws after a role drift are counted
    apart from those after the other guards."""
    records = _RECORDS.get(model)
    if records is None:
        records = _RECORDS[model] = {}
    return records.setdefault((guard == "role_drift", redraw), RedrawRecord())


@dataclass
class Drawn(Generic[T]):
    """What ``draw_turn`` got: the first candidate that passed (None: none did)."""

    said: T | None
    events: list[GuardEvent]
    usage: Usage
    calls: int
    drifted: bool  # every candidate was rejected as role drift


async def draw_turn(
    model: ChatModel,
    prompt: list[Message],
    params: Callable[[int], ChatParams],
    check: Callable[[str], tuple[T, tuple[str, str] | None]],
    *,
    attempts: int,
    turn: int,
) -> Drawn[T]:
    """Up to ``attempts`` candidates from ``model`` (``params(attempt)`` for each), each
    checked by ``check`` (what it says, and the guard's problem with it or None), until
    one passes; every rejection is a guard event. A redraw is skipped when the run's
    record says redraws of its kind do not help this model (see ``RedrawRecord``), or
    when the model failed the same way twice with nearly the same text."""
    events: list[GuardEvent] = []
    failed: list[tuple[str, str]] = []
    usage = Usage()
    record: RedrawRecord | None = None  # the record of the draw in hand, when a redraw
    for attempt in range(attempts):
        if record is not None:
            record.start()
        try:
            completion = await model.chat(prompt, params(attempt))
        except BaseException:
            if record is not None:
                record.finish(helped=None)
            raise
        usage = usage + completion.usage
        said, problem = check(completion.text)
        if record is not None:
            record.finish(helped=problem is None)
        if problem is None:
            return Drawn(said, events, usage, attempt + 1, drifted=False)
        record = None
        if attempt < attempts - 1:
            record = redraw_record(model, problem[0], attempt + 1)
            if not record.worth_trying():
                record = None
        if rejected(
            failed, events, problem, completion.text, turn=turn, last_attempt=record is None
        ):
            break
    drifted = bool(failed) and all(guard == "role_drift" for guard, _ in failed)
    return Drawn(None, events, usage, len(failed), drifted=drifted)


def similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a.lower(), b.lower(), autojunk=False).ratio()


def similar(a: str, b: str, threshold: float) -> bool:
    """``similarity(a, b) >= threshold``, with the cheap upper bounds tried first (the
    full ratio is quadratic in the texts' lengths, and long replies rarely come close)."""
    matcher = SequenceMatcher(None, a.lower(), b.lower(), autojunk=False)
    return (
        matcher.real_quick_ratio() >= threshold
        and matcher.quick_ratio() >= threshold
        and matcher.ratio() >= threshold
    )


# "you" as the one whose situation it is ("save you", "you'd need"), not "can you check"
_SITUATION_OF_YOU = re.compile(
    r"\b(?:save|saves|cost|costs|give|gives|get|gets|owe|owes|charge|charges) you\b"
    r"|\byou(?:'d|'ll| would| will| could)? (?:save|need|have|pay|get|spend|owe|want)\b",
    re.I,
)


_ANSWERS_REQUEST = re.compile(
    r"^\W*(?:(?:yes|yeah|yep|yrs|sure|ok|okay)\W+)?(?:there (?:is|are|'s)\b|"
    r"you (?:should|can|could|will|need to|might)\b|(?:are|were) you looking for\b|"
    r"do you (?:need|want)\b)|^\W*(?:yes|yeah|yep|yrs)\W+(?:there|it|they|that)\b",
    re.I,
)
"""An opening that answers the request it was meant to make ("Yes, there is a good
vegetarian restaurant nearby.", "You should call the train at 10:00."): no opening of
the 600 real conversations of the shared MultiWOZ and Taskmaster samples does this."""


_CLAUSE_BREAK = re.compile(r"[.!?,;:]+")
# a clause that answers a question with yes or no ("yes they take card")
_YES_NO_ANSWER = re.compile(r"\W*(?:yes|yeah|yep|no|nope)\W+(?:there|they|it|that)\b", re.I)
# a clause that asks without a question mark ("do they take card", "so is it open")
_ASKING_CLAUSE = re.compile(
    r"\W*(?:(?:so|and|also|oh|ok|okay|but|then|hi|hello|hey|great|thanks|thank you|yes|"
    r"yeah)\W+)*(?:can|could|would|should|may|is|are|do|does|did|will|have you|isn'?t|"
    r"don'?t|doesn'?t)\b",
    re.I,
)
# anywhere in a turn: a question word ("it closes at what time"), an inverted question
# ("can you", "do they"), or a request put as a statement ("tell me whether …")
_ASKS_ANYWAY = re.compile(
    r"\b(?:what|whats|what's|how|why|when|where|who|which|whether|wonder\w*)\b"
    r"|\b(?:can|could|would|may|will) (?:i|you|u|we)\b|\b(?:do|does|is|are) (?:you|they|it|there)\b"
    r"|\b(?:give me|tell me|let me know|find out)\b",
    re.I,
)
# what an answer about the assistant's side has: a subject with its verb ("they take
# card", "it has free parking") or a thing with its value ("entrance fee is $5"); not a
# bare request ("the address and postcode", "open on sunday")
_ASSERTS = re.compile(
    r"\b(?:they|it|there|he|she)(?:'s|'re|\s+(?:is|are|was|were|has|have|had|do|does|did|"
    r"don'?t|doesn'?t|can'?t|won'?t|isn'?t|aren'?t|takes?|costs?|accepts?|offers?|serves?|"
    r"opens?|closes?|charges?))\b"
    r"|\b\w+ (?:is|are|costs?) (?:\$|£|€|\d|free|open|closed|included|available|not)",
    re.I,
)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i'd|i'll|me|my|we|we're|we'd|us|our)\b", re.I)


def _clauses(text: str) -> list[str]:
    # split first, then match each clause from its start: a pattern scanning for a
    # clause start itself backtracks badly on a long run of punctuation
    return [part for part in _CLAUSE_BREAK.split(text[:2000]) if part.strip()]


def answers_own_question(text: str, planned: str) -> str | None:
    """A turn meant to ask something ("Do they take card?") that answers it instead
    ("yes they take card", "They take card", "entrance fee is $5"): the assistant's part.
    None when the turn still asks (with or without a question mark, or as a request:
    "tell me whether they take card"), says only a bare request ("the address and
    postcode"), speaks of the user's own situation ("we're 10"), or was not meant to
    ask."""
    if "?" not in planned or "?" in text:
        return None
    clauses = _clauses(text)
    for clause in clauses:
        match = _YES_NO_ANSWER.match(clause)
        if match and not _ASKS_ANYWAY.search(clause):  # not "yeah that works, can I …"
            return f"answers the question it should ask ({match.group(0).strip()!r})"
    if _ASKS_ANYWAY.search(text) or any(_ASKING_CLAUSE.match(c) for c in clauses):
        return None
    stated = _ASSERTS.search(text)
    if stated and not _FIRST_PERSON.search(text):
        return f"states what it should ask ({stated.group(0).strip()!r})"
    return None


def answers_request(text: str) -> str | None:
    """An opening turn written as the answer to its own request, or None."""
    match = _ANSWERS_REQUEST.search(text)
    if match:
        return f"the opening answers its own request ({match.group(0).strip()!r})"
    return None


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


_KEY_WORD = re.compile(r"[a-z][a-z'-]{3,}")
_GENERIC = frozenset(
    [
        "i'm",
        "i've",
        "it's",
        "that's",
        "want",
        "need",
        "like",
        "would",
        "could",
        "should",
        "have",
        "with",
        "this",
        "that",
        "there",
        "their",
        "they",
        "them",
        "then",
        "than",
        "about",
        "also",
        "just",
        "really",
        "very",
        "some",
        "many",
        "much",
        "more",
        "most",
        "only",
        "other",
        "make",
        "makes",
        "made",
        "know",
        "think",
        "people",
        "thing",
        "things",
        "something",
    ]
)


def fact_keys(fact: Fact) -> tuple[list[str], int]:
    """What shows that a turn mentions ``fact``, and how many of them must appear.

    The fact's own ``keys`` (all of them) or its numbers (all of them); a fact with
    neither is known by its key phrase: its content words, of which most must appear
    (a paraphrase keeps most of them, another turn shares few).
    """
    keys = fact.mention_keys()
    if keys:
        return keys, len(keys)
    words = [w for w in _KEY_WORD.findall(fact.text.lower()) if w not in _GENERIC]
    words = [w for w in dict.fromkeys(words) if w not in STOPWORDS]
    return words, max(1, math.ceil(0.6 * len(words))) if words else 0


def _stem(word: str) -> str:
    return word[:5] if len(word) > 5 else word


def mentions(fact: Fact, text: str) -> bool:
    """Whether ``text`` mentions ``fact`` (see :func:`fact_keys`)."""
    keys, needed = fact_keys(fact)
    if not keys:
        return False
    if fact.mention_keys():
        return fact.mentioned_in(text)
    stems = {_stem(w) for w in _KEY_WORD.findall(text.lower())}
    return sum(_stem(key) in stems for key in keys) >= needed


def leaked_facts(text: str, planned: str, hidden: list[Fact]) -> list[Fact]:
    """Hidden facts the turn mentions although the plan did not include them."""
    return [fact for fact in hidden if mentions(fact, text) and not mentions(fact, planned)]


def dropped_fact(text: str, fact: Fact | None) -> bool:
    return fact is not None and bool(fact_keys(fact)[0]) and not mentions(fact, text)


def _key_stems(text: str) -> set[str]:
    words = _KEY_WORD.findall(text.lower())
    return {_stem(w) for w in words if w not in _GENERIC and w not in STOPWORDS}


def dropped_goal(text: str, goal: str, details: Sequence[str]) -> bool:
    """An opening that says a detail of the request and nothing of the request itself:
    "Yes, a large one, please." for "Can I get a latte with oat milk?" and its detail "A
    large one, please.". An opening that says neither is left alone: people open
    vaguely too ("I need somewhere to go.")."""
    wanted = _key_stems(goal)
    if not wanted:
        return False
    said = _key_stems(text)
    if said & wanted:
        return False
    detail = set().union(*(_key_stems(d) for d in details)) - wanted
    return bool(said & detail)


def example_leak(text: str, context: str, markers: re.Pattern[str] | None) -> str | None:
    """A word of the prompt's worked examples that the turn repeats although nothing in
    this conversation or plan has it (the eggs of an example turning up in a bill split)."""
    if markers is None:
        return None
    lowered = context.lower()
    for match in markers.finditer(text):
        if match.group(0).lower() not in lowered:
            return match.group(0)
    return None


STOPWORDS = frozenset(
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
    return {w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in STOPWORDS}


def off_plan(text: str, planned: str) -> bool:
    """The turn shares no content word with what the user meant to say."""
    wanted = _content_words(planned)
    return bool(wanted) and not (wanted & _content_words(text))


ECHO_WORDS = 5
"""A run of this many words copied from the assistant's last reply is an echo: real users
do it in 0.2% (MultiWOZ) and 0% (Taskmaster) of their replies (docs/trust.md)."""
_WORD = re.compile(r"[a-z0-9']+")


def _runs(text: str, n: int) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def echoed(text: str, reply: str, own: str = "", n: int = ECHO_WORDS) -> str | None:
    """A run of ``n`` words the turn copies from the assistant's ``reply`` that the user
    had not said themselves (``own``: their plan and earlier words, which the assistant
    may quote back), or ``None``. Small models voicing a user copy the reply they are
    answering ("by calling the hotel to inquire about their parking services")."""
    copied = (_runs(text, n) & _runs(reply, n)) - _runs(own, n)
    words = _WORD.findall(text.lower())
    for i in range(len(words) - n + 1):
        if tuple(words[i : i + n]) in copied:
            return " ".join(words[i : i + n])
    return None


def repeated(text: str, previous: list[str], threshold: float = 0.9) -> bool:
    return any(similar(text, before, threshold) for before in previous)


def check_turn(
    text: str,
    *,
    planned: str,
    fact: Fact | None,
    hidden: list[Fact],
    previous: list[str],
    context: str = "",
    examples: re.Pattern[str] | None = None,
    on_plan: bool = True,
    reply: str = "",
    own: str = "",
    must_say: Sequence[Fact] = (),
    opening: bool = False,
    goal: str = "",
    details: Sequence[str] = (),
) -> tuple[str, str] | None:
    """The first problem with a candidate turn as ``(guard, detail)``, or ``None``.

    ``context`` is the text the turn may draw on (the task, the plan, the assistant's
    last reply): a word of the prompt's ``examples`` that is not in it is a leak.
    ``on_plan=False`` skips the off-plan check (a stock reply such as "Yes, please." may
    be said in any words). ``reply`` is the assistant's last reply and ``own`` what the
    user said or means to say: a run of words copied from the reply and not the user's
    own is an echo. ``must_say`` are further facts the turn must carry besides ``fact``.
    ``opening``: the turn opens the conversation, so answering the request it should make
    is role drift too, and saying one of the request's ``details`` without a word of its
    ``goal`` drops the goal.
    """
    if not text.strip():
        return "empty", "the model wrote nothing usable"
    drift = (
        role_drift(text, planned)
        or (answers_request(text) if opening else None)
        or answers_own_question(text, planned)
    )
    if drift:
        return "role_drift", drift
    copied = echoed(text, reply, f"{own} {planned}") if reply else None
    if copied:
        return "echo", f"copies the assistant's words {copied!r}"
    borrowed = example_leak(text, f"{context} {planned}", examples)
    if borrowed:
        return "example_leak", f"repeats {borrowed!r} from the prompt's examples"
    leaks = leaked_facts(text, planned, hidden)
    if leaks:
        return "leak", f"{len(leaks)} hidden fact(s) revealed early: " + "; ".join(
            f.text for f in leaks
        )
    for needed in (fact, *must_say):
        if dropped_fact(text, needed):
            assert needed is not None
            return "dropped_fact", f"the turn should say: {needed.text}"
    if opening and dropped_goal(text, goal, details):
        return "dropped_goal", f"the opening should ask: {goal}"
    if on_plan and fact is None and off_plan(text, planned):
        return "off_plan", "the turn does not say what the user meant to say"
    if repeated(text, previous):
        return "repetition", "near-identical to an earlier user turn"
    return None


def guard_rates(
    conversations: Sequence[Sequence[tuple[str, str]]],
    *,
    examples: re.Pattern[str] | None = None,
) -> dict[str, float]:
    """How often each guard that can judge a turn on its own flags real users' turns.

    ``conversations`` are ``(role, text)`` pairs. A turn is its own plan (people mean
    what they write); the context of the example-leak guard is everything said before
    it; the role-drift guard also checks the person's first turn as an opening; the echo
    guard compares it with the assistant turn it answers, excusing only the person's own
    earlier words; the repetition guard compares it with the same person's
    earlier turns. Returns
    the share of user turns each guard flags, and of those any flags (``any``).
    """
    counts = {"role_drift": 0, "example_leak": 0, "echo": 0, "repetition": 0, "any": 0}
    total = 0
    for conversation in conversations:
        said: list[str] = []
        mine: list[str] = []
        for role, text in conversation:
            if role == "user":
                total += 1
                reply = said[-1] if said else ""
                drift = role_drift(text, text) or (None if mine else answers_request(text))
                hits = {
                    "role_drift": drift is not None,
                    "example_leak": example_leak(text, " ".join(said), examples) is not None,
                    # the turn is not its own plan here (that would excuse every copy):
                    # only the person's earlier turns are theirs to have the assistant quote
                    "echo": echoed(text, reply, " ".join(mine)) is not None,
                    "repetition": repeated(text, mine),
                }
                for name, hit in hits.items():
                    counts[name] += hit
                counts["any"] += any(hits.values())
                mine.append(text)
            said.append(text)
    return {name: count / total if total else float("nan") for name, count in counts.items()}
