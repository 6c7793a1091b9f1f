"""User-simulator realism: how much simulated user turns read like real people's.

Inputs are conversations, each a sequence of messages ``{"role": ..., "content": ...}``
with role ``"user"`` or ``"assistant"`` (other roles are ignored). Every feature is a
non-negative number computed from the user turns (the assistant's turns only give
context, e.g. for cooperativeness), with plain regular expressions and counting: no
model, no dictionary, no network.

Features are grouped in four dimensions, after the User-Sim Index of "Mind the Sim2Real
Gap in User Simulation for Agentic Tasks":

- communication style: politeness, short messages, formality, acknowledgement-only
  turns, length variation, repetition, uniformity of openings, typos, lexical diversity,
  and the share of turns that read like an assistant's;
- information pattern: front-loading, identifier density, words per turn, opening
  length, user turns per conversation;
- clarification: uncertainty, pushback, clarifying and information-seeking questions,
  question rate, cooperativeness;
- error reaction: emotion, frustration, accusation, change of strategy.

A feature's similarity between a simulator (``s``) and people (``h``) is
``2·min(s, h) / (s + h)``: 1 when equal, 0 when one side is zero and the other not, and
1 by definition when both are zero. A dimension's score is the mean similarity of its
features times 100, and the index the mean of the dimension scores. The same index
between two random halves of the human corpus is the ceiling: what a perfect simulator
could score given how much people vary among themselves and how small the corpus is.
A run of 30 conversations is a smaller sample than half a corpus of 300, so each run is
also read against the ceiling at its size: random samples of as many real conversations
against the rest (:func:`sized_ceiling`).

The share of assistant-like turns comes from a logistic regression trained to tell the
human corpus's own assistant turns from its user turns, on hashed character and word n-grams
(or any embedding passed as ``featurizer``); real user turns are scored out of fold, so
the classifier never grades a turn it was trained on.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulacra.errors import ConfigError
from simulacra.stats import jsonable

FloatArray = NDArray[np.float64]

Message = Mapping[str, Any]
Conversation = Sequence[Message]

Featurizer = Callable[[Sequence[str]], Any]
"""Maps texts to a 2-D feature matrix (a numpy array or a scipy sparse matrix)."""

NAN = float("nan")


class TaskConversation(list[Any]):
    """A conversation that says which task it played (a run's episode). The features
    that compare conversations with each other (opening uniformity, opener and n-gram
    repetition) skip pairs of one task: six people asked for the same booking share its
    words without any template, and a corpus of real people has one conversation a
    goal. Other conversations (a plain list) each count as their own task."""

    task: str | None

    def __init__(self, messages: Iterable[Any] = (), *, task: str | None = None) -> None:
        super().__init__(messages)
        self.task = task


def _task_of(conversation: Conversation) -> object:
    """The task ``conversation`` played, or the conversation itself when it does not say."""
    task = getattr(conversation, "task", None)
    return ("task", task) if task is not None else ("conversation", id(conversation))


SHORT_TURN_WORDS = 8
"""A user turn of at most this many words counts as a short message."""

DIMENSIONS: dict[str, tuple[str, ...]] = {
    "communication_style": (
        "politeness",
        "short_messages",
        "formality",
        "acknowledgement_only",
        "length_variation",
        "repetition",
        "opening_uniformity",
        "opener_repetition",
        "ngram_repetition",
        "typo_rate",
        "distinct_1",
        "distinct_2",
        "type_token_ratio",
        "assistant_likeness",
    ),
    "information_pattern": (
        "front_loading",
        "identifier_density",
        "words_per_turn",
        "opening_length",
        "turns_per_conversation",
    ),
    "clarification": (
        "uncertainty",
        "pushback",
        "clarifying_questions",
        "information_seeking",
        "question_rate",
        "cooperativeness",
        "content_reactivity",
    ),
    "error_reaction": ("emotion", "frustration", "accusation", "strategy_change"),
}
"""The features of each dimension of the realism index, in display order."""

FEATURES: tuple[str, ...] = tuple(name for names in DIMENSIONS.values() for name in names)

# --- turns and words --------------------------------------------------------------------

_USER_ROLES = frozenset({"user", "human"})
_ASSISTANT_ROLES = frozenset({"assistant", "gpt", "bot", "model", "target"})
_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_ALPHA_WORD = re.compile(r"[a-z]+")


def _turns(conversation: Conversation, roles: frozenset[str]) -> list[str]:
    out = []
    for message in conversation:
        content = message.get("content")
        if str(message.get("role", "")).lower() in roles and isinstance(content, str):
            out.append(content)
    return out


def user_turns(conversation: Conversation) -> list[str]:
    """The contents of the user's messages of a conversation, in order."""
    return _turns(conversation, _USER_ROLES)


def assistant_turns(conversation: Conversation) -> list[str]:
    """The contents of the assistant's messages of a conversation, in order."""
    return _turns(conversation, _ASSISTANT_ROLES)


@functools.lru_cache(maxsize=1 << 16)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(text.lower()))


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens: runs of letters and digits, keeping an apostrophe suffix."""
    return list(_tokens(text))


def word_count(text: str) -> int:
    """Words as a reader counts them: whitespace-separated pieces."""
    return len(text.split())


def _all_user_turns(conversations: Sequence[Conversation]) -> list[str]:
    return [turn for conversation in conversations for turn in user_turns(conversation)]


def _reaction_turns(conversations: Sequence[Conversation]) -> list[str]:
    """User turns that answer an assistant turn (everything but openings)."""
    out = []
    for conversation in conversations:
        seen_assistant = False
        for message in conversation:
            role = str(message.get("role", "")).lower()
            content = message.get("content")
            if role in _ASSISTANT_ROLES:
                seen_assistant = True
            elif role in _USER_ROLES and seen_assistant and isinstance(content, str):
                out.append(content)
    return out


def _share(turns: Sequence[str], test: Callable[[str], bool]) -> float:
    """Share of ``turns`` passing ``test``; NaN when there are none."""
    if not turns:
        return NAN
    return sum(1 for turn in turns if test(turn)) / len(turns)


@functools.lru_cache(maxsize=1 << 17)
def _found(pattern: re.Pattern[str], text: str) -> bool:
    # cached: a bootstrap scores the same turns again and again
    return pattern.search(text) is not None


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda text: _found(pattern, text)


# --- markers ----------------------------------------------------------------------------


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _words_pattern(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


_POLITE = _words_pattern(
    r"please", r"pls", r"plz", r"thanks?", r"thank (?:you|u)", r"thx", r"ty", r"tysm",
    r"appreciated?", r"sorry", r"excuse me", r"kindly", r"would you mind", r"hi", r"hello",
    r"hey", r"good (?:morning|afternoon|evening)", r"cheers", r"much obliged",
)  # fmt: skip
_SHORTHAND = _words_pattern(
    r"u", r"ur", r"pls", r"plz", r"thx", r"ty", r"idk", r"lol", r"omg", r"btw", r"gonna",
    r"wanna", r"gotta", r"ya", r"yeah", r"yep", r"nope", r"ok", r"k", r"kinda", r"sorta",
    r"dunno", r"tbh", r"imo", r"rn", r"nvm", r"cuz", r"bc", r"r", r"y",
    r"dont", r"cant", r"wont", r"didnt", r"doesnt", r"isnt", r"im", r"ive", r"youre",
    r"thats", r"whats", r"hows", r"theres",
)  # fmt: skip
_LOWER_I = re.compile(r"(?:^|\s)i(?:\s|'|’|$)")
_ACK_WORDS = _wordset(
    "ok okay k kk thanks thank you u thx ty tysm got it cool great perfect nice awesome alright "
    "sure yes yeah yep yup right makes sense sounds good fine understood i see ah oh np lol wow "
    "cheers so that works helpful gotcha noted will do appreciated much very alrighty super "
    "excellent brilliant lovely amazing good to know"
)
_ACK_CORE = _wordset(
    "ok okay k kk thanks thank thx ty tysm got cool great perfect nice awesome alright sure "
    "yes yeah yep yup understood see gotcha noted appreciated makes sounds works fine"
)
_QUESTION_START = _wordset(
    "what whats what's how hows how's why when where who whom whose which can could would "
    "should is are do does did will any anyone anything isnt doesnt"
)
_UNCERTAIN = _words_pattern(
    r"i think", r"i guess", r"maybe", r"perhaps", r"probably", r"not (?:really )?sure",
    r"unsure", r"idk", r"i (?:don'?t|do not) know", r"dunno", r"not certain", r"might",
    r"possibly", r"kind of", r"kinda", r"sort of", r"sorta", r"or something", r"i suppose",
    r"no idea", r"i believe", r"could be", r"no clue", r"i forget", r"i'?m confused",
)  # fmt: skip
_PUSHBACK = re.compile(
    r"^\W*(?:no|nope|nah|not really|wait|hmm+|but|actually|hold on|that'?s not|that isn'?t|"
    r"that doesn'?t)\b|"
    r"\b(?:that'?s (?:wrong|not right|not it|incorrect|not what|not true)|"
    r"that (?:doesn'?t|does not|won'?t) (?:work|make sense|seem right|help|answer)|"
    r"are you sure|i don'?t think so|i disagree|can'?t be right|not quite|doesn'?t add up|"
    r"that'?s too (?:much|long|complicated|expensive)|i said)\b",
    re.IGNORECASE,
)
_CLARIFYING = re.compile(
    r"\b(?:what do (?:you|u) mean|what does (?:that|this|it|\w+) mean|meaning\?|"
    r"what(?:'s| is) (?:a|an|that|this)\b|(?:can|could) (?:you|u) (?:explain|clarify|elaborate)|"
    r"explain (?:that|this|what|why)|which (?:one|ones)\b|huh\b|i (?:don'?t|do not) "
    r"(?:get|understand)|not sure what (?:you|u) mean|(?:do|did) (?:you|u) mean|like what|"
    r"why (?:is|does|would|did|do) (?:that|it|this|you)|where did (?:you|u) get|"
    r"how did (?:you|u) get|what are you (?:talking|saying))",
    re.IGNORECASE,
)
_FRUSTRATION = re.compile(
    r"!{2,}|\?{2,}|\b(?:ugh+|argh+|wtf|ffs|omg|seriously|useless|ridiculous|annoying|"
    r"frustrat\w*|come on|for the \w+ time|still (?:not|doesn'?t|wrong|broken|the same)|"
    r"not what i (?:asked|wanted|said|need)|(?:doesn'?t|didn'?t|does not|did not) work|"
    r"this is wrong|not helpful|pointless|waste of (?:my )?time|jeez|geez|sigh|"
    r"again\?|i give up|forget it|whatever)\b",
    re.IGNORECASE,
)
_CAPS_RUN = re.compile(r"\b[A-Z]{2,}(?:\s+[A-Z]{2,})+\b|\b[A-Z]{5,}\b")
_EMOTION_WORDS = _words_pattern(
    r"lol", r"haha\w*", r"lmao", r"love", r"hate", r"awesome", r"amazing", r"wow", r"yay",
    r"sad", r"worried", r"stress(?:ed|ful)?", r"scared", r"angry", r"mad", r"happy",
    r"excited", r"nervous", r"upset", r"glad", r"ugh+", r"omg", r"damn", r"crap", r"great",
    r"thank god", r"phew", r"unfortunately", r"annoy\w*", r"frustrat\w*", r"disappoint\w*",
)  # fmt: skip
_EMOTICON = re.compile(r"[:;]-?[()DPp/]|<3|!|[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_ACCUSATION = re.compile(
    r"\byou(?:'re| are) (?:wrong|lying|not listening|useless|confused|making)|"
    r"\b(?:you|u) (?:said|told me|didn'?t|did not|don'?t|never|keep|kept|forgot|ignored|"
    r"missed|misread|made (?:that|it|this) up|just repeated|got (?:it|that) wrong|"
    r"changed|contradict\w*)\b|"
    r"\bi (?:already|just) (?:said|told you|told u|gave you|mentioned|explained)|"
    r"\byour (?:answer|math|calculation|mistake|fault)\b",
    re.IGNORECASE,
)
_STRATEGY = _words_pattern(
    r"let me (?:rephrase|try again|explain|put it|be clearer|start over)", r"let'?s try",
    r"try (?:again|something else|another)", r"start over", r"forget (?:it|that|about)",
    r"never ?mind", r"nvm", r"instead", r"differently", r"another way", r"simpler",
    r"in other words", r"to be clear", r"what i mean(?:t)? is", r"i meant", r"scratch that",
    r"different (?:question|approach|way)", r"(?:just|only) (?:tell|give|show) me",
    r"ok so", r"okay so", r"let'?s (?:go|do|focus|start) ", r"rather",
)  # fmt: skip
_IDENTIFIER = re.compile(
    r"\S*\d\S*|\S+@\S+\.\S+|https?://\S+|www\.\S+|\S+\.(?:com|org|net|io|py|js|csv|txt|pdf)\b|"
    r"#\w+|\b[A-Z]{2,}[A-Z0-9-]*\b|\b\w+_\w+\b|\b[a-z]+[A-Z]\w*\b"
)


def is_question(text: str) -> bool:
    """A question mark, or a first word such as "what", "how", "can", "is" (people often
    drop the question mark)."""
    if "?" in text:
        return True
    words = tokens(text)
    return bool(words) and words[0] in _QUESTION_START


def is_acknowledgement(text: str) -> bool:
    """A turn of at most six words, all of them acknowledgement words ("ok thanks",
    "got it", "perfect"), with at least one core word."""
    words = tokens(text)
    return (
        0 < len(words) <= 6
        and all(word in _ACK_WORDS for word in words)
        and any(word in _ACK_CORE for word in words)
    )


def formality_score(text: str) -> float:
    """Share of four formal habits a turn shows: a capitalised start, end punctuation,
    no lower-case "i" as a pronoun, and no chat shorthand ("u", "pls", "idk", "dont")."""
    stripped = text.strip()
    if not stripped:
        return NAN
    first = next((c for c in stripped if c.isalpha()), "")
    checks = (
        first.isupper(),
        stripped[-1] in ".?!:)\"'",
        _LOWER_I.search(stripped) is None,
        _SHORTHAND.search(stripped) is None,
    )
    return sum(checks) / len(checks)


def is_frustrated(text: str) -> bool:
    """Frustration markers: "!!", "??", shouting in capitals, "ugh", "seriously",
    "still not", "doesn't work", "not what I asked", "waste of time"."""
    return _FRUSTRATION.search(text) is not None or _CAPS_RUN.search(text) is not None


def is_emotional(text: str) -> bool:
    """Any expressed emotion: frustration, an exclamation mark, an emoticon or emoji, or
    a feeling word ("lol", "love", "worried", "great", "unfortunately")."""
    return is_frustrated(text) or bool(_EMOTICON.search(text)) or bool(_EMOTION_WORDS.search(text))


def is_clarifying(text: str) -> bool:
    """Asks the assistant to clarify what it said ("what do you mean", "which one",
    "can you explain", "huh")."""
    return _CLARIFYING.search(text) is not None


# --- lexical features --------------------------------------------------------------------


def _ngrams(words: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def _windowed_distinct(items: Sequence[Any], window: int) -> float:
    """Mean share of distinct entries over consecutive windows of ``window`` entries.

    Only full windows count when there is at least one; otherwise all entries form one
    window. This keeps corpora of different sizes comparable: the plain distinct share
    falls as a corpus grows.
    """
    if not items:
        return NAN
    if len(items) < window:
        return len(set(items)) / len(items)
    shares = [
        len(set(items[start : start + window])) / window
        for start in range(0, len(items) - window + 1, window)
    ]
    return float(np.mean(shares))


def distinct_n(turns: Sequence[str], n: int, *, window: int = 200) -> float:
    """Distinct-n: share of distinct word n-grams among the turns' n-grams.

    N-grams do not cross turns. Computed over consecutive windows of ``window``
    n-grams and averaged, so that corpora of different sizes can be compared (see
    "A Diversity-Promoting Objective Function for Neural Conversation Models").
    """
    if n < 1:
        raise ConfigError(f"n must be a positive integer, got {n!r}")
    grams = [gram for turn in turns for gram in _ngrams(tokens(turn), n)]
    return _windowed_distinct(grams, window)


def type_token_ratio(turns: Sequence[str], *, window: int = 50) -> float:
    """Moving-average type-token ratio: distinct words over words in every window of
    ``window`` consecutive words of the turns (all words when there are fewer)."""
    words = [word for turn in turns for word in tokens(turn)]
    if not words:
        return NAN
    if len(words) <= window:
        return len(set(words)) / len(words)
    counts: Counter[str] = Counter(words[:window])
    total = len(counts)
    for start in range(1, len(words) - window + 1):
        gone = words[start - 1]
        counts[gone] -= 1
        if counts[gone] == 0:
            del counts[gone]
        counts[words[start + window - 1]] += 1
        total += len(counts)
    return total / ((len(words) - window + 1) * window)


# --- typos --------------------------------------------------------------------------------

_SUFFIXES = ("s", "es", "d", "ed", "r", "er", "ly", "y", "n", "ing", "ion")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _inflection(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    return any(long == short + suffix for suffix in _SUFFIXES) or (
        short.endswith("e") and any(long == short[:-1] + s for s in ("ed", "er", "ing", "y"))
    )


def vocabulary(texts: Iterable[str]) -> Counter[str]:
    """Counts of lower-cased alphabetic words over ``texts`` (for :func:`typo_rate`)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_ALPHA_WORD.findall(text.lower()))
    return counts


class TypoIndex:
    """Known words of a reference pool, indexed for :func:`typo_rate` (build it once).

    A word is known when it occurs at least ``min_known`` times in ``reference``; it
    is a candidate typo when it occurs at most ``max_rare`` times.
    """

    def __init__(
        self, reference: Mapping[str, int], *, min_known: int = 3, max_rare: int = 2
    ) -> None:
        self.reference = reference
        self.max_rare = max_rare
        self.known = {w for w, c in reference.items() if c >= min_known and len(w) >= 3}
        self.by_delete: dict[str, set[str]] = {}
        for word in self.known:
            for deleted in _deletes(word):
                self.by_delete.setdefault(deleted, set()).add(word)
        self._cache: dict[str, bool] = {}

    def looks_misspelt(self, word: str) -> bool:
        """Rare, and one deletion (on either side) from a known word with the same first
        letter that is not merely an inflection of it."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        result = False
        if self.reference.get(word, 0) <= self.max_rare and word not in self.known:
            near = set(self.by_delete.get(word, set()))
            for deleted in _deletes(word):
                if deleted in self.known:
                    near.add(deleted)
                near |= self.by_delete.get(deleted, set())
            result = any(v[0] == word[0] and not _inflection(v, word) for v in near)
        self._cache[word] = result
        return result


def typo_rate(turns: Sequence[str], reference: Mapping[str, int] | TypoIndex) -> float:
    """Share of words (4+ letters) that look like misspellings of a known word.

    Dictionary-free: ``reference`` is a word count over a pool of text (best: all turns
    of both corpora, assistants' included, which are nearly always spelled right), or a
    :class:`TypoIndex` built from one. A word is a likely typo when it occurs at most
    twice in the pool, and a word occurring at least three times is one deletion away on
    either side (which covers a dropped, doubled, swapped or mistyped letter), starts
    with the same letter and is not the same word with an inflection (plural, past
    tense, ...). A heuristic: it misses typos of rare words and can flag rare real words
    that look like common ones.
    """
    words = [w for turn in turns for w in _ALPHA_WORD.findall(turn.lower()) if len(w) >= 4]
    if not words:
        return NAN
    index = reference if isinstance(reference, TypoIndex) else TypoIndex(reference)
    return sum(1 for word in words if index.looks_misspelt(word)) / len(words)


# --- similarity of short texts ------------------------------------------------------------


@functools.lru_cache(maxsize=1 << 16)
def _bag(text: str) -> Counter[str]:
    # cached (and never changed by its callers)
    words = tokens(text)
    return Counter(words + [" ".join(pair) for pair in _ngrams(words, 2)])


@functools.lru_cache(maxsize=1 << 16)
def text_similarity(a: str, b: str) -> float:
    """Cosine similarity of the word unigram and bigram counts of two texts (0 to 1)."""
    x, y = _bag(a), _bag(b)
    if not x or not y:
        return 0.0
    dot = sum(count * y[key] for key, count in x.items() if key in y)
    return dot / math.sqrt(sum(c * c for c in x.values()) * sum(c * c for c in y.values()))


def mean_pairwise_similarity(
    texts: Sequence[str],
    *,
    max_texts: int = 400,
    seed: int = 0,
    groups: Sequence[object] | None = None,
) -> float:
    """Mean :func:`text_similarity` over all pairs of texts (at most ``max_texts``, a
    seeded sample beyond that); pairs of one of ``groups`` (one per text) are left out.
    NaN with no pair to compare."""
    if len(texts) < 2:
        return NAN
    order = list(range(len(texts)))
    if len(order) > max_texts:
        rng = np.random.default_rng(seed)
        order = sorted(int(i) for i in rng.choice(len(order), max_texts, replace=False))
    bags = [_bag(texts[i]) for i in order]
    keys = {key: i for i, key in enumerate({k for bag in bags for k in bag})}
    matrix = np.zeros((len(bags), max(len(keys), 1)))
    for row, bag in enumerate(bags):
        for key, count in bag.items():
            matrix[row, keys[key]] = count
    norms = np.linalg.norm(matrix, axis=1)
    unit = matrix / np.where(norms > 0, norms, 1.0)[:, None]
    sims = unit @ unit.T
    upper = np.triu_indices(len(bags), k=1)
    values = sims[upper]
    if groups is not None:
        codes: dict[object, int] = {}
        labels = np.array([codes.setdefault(groups[i], len(codes)) for i in order])
        values = values[labels[upper[0]] != labels[upper[1]]]
    return float(values.mean()) if values.size else NAN


# --- conversation-level features ---------------------------------------------------------


def opening_uniformity(conversations: Sequence[Conversation], *, seed: int = 0) -> float:
    """Stylistic uniformity across conversations: mean pairwise similarity of the first
    user turns, over pairs of different tasks (:class:`TaskConversation`). Simulators
    tend to open every conversation alike; people do not."""
    opened = [(turns[0], _task_of(c)) for c in conversations if (turns := user_turns(c))]
    return mean_pairwise_similarity(
        [text for text, _ in opened], seed=seed, groups=[task for _, task in opened]
    )


def self_repetition(conversations: Sequence[Conversation]) -> float:
    """Mean, over user turns after the first, of the highest similarity to an earlier
    user turn of the same conversation; NaN when no conversation has two user turns."""
    scores = []
    for conversation in conversations:
        turns = user_turns(conversation)
        for i in range(1, len(turns)):
            scores.append(max(text_similarity(turns[i], before) for before in turns[:i]))
    return float(np.mean(scores)) if scores else NAN


def _cross_share(sets: Sequence[frozenset[Any]], conversations: Sequence[Conversation]) -> float:
    """Mean over conversations of the share of their items found in another conversation
    of another task (each such conversation weighted alike): ``d / C`` per item, where
    ``d`` of the ``C`` conversations of other tasks hold it. A bootstrap resample repeats
    some conversations; each counts once."""
    distinct: dict[int, tuple[object, frozenset[Any]]] = {
        id(c): (_task_of(c), items) for c, items in zip(conversations, sets, strict=True)
    }
    if len(distinct) < 2:
        return NAN
    holders: Counter[Any] = Counter(item for _, items in distinct.values() for item in items)
    per_task: dict[object, Counter[Any]] = {}
    sizes: Counter[object] = Counter()
    for task, items in distinct.values():
        per_task.setdefault(task, Counter()).update(items)
        sizes[task] += 1
    total = len(distinct)
    shares = []
    for conversation, items in zip(conversations, sets, strict=True):
        task = _task_of(conversation)
        others = total - sizes[task]
        if items and others:
            own = per_task[task]
            found = sum(holders[item] - own[item] for item in items)
            shares.append(found / (len(items) * others))
    return float(np.mean(shares)) if shares else NAN


def opener_repetition(conversations: Sequence[Conversation]) -> float:
    """How often user turns of different conversations open alike: the mean share of a
    conversation's turn openers (first two words) that open a user turn of another
    conversation too (of another task, :class:`TaskConversation`), averaged over those
    conversations so that corpora of different sizes compare. Canned openers ("wait,
    that's not everything") raise it."""
    sets = [
        frozenset(tuple(tokens(turn)[:2]) for turn in user_turns(c) if tokens(turn))
        for c in conversations
    ]
    return _cross_share(sets, conversations)


def ngram_repetition(conversations: Sequence[Conversation], *, n: int = 3) -> float:
    """Like :func:`opener_repetition` for every word ``n``-gram of the user turns: how
    much of one conversation's wording recurs in another's (of another task)."""
    sets = [
        frozenset(g for turn in user_turns(c) for g in _ngrams(tokens(turn), n))
        for c in conversations
    ]
    return _cross_share(sets, conversations)


def replies_to_assistant(conversations: Sequence[Conversation]) -> Iterator[tuple[str, str]]:
    """(assistant turn, the user turn right after it) of every conversation."""
    for conversation in conversations:
        previous: str | None = None
        for message in conversation:
            role = str(message.get("role", "")).lower()
            content = message.get("content")
            if not isinstance(content, str):
                continue
            if role in _ASSISTANT_ROLES:
                previous = content
            elif role in _USER_ROLES:
                if previous is not None:
                    yield previous, content
                previous = None


def content_reactivity(conversations: Sequence[Conversation]) -> float:
    """Share of user turns after an assistant turn that refer to it: they share a content
    word (three letters or more, not a function word) with it. People pick up what the
    assistant said ("the 9 bar one", "that hotel"); a user reading from a script does not.
    NaN when no user turn follows an assistant turn."""
    referring = 0
    total = 0
    for previous, content in replies_to_assistant(conversations):
        total += 1
        referring += bool(_content(previous) & _content(content))
    return referring / total if total else NAN


def front_loading(conversations: Sequence[Conversation]) -> float:
    """Mean share of a conversation's user words that are in its first user turn, over
    conversations with at least two user turns (NaN when there are none)."""
    shares = []
    for conversation in conversations:
        lengths = [word_count(turn) for turn in user_turns(conversation)]
        if len(lengths) >= 2 and sum(lengths) > 0:
            shares.append(lengths[0] / sum(lengths))
    return float(np.mean(shares)) if shares else NAN


def identifier_density(turns: Sequence[str]) -> float:
    """Identifiers per 100 words: tokens with digits, e-mail addresses, links, file
    names, hashtags, codes in capitals, snake_case or camelCase names."""
    words = sum(word_count(turn) for turn in turns)
    if words == 0:
        return NAN
    found = sum(len(_IDENTIFIER.findall(turn)) for turn in turns)
    return 100.0 * found / words


_STOP = _wordset(
    "the a an and or but if then so to of in on at for with from by about as is are was were "
    "be been being do does did have has had you your yours i me my mine we our it its this that "
    "these those there here what which who whom whose how why when where can could would should "
    "will shall may might must any some all not no yes just also very really please thanks "
    "like get got want need know tell let make sure okay ok much many more most"
)
_YES_NO = _wordset(
    "yes yeah yep yup yea no nope nah sure ok okay correct right exactly definitely "
    "absolutely maybe not never always"
)
_NUMBER_WORDS = _wordset(
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty "
    "hundred thousand half dozen couple few several none zero"
)
_YES_NO_START = _wordset(
    "do does did is are was were can could would will should have has had am shall may"
)
_QUANTITY = re.compile(
    r"\b(?:how (?:many|much|long|old|often|far|big)|what time|when|which year|what year|"
    r"what size|what number|how soon)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?\n]*\?")


def _content(text: str) -> set[str]:
    return {w for w in tokens(text) if len(w) >= 3 and w not in _STOP}


def answers_question(question: str, reply: str) -> bool:
    """Whether ``reply`` plausibly answers ``question`` (a heuristic).

    Yes: it repeats a content word of the question (e.g. the option chosen), or the
    question is a yes/no question ("do you ...", "is it ...") and the reply holds a yes/no
    word, or the question asks for a quantity or time ("how many", "when") and the reply
    holds a number.
    """
    words = set(tokens(reply))
    if _content(question) & _content(reply):
        return True
    first = tokens(question)[:1]
    if first and first[0] in _YES_NO_START and words & _YES_NO:
        return True
    return bool(_QUANTITY.search(question)) and (
        any(ch.isdigit() for ch in reply) or bool(words & _NUMBER_WORDS)
    )


def assistant_questions(text: str) -> list[str]:
    """The sentences of an assistant turn that end with a question mark."""
    return [q.strip() for q in _SENTENCE.findall(text) if len(tokens(q)) >= 2]


def cooperativeness(conversations: Sequence[Conversation]) -> float:
    """Share of user turns, among those right after an assistant turn that asked
    something, that answer every question asked (see :func:`answers_question`).
    NaN when the assistant never asked a question."""
    answered = 0
    asked = 0
    for previous, content in replies_to_assistant(conversations):
        questions = assistant_questions(previous)
        if questions:
            asked += 1
            answered += all(answers_question(q, content) for q in questions)
    return answered / asked if asked else NAN


def length_variation(turns: Sequence[str]) -> float:
    """Coefficient of variation (standard deviation over mean) of words per user turn."""
    lengths = np.array([word_count(turn) for turn in turns], dtype=np.float64)
    if lengths.size < 2 or lengths.mean() == 0:
        return NAN
    return float(lengths.std(ddof=1) / lengths.mean())


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else NAN


def realism_features(
    conversations: Sequence[Conversation],
    *,
    reference: Mapping[str, int] | TypoIndex | None = None,
    assistant_scores: Sequence[Sequence[float]] | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Every feature of :data:`FEATURES` for a set of conversations.

    ``reference`` is the word count used for typos (default: these conversations' own
    text). ``assistant_scores[c][t]`` is the assistant-likeness probability of user turn
    ``t`` of conversation ``c``; without it ``assistant_likeness`` is NaN. Features with
    nothing to measure are NaN (e.g. cooperativeness when no assistant asked anything).
    """
    turns = _all_user_turns(conversations)
    reactions = _reaction_turns(conversations)
    if reference is None:
        reference = vocabulary(str(m.get("content", "")) for c in conversations for m in c)
    openings = [t[0] for t in map(user_turns, conversations) if t]
    per_conversation = [len(user_turns(c)) for c in conversations]
    if assistant_scores is not None:
        flat = [p for scores in assistant_scores for p in scores]
        likeness = (
            sum(1 for p in flat if p > 0.5) / len(flat)
            if flat and not any(math.isnan(p) for p in flat)
            else NAN
        )
    else:
        likeness = NAN
    features = {
        "politeness": _share(turns, _matches(_POLITE)),
        "short_messages": _share(turns, lambda t: word_count(t) <= SHORT_TURN_WORDS),
        "formality": _mean([s for s in map(formality_score, turns) if not math.isnan(s)]),
        "acknowledgement_only": _share(turns, is_acknowledgement),
        "length_variation": length_variation(turns),
        "repetition": self_repetition(conversations),
        "opening_uniformity": opening_uniformity(conversations, seed=seed),
        "opener_repetition": opener_repetition(conversations),
        "ngram_repetition": ngram_repetition(conversations),
        "typo_rate": typo_rate(turns, reference),
        "distinct_1": distinct_n(turns, 1),
        "distinct_2": distinct_n(turns, 2),
        "type_token_ratio": type_token_ratio(turns),
        "assistant_likeness": likeness,
        "front_loading": front_loading(conversations),
        "identifier_density": identifier_density(turns),
        "words_per_turn": _mean([word_count(t) for t in turns]),
        "opening_length": _mean([word_count(t) for t in openings]),
        "turns_per_conversation": _mean([n for n in per_conversation if n > 0]),
        "uncertainty": _share(turns, _matches(_UNCERTAIN)),
        "pushback": _share(reactions, _matches(_PUSHBACK)),
        "clarifying_questions": _share(reactions, is_clarifying),
        "information_seeking": _share(turns, lambda t: is_question(t) and not is_clarifying(t)),
        "question_rate": _share(turns, is_question),
        "cooperativeness": cooperativeness(conversations),
        "content_reactivity": content_reactivity(conversations),
        "emotion": _share(reactions, is_emotional),
        "frustration": _share(reactions, is_frustrated),
        "accusation": _share(reactions, _matches(_ACCUSATION)),
        "strategy_change": _share(reactions, _matches(_STRATEGY)),
    }
    return {name: float(features[name]) for name in FEATURES}


# --- similarity and the index ------------------------------------------------------------


def feature_similarity(simulated: float, human: float) -> float:
    """``2·min(s, h) / (s + h)`` for non-negative values: 1 when equal (also when both are
    0), 0 when exactly one is 0. NaN when either is NaN."""
    if math.isnan(simulated) or math.isnan(human):
        return NAN
    if simulated < 0 or human < 0:
        raise ConfigError(
            f"feature values must be non-negative, got simulated={simulated!r}, human={human!r}"
        )
    total = simulated + human
    if total == 0.0:
        return 1.0
    return 2.0 * min(simulated, human) / total


@dataclass(frozen=True, kw_only=True, slots=True)
class FeatureComparison:
    """One feature on both sides and their similarity (NaN when a side has no value)."""

    simulated: float
    human: float
    similarity: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN becomes ``None``."""
        result: dict[str, Any] = jsonable(self)
        return result


@dataclass(frozen=True, kw_only=True, slots=True)
class DimensionScore:
    """A dimension's score (0–100, the mean similarity of its features with a value)."""

    score: float
    features: Mapping[str, FeatureComparison]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN becomes ``None``."""
        return {
            "score": jsonable(self.score),
            "features": {name: f.to_dict() for name, f in self.features.items()},
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class RealismIndex:
    """The realism index (0–100): the mean of the dimension scores."""

    index: float
    dimensions: Mapping[str, DimensionScore]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN becomes ``None``."""
        return {
            "index": jsonable(self.index),
            "dimensions": {name: d.to_dict() for name, d in self.dimensions.items()},
        }


def realism_index(
    simulated: Mapping[str, float],
    human: Mapping[str, float],
    *,
    dimensions: Mapping[str, Sequence[str]] = DIMENSIONS,
) -> RealismIndex:
    """Aggregate per-feature similarities into dimension scores and the index.

    A feature with no value on either side is shown but left out of its dimension's
    mean; a dimension with no feature left is NaN and left out of the index.
    """
    scores: dict[str, DimensionScore] = {}
    for dimension, names in dimensions.items():
        compared = {}
        for name in names:
            if name not in simulated or name not in human:
                raise ConfigError(f"feature {name!r} of dimension {dimension!r} has no value")
            s, h = float(simulated[name]), float(human[name])
            compared[name] = FeatureComparison(
                simulated=s, human=h, similarity=feature_similarity(s, h)
            )
        valid = [c.similarity for c in compared.values() if not math.isnan(c.similarity)]
        scores[dimension] = DimensionScore(
            score=100.0 * float(np.mean(valid)) if valid else NAN, features=compared
        )
    valid_dims = [d.score for d in scores.values() if not math.isnan(d.score)]
    return RealismIndex(index=float(np.mean(valid_dims)) if valid_dims else NAN, dimensions=scores)


# --- distributions -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class DistributionComparison:
    """Two samples of one quantity compared: the 1-Wasserstein (earth mover's) distance,
    in the quantity's unit, and the two-sample Kolmogorov–Smirnov statistic and p-value."""

    wasserstein: float
    ks_statistic: float
    ks_pvalue: float
    simulated_mean: float
    human_mean: float
    simulated_median: float
    human_median: float
    n_simulated: int
    n_human: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN becomes ``None``."""
        result: dict[str, Any] = jsonable(self)
        return result


def compare_distributions(
    simulated: Sequence[float] | FloatArray, human: Sequence[float] | FloatArray
) -> DistributionComparison:
    """Wasserstein distance and Kolmogorov–Smirnov test between two samples (NaN when a
    sample is empty)."""
    from scipy.stats import ks_2samp, wasserstein_distance

    s = np.asarray(simulated, dtype=np.float64)
    h = np.asarray(human, dtype=np.float64)
    if s.size == 0 or h.size == 0:
        distance, statistic, pvalue = NAN, NAN, NAN
    else:
        distance = float(wasserstein_distance(s, h))
        test = ks_2samp(s, h)
        statistic, pvalue = float(test.statistic), float(test.pvalue)
    return DistributionComparison(
        wasserstein=distance,
        ks_statistic=statistic,
        ks_pvalue=pvalue,
        simulated_mean=float(s.mean()) if s.size else NAN,
        human_mean=float(h.mean()) if h.size else NAN,
        simulated_median=float(np.median(s)) if s.size else NAN,
        human_median=float(np.median(h)) if h.size else NAN,
        n_simulated=int(s.size),
        n_human=int(h.size),
    )


def distribution_samples(conversations: Sequence[Conversation]) -> dict[str, list[float]]:
    """Samples compared as distributions: words and characters per user turn, user
    turns per conversation."""
    turns = _all_user_turns(conversations)
    return {
        "words_per_turn": [float(word_count(t)) for t in turns],
        "characters_per_turn": [float(len(t)) for t in turns],
        "turns_per_conversation": [
            float(n) for n in (len(user_turns(c)) for c in conversations) if n > 0
        ],
    }


# --- the assistant-likeness classifier ---------------------------------------------------

HASH_DIM = 1 << 18


def _grams(text: str) -> list[str]:
    padded = f" {' '.join(text.split())} "
    chars = [f"c{n}:{padded[i : i + n]}" for n in (3, 4, 5) for i in range(len(padded) - n + 1)]
    words = tokens(text)
    shape = [
        f"len:{min(len(words) // 5, 12)}",
        f"nl:{min(text.count(chr(10)), 5)}",
        f"first:{text.strip()[:1].isupper()}",
        f"end:{text.strip()[-1:] if text.strip() else ''}",
    ]
    return chars + [f"w:{w}" for w in words] + [f"b:{a} {b}" for a, b in _ngrams(words, 2)] + shape


def hashed_ngrams(texts: Sequence[str], *, dim: int = HASH_DIM) -> Any:
    """Sparse matrix of hashed character 3–5-grams, words, word bigrams and a few shape
    cues (length bucket, line breaks, capitalised start, end character) per text;
    counts are log-scaled and rows scaled to unit length. CRC-32 hashing keeps it stable
    across processes."""
    from scipy.sparse import csr_matrix

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for row, text in enumerate(texts):
        counts = Counter(zlib.crc32(g.encode("utf-8")) % dim for g in _grams(text))
        weights = {key: math.log1p(count) for key, count in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        for key, weight in weights.items():
            rows.append(row)
            cols.append(key)
            vals.append(weight / norm)
    return csr_matrix((vals, (rows, cols)), shape=(len(texts), dim), dtype=np.float64)


def _restrict(matrix: Any, columns: NDArray[np.intp] | None) -> Any:
    return matrix if columns is None else matrix[:, columns]


def _used_columns(matrix: Any) -> NDArray[np.intp] | None:
    """The columns a sparse matrix uses (hashed features are mostly empty); None if dense."""
    indices = getattr(matrix, "indices", None)
    if indices is None:
        return None
    return np.unique(np.asarray(indices, dtype=np.intp))


@dataclass(frozen=True, kw_only=True, slots=True)
class TurnClassifier:
    """A fitted logistic regression telling assistant turns (1) from user turns (0).

    ``columns`` are the feature columns the model was fitted on (the hashed n-grams seen
    in training; ``None`` for dense features), ``weights`` one weight per column.
    """

    weights: FloatArray
    bias: float
    columns: NDArray[np.intp] | None = None
    featurizer: Featurizer = field(default=hashed_ngrams, repr=False)

    def score_matrix(self, matrix: Any) -> FloatArray:
        """Probabilities for rows already featurised by ``featurizer``."""
        scores = np.asarray(_restrict(matrix, self.columns) @ self.weights).reshape(-1)
        result: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * (scores + self.bias)))
        return result

    def predict_proba(self, texts: Sequence[str]) -> FloatArray:
        """Probability that each text is an assistant's turn."""
        if not texts:
            return np.zeros(0)
        return self.score_matrix(self.featurizer(texts))

    def to_dict(self) -> dict[str, Any]:
        """Summary for JSON (the weights are not written)."""
        return {"features": int(self.weights.size), "bias": self.bias}


def _fit_matrix(
    matrix: Any, is_assistant: NDArray[np.bool_], *, l2: float, max_iter: int
) -> tuple[FloatArray, float, NDArray[np.intp] | None]:
    """Class-balanced L2 logistic regression on featurised rows (trust-region Newton)."""
    from scipy.optimize import minimize

    columns = _used_columns(matrix)
    x = _restrict(matrix, columns)
    y = np.where(is_assistant, 1.0, -1.0)
    n_pos = int(is_assistant.sum())
    n_neg = int(is_assistant.size - n_pos)
    w = np.where(is_assistant, 0.5 / max(n_pos, 1), 0.5 / max(n_neg, 1)) * is_assistant.size
    dim = int(x.shape[1])

    def curvature(theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        margin = y * (np.asarray(x @ theta[:dim]).reshape(-1) + theta[dim])
        return margin, 0.5 * (1.0 - np.tanh(0.5 * margin))

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        beta = theta[:dim]
        margin, p_wrong = curvature(theta)
        loss = float(w @ np.logaddexp(0.0, -margin)) + 0.5 * l2 * float(beta @ beta)
        slope = -w * y * p_wrong
        gradient = np.empty(dim + 1)
        gradient[:dim] = np.asarray(x.T @ slope).reshape(-1) + l2 * beta
        gradient[dim] = slope.sum()
        return loss, gradient

    def hessian_times(theta: FloatArray, vector: FloatArray) -> FloatArray:
        _, p_wrong = curvature(theta)
        weight = w * p_wrong * (1.0 - p_wrong)
        moved = weight * (np.asarray(x @ vector[:dim]).reshape(-1) + vector[dim])
        out = np.empty(dim + 1)
        out[:dim] = np.asarray(x.T @ moved).reshape(-1) + l2 * vector[:dim]
        out[dim] = moved.sum()
        return out

    fit = minimize(
        objective,
        np.zeros(dim + 1),
        jac=True,
        hessp=hessian_times,
        method="trust-ncg",
        options={"maxiter": max_iter},
    )
    theta = np.asarray(fit.x, dtype=np.float64)
    return theta[:dim], float(theta[dim]), columns


def fit_turn_classifier(
    assistant: Sequence[str],
    user: Sequence[str],
    *,
    featurizer: Featurizer = hashed_ngrams,
    l2: float = 1.0,
    max_iter: int = 200,
) -> TurnClassifier:
    """Fit L2-regularised logistic regression, classes weighted to equal total weight.

    Minimises ``Σ w_i·log(1 + exp(−y_i·(x_i·β + b))) + (l2 / 2)·|β|²`` (``y = ±1``) by a
    trust-region Newton method with exact Hessian-vector products. Needs at least one
    text of each class.
    """
    if not assistant or not user:
        raise ConfigError(
            f"the classifier needs assistant and user turns, got {len(assistant)} and {len(user)}"
        )
    labels = np.concatenate([np.ones(len(assistant), bool), np.zeros(len(user), bool)])
    weights, bias, columns = _fit_matrix(
        featurizer([*assistant, *user]), labels, l2=l2, max_iter=max_iter
    )
    return TurnClassifier(weights=weights, bias=bias, columns=columns, featurizer=featurizer)


def assistant_likeness(
    assistant: Sequence[str],
    human_user: Sequence[Sequence[str]],
    simulated_user: Mapping[str, Sequence[Sequence[str]]],
    *,
    featurizer: Featurizer = hashed_ngrams,
    folds: int = 5,
    seed: int = 0,
    l2: float = 1.0,
) -> tuple[list[list[float]], dict[str, list[list[float]]]]:
    """Assistant-likeness probabilities of every human and simulated user turn.

    ``human_user[c]`` and ``simulated_user[name][c]`` are the user turns of conversation
    ``c``. The classifier learns ``assistant`` turns against real user turns. Human turns
    are scored out of fold, conversations split into ``folds`` seeded groups, so no turn
    is scored by a model that saw its conversation; simulated turns are scored by a model
    trained on all of them. Returns the probabilities shaped like the inputs; all NaN
    when there are no assistant turns or fewer than two human conversations with turns.
    """
    conversations = [list(turns) for turns in human_user]
    human_scores: list[list[float]] = [[NAN] * len(turns) for turns in conversations]
    with_turns = [c for c, turns in enumerate(conversations) if turns]
    if not assistant or len(with_turns) < 2:
        return human_scores, {
            name: [[NAN] * len(t) for t in convs] for name, convs in simulated_user.items()
        }
    owner = np.array([c for c in with_turns for _ in conversations[c]], dtype=np.intp)
    human_texts = [t for c in with_turns for t in conversations[c]]
    sim_texts = [t for convs in simulated_user.values() for turns in convs for t in turns]
    from scipy.sparse import issparse, vstack

    parts = [featurizer(list(assistant)), featurizer(human_texts)]
    if sim_texts:
        parts.append(featurizer(sim_texts))
    stacked = vstack(parts).tocsr() if issparse(parts[0]) else np.vstack(parts)
    n_a, n_h = len(assistant), len(human_texts)
    a_rows = np.arange(n_a)
    h_rows = n_a + np.arange(n_h)
    rng = np.random.default_rng(seed)
    k = max(2, min(folds, len(with_turns)))
    fold_of_conv = dict(zip(with_turns, rng.permutation(len(with_turns)) % k, strict=True))
    fold = np.array([fold_of_conv[int(c)] for c in owner], dtype=np.intp)
    human_prob = np.full(n_h, NAN)

    def fit(rows_h: NDArray[np.intp]) -> TurnClassifier:
        rows = np.concatenate([a_rows, h_rows[rows_h]])
        labels = np.concatenate([np.ones(n_a, bool), np.zeros(rows_h.size, bool)])
        weights, bias, columns = _fit_matrix(stacked[rows], labels, l2=l2, max_iter=200)
        return TurnClassifier(weights=weights, bias=bias, columns=columns, featurizer=featurizer)

    for f in range(k):
        held = np.flatnonzero(fold == f)
        if held.size:
            model = fit(np.flatnonzero(fold != f))
            human_prob[held] = model.score_matrix(stacked[h_rows[held]])
    cursor = 0
    for c in with_turns:
        human_scores[c] = human_prob[cursor : cursor + len(conversations[c])].tolist()
        cursor += len(conversations[c])
    sim_prob = fit(np.arange(n_h)).score_matrix(stacked[n_a + n_h :]) if sim_texts else np.zeros(0)
    simulated_scores: dict[str, list[list[float]]] = {}
    cursor = 0
    for name, convs in simulated_user.items():
        simulated_scores[name] = []
        for turns in convs:
            simulated_scores[name].append(sim_prob[cursor : cursor + len(turns)].tolist())
            cursor += len(turns)
    return human_scores, simulated_scores


# --- confidence intervals ----------------------------------------------------------------


Interval = tuple[float, float]


@dataclass(frozen=True, kw_only=True, slots=True)
class RealismIntervals:
    """Bootstrap percentile intervals over conversations (``scipy.stats.bootstrap``).

    ``values`` are the features of the resampled side, ``similarity`` their similarity
    to the other side's (fixed) values, ``dimensions`` and ``index`` the scores. Bounds
    are NaN where the feature had nothing to measure in too many resamples.
    """

    confidence: float
    n_resamples: int
    values: Mapping[str, Interval]
    similarity: Mapping[str, Interval]
    dimensions: Mapping[str, Interval]
    index: Interval

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN becomes ``None``."""
        return {
            "confidence": self.confidence,
            "n_resamples": self.n_resamples,
            "method": "percentile bootstrap over conversations",
            "values": {k: jsonable(list(v)) for k, v in self.values.items()},
            "similarity": {k: jsonable(list(v)) for k, v in self.similarity.items()},
            "dimensions": {k: jsonable(list(v)) for k, v in self.dimensions.items()},
            "index": jsonable(list(self.index)),
        }


def bootstrap_realism(
    conversations: Sequence[Conversation],
    other: Mapping[str, float],
    *,
    reference: Mapping[str, int] | TypoIndex,
    assistant_scores: Sequence[Sequence[float]] | None = None,
    n_resamples: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> RealismIntervals | None:
    """Intervals for the features of ``conversations`` and their similarity to ``other``
    (the other side's feature values), resampling whole conversations. None with fewer
    than two conversations or no resamples."""
    from scipy.stats import DegenerateDataWarning, bootstrap

    if len(conversations) < 2 or n_resamples < 1:
        return None
    names = list(FEATURES)
    dims = list(DIMENSIONS)

    def statistic(rows: NDArray[np.float64]) -> FloatArray:
        chosen = [int(i) for i in rows]
        features = realism_features(
            [conversations[i] for i in chosen],
            reference=reference,
            assistant_scores=None
            if assistant_scores is None
            else [assistant_scores[i] for i in chosen],
            seed=seed,
        )
        index = realism_index(features, other)
        sims = [index.dimensions[d].features[n].similarity for d in dims for n in DIMENSIONS[d]]
        by_name = dict(zip([n for d in dims for n in DIMENSIONS[d]], sims, strict=True))
        return np.array(
            [features[n] for n in names]
            + [by_name[n] for n in names]
            + [index.dimensions[d].score for d in dims]
            + [index.index],
            dtype=np.float64,
        )

    with warnings.catch_warnings():
        # scipy's own bounds warn on features that are NaN in some resamples; the bounds
        # are taken below from the finite resamples instead
        warnings.simplefilter("ignore", DegenerateDataWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        result = bootstrap(
            (np.arange(len(conversations), dtype=np.float64),),
            statistic,
            n_resamples=n_resamples,
            confidence_level=confidence,
            method="percentile",
            vectorized=False,
            rng=np.random.default_rng(seed),
        )
    samples = np.asarray(result.bootstrap_distribution, dtype=np.float64)
    tail = 100.0 * (1.0 - confidence) / 2.0

    def bounds(row: int) -> Interval:
        column = samples[row]
        finite = column[np.isfinite(column)]
        if finite.size < 0.5 * column.size:
            return (NAN, NAN)
        low, high = np.percentile(finite, [tail, 100.0 - tail])
        return (float(low), float(high))

    k = len(names)
    return RealismIntervals(
        confidence=confidence,
        n_resamples=n_resamples,
        values={n: bounds(i) for i, n in enumerate(names)},
        similarity={n: bounds(k + i) for i, n in enumerate(names)},
        dimensions={d: bounds(2 * k + i) for i, d in enumerate(dims)},
        index=bounds(2 * k + len(dims)),
    )


# --- the full comparison -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class SimulatorRealism:
    """One simulator against the human corpus."""

    realism: RealismIndex
    distributions: Mapping[str, DistributionComparison]
    n_conversations: int
    n_user_turns: int
    intervals: RealismIntervals | None = None
    ceiling_at_size: SizedCeiling | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN becomes ``None``."""
        return {
            **self.realism.to_dict(),
            "distributions": {k: v.to_dict() for k, v in self.distributions.items()},
            "n_conversations": self.n_conversations,
            "n_user_turns": self.n_user_turns,
            "intervals": self.intervals.to_dict() if self.intervals else None,
            "ceiling_at_size": self.ceiling_at_size.to_dict() if self.ceiling_at_size else None,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class RealismComparison:
    """Simulators compared with one human corpus, and the ceiling from its halves.

    ``ceiling`` is the mean index between random halves of the human corpus over
    ``splits`` seeded splits (``ceiling_splits`` each split's), ``ceiling_dimensions``
    the mean dimension scores; ``human_intervals`` bootstrap intervals of the human
    features (when asked for).
    """

    human: Mapping[str, float]
    simulators: Mapping[str, SimulatorRealism]
    ceiling: float
    ceiling_dimensions: Mapping[str, float]
    splits: int
    n_human_conversations: int
    n_human_turns: int
    ceiling_splits: Sequence[float] = ()
    human_intervals: Mapping[str, Interval] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN becomes ``None``."""
        return {
            "human": jsonable(dict(self.human)),
            "simulators": {k: v.to_dict() for k, v in self.simulators.items()},
            "ceiling": jsonable(self.ceiling),
            "ceiling_dimensions": jsonable(dict(self.ceiling_dimensions)),
            "splits": self.splits,
            "ceiling_splits": jsonable(list(self.ceiling_splits)),
            "n_human_conversations": self.n_human_conversations,
            "n_human_turns": self.n_human_turns,
            "human_intervals": None
            if self.human_intervals is None
            else {k: jsonable(list(v)) for k, v in self.human_intervals.items()},
        }


def half_split_ceiling(
    human: Sequence[Conversation],
    *,
    reference: Mapping[str, int] | TypoIndex | None = None,
    assistant_scores: Sequence[Sequence[float]] | None = None,
    splits: int = 5,
    seed: int = 0,
) -> tuple[float, dict[str, float]]:
    """Mean realism index (and dimension scores) between two random halves of ``human``.

    Each split shuffles the conversations with a seeded generator and compares the first
    half with the second. Needs at least 4 conversations.
    """
    mean, dims, _ = ceiling_splits(
        human, reference=reference, assistant_scores=assistant_scores, splits=splits, seed=seed
    )
    return mean, dims


def ceiling_splits(
    human: Sequence[Conversation],
    *,
    reference: Mapping[str, int] | TypoIndex | None = None,
    assistant_scores: Sequence[Sequence[float]] | None = None,
    splits: int = 5,
    seed: int = 0,
) -> tuple[float, dict[str, float], list[float]]:
    """:func:`half_split_ceiling`, and the index of each split (their spread shows how
    noisy the ceiling is): :func:`sized_ceiling` at half the corpus."""
    halves = sized_ceiling(
        human,
        max(1, len(human) // 2),
        reference=reference,
        assistant_scores=assistant_scores,
        splits=splits,
        seed=seed,
    )
    return halves.index, dict(halves.dimensions), list(halves.splits)


@dataclass(frozen=True, kw_only=True, slots=True)
class SizedCeiling:
    """What real people score at a simulated run's size.

    Each split draws ``size`` human conversations at random and compares them, as if
    they were the run, with the rest of the corpus. ``index`` is the mean over splits
    (``splits`` each split's), ``dimensions`` and ``features`` the mean dimension scores
    and feature similarities: a feature that real samples of this size often miss (a rate
    of a few in a thousand turns) is noise at this size, not a simulator's fault.
    """

    size: int
    index: float
    dimensions: Mapping[str, float]
    features: Mapping[str, float]
    splits: Sequence[float] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN becomes ``None``."""
        return {
            "size": self.size,
            "index": jsonable(self.index),
            "dimensions": jsonable(dict(self.dimensions)),
            "features": jsonable(dict(self.features)),
            "splits": jsonable(list(self.splits)),
        }


def sized_ceiling(
    human: Sequence[Conversation],
    size: int,
    *,
    reference: Mapping[str, int] | TypoIndex | None = None,
    assistant_scores: Sequence[Sequence[float]] | None = None,
    splits: int = 5,
    seed: int = 0,
) -> SizedCeiling:
    """The realism index of ``size`` real conversations against the rest of ``human``.

    The half-split ceiling compares two halves of the corpus; a run of 30 conversations
    compared with 300 is a smaller sample, and its rare rates (accusation, clarifying
    questions) are more often zero by chance. This is the ceiling at the run's size:
    ``size`` is capped at half the corpus, so the rest is never the smaller side.
    """
    if len(human) < 4:
        raise ConfigError(f"the ceiling needs at least 4 human conversations, got {len(human)}")
    if size < 1:
        raise ConfigError(f"size must be a positive integer, got {size!r}")
    if splits < 1:
        raise ConfigError(f"splits must be a positive integer, got {splits!r}")
    size = min(size, len(human) // 2)
    rng = np.random.default_rng(seed)
    indices: list[float] = []
    per_dimension: dict[str, list[float]] = {name: [] for name in DIMENSIONS}
    per_feature: dict[str, list[float]] = {name: [] for name in FEATURES}

    def features_of(rows: NDArray[np.intp]) -> dict[str, float]:
        scores = None if assistant_scores is None else [assistant_scores[i] for i in rows]
        return realism_features(
            [human[i] for i in rows], reference=reference, assistant_scores=scores, seed=seed
        )

    for _ in range(splits):
        order = rng.permutation(len(human))
        index = realism_index(features_of(order[:size]), features_of(order[size:]))
        indices.append(index.index)
        for name, dim in index.dimensions.items():
            per_dimension[name].append(dim.score)
            for feature, compared in dim.features.items():
                per_feature[feature].append(compared.similarity)
    return SizedCeiling(
        size=size,
        index=_nanmean(indices),
        dimensions={name: _nanmean(v) for name, v in per_dimension.items()},
        features={name: _nanmean(v) for name, v in per_feature.items()},
        splits=indices,
    )


def _nanmean(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else NAN


def compare_realism(
    human: Sequence[Conversation],
    simulated: Mapping[str, Sequence[Conversation]],
    *,
    featurizer: Featurizer = hashed_ngrams,
    splits: int = 5,
    seed: int = 0,
    bootstrap: int = 0,
    human_bootstrap: int = 0,
    confidence: float = 0.95,
) -> RealismComparison:
    """Compare one or more simulators' conversations with a human corpus.

    The typo reference and the assistant-likeness classifier are shared by all sides, so
    several simulators compared in one call are scored against the very same human
    values. The typo reference is built from every conversation given; the classifier
    learns the human corpus's own assistant turns against its user turns only. (Trained
    on the simulated runs' assistant turns as well, it learned those runs' topic words
    as assistant words: real users of one corpus, scored with the other corpus's
    conversations as the "run", read as 33% and 90% assistant-like.) ``bootstrap``
    resamples of each simulator's conversations give intervals for its features,
    similarities and index; ``human_bootstrap`` resamples of the human corpus give
    intervals for the human features (slower: the corpus is large). Each simulator gets
    the ceiling at its own size (:func:`sized_ceiling`, ``splits`` draws).
    """
    if not simulated:
        raise ConfigError("give at least one set of simulated conversations")
    every = [*human, *(c for convs in simulated.values() for c in convs)]
    reference = TypoIndex(vocabulary(str(m.get("content", "")) for c in every for m in c))
    assistant = [t for c in human for t in assistant_turns(c)]
    human_scores, sim_scores = assistant_likeness(
        assistant,
        [user_turns(c) for c in human],
        {name: [user_turns(c) for c in convs] for name, convs in simulated.items()},
        featurizer=featurizer,
        seed=seed,
    )
    human_features = realism_features(
        human, reference=reference, assistant_scores=human_scores, seed=seed
    )
    human_samples = distribution_samples(human)
    results = {}

    @functools.cache
    def at_size(size: int) -> SizedCeiling:  # runs of one size share it
        return sized_ceiling(
            human,
            size,
            reference=reference,
            assistant_scores=human_scores,
            splits=splits,
            seed=seed,
        )

    for name, convs in simulated.items():
        features = realism_features(
            convs,
            reference=reference,
            assistant_scores=sim_scores[name],
            seed=seed,
        )
        samples = distribution_samples(convs)
        intervals = bootstrap_realism(
            convs,
            human_features,
            reference=reference,
            assistant_scores=sim_scores[name],
            n_resamples=bootstrap,
            confidence=confidence,
            seed=seed,
        )
        results[name] = SimulatorRealism(
            intervals=intervals,
            realism=realism_index(features, human_features),
            distributions={
                key: compare_distributions(samples[key], human_samples[key]) for key in samples
            },
            n_conversations=len(convs),
            n_user_turns=len(samples["words_per_turn"]),
            ceiling_at_size=at_size(len(convs)) if convs else None,
        )
    ceiling, ceiling_dims, per_split = ceiling_splits(
        human,
        reference=reference,
        assistant_scores=human_scores,
        splits=splits,
        seed=seed,
    )
    human_intervals = bootstrap_realism(
        human,
        human_features,
        reference=reference,
        assistant_scores=human_scores,
        n_resamples=human_bootstrap,
        confidence=confidence,
        seed=seed,
    )
    return RealismComparison(
        human=human_features,
        simulators=results,
        ceiling=ceiling,
        ceiling_dimensions=ceiling_dims,
        splits=splits,
        n_human_conversations=len(human),
        n_human_turns=len(human_samples["words_per_turn"]),
        ceiling_splits=per_split,
        human_intervals=None if human_intervals is None else human_intervals.values,
    )


__all__ = [
    "DIMENSIONS",
    "FEATURES",
    "DimensionScore",
    "DistributionComparison",
    "FeatureComparison",
    "RealismComparison",
    "RealismIndex",
    "RealismIntervals",
    "SimulatorRealism",
    "SizedCeiling",
    "TaskConversation",
    "TurnClassifier",
    "TypoIndex",
    "answers_question",
    "assistant_likeness",
    "bootstrap_realism",
    "ceiling_splits",
    "compare_distributions",
    "compare_realism",
    "content_reactivity",
    "cooperativeness",
    "distinct_n",
    "distribution_samples",
    "feature_similarity",
    "fit_turn_classifier",
    "formality_score",
    "front_loading",
    "half_split_ceiling",
    "hashed_ngrams",
    "identifier_density",
    "is_acknowledgement",
    "is_question",
    "length_variation",
    "mean_pairwise_similarity",
    "ngram_repetition",
    "opener_repetition",
    "opening_uniformity",
    "realism_features",
    "realism_index",
    "self_repetition",
    "sized_ceiling",
    "text_similarity",
    "type_token_ratio",
    "typo_rate",
    "user_turns",
    "vocabulary",
]
