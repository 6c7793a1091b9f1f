"""Surface behaviour drawn from persona traits, applied in code.

Prompts alone make every simulated user sound alike; these functions make length, typos,
casing, punctuation and shorthand follow each persona's rates, whatever the model writes.
Numbers are never altered, so facts survive the styling.
"""

from __future__ import annotations

import math
import random
import re

from simulacra.people import Persona

_WORD = re.compile(r"[A-Za-z]{3,}")
_LONE_I = re.compile(r"(?<![\w'])i(?=\b(?:'[a-z]+)?(?![\w-]))")
_NEIGHBOURS = {
    "a": "qwsz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc",
    "g": "ftyhbv", "h": "gyujnb", "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kop",
    "m": "njk", "n": "bhjm", "o": "iklp", "p": "ol", "q": "wa", "r": "edft", "s": "awedxz",
    "t": "rfgy", "u": "yhji", "v": "cfgb", "w": "qase", "x": "zsdc", "y": "tghu", "z": "asx",
}  # fmt: skip
_SHORTHAND = [
    (re.compile(r"\byou\b", re.I), "u"),
    (re.compile(r"\bplease\b", re.I), "pls"),
    (re.compile(r"\bthanks\b|\bthank you\b", re.I), "thx"),
    (re.compile(r"\bI don'?t know\b", re.I), "idk"),
    (re.compile(r"\bbecause\b", re.I), "bc"),
    (re.compile(r"\bare\b", re.I), "r"),
]


HUMAN_LENGTH_MEDIAN = 9.0
"""The log-normal's median: the geometric mean of words per user turn of the human corpora
pooled (MultiWOZ 2.1 dev sample and Taskmaster-4 coffee sample, 2,813 turns; their plain
medians are 11 and 6); ``scripts/user-turn-stats.py`` prints the fit."""
HUMAN_LENGTH_SIGMA = 0.65
"""Standard deviation of log words per user turn, pooled (MultiWOZ 0.49, Taskmaster 0.83):
a log-normal's tail, with 17% of turns at 5 words or fewer."""
_VERBOSITY_MEAN = 0.35
_VERBOSITY_SLOPE = 2.0


def length_target(persona: Persona, rng: random.Random, *, frustration: float = 0.0) -> int:
    """Words for the next turn: log-normal, fitted to real users' turns.

    The median is the human one at the default verbosity (0.35) and scales by
    ``exp(2·(verbosity − 0.35))``: about 4.5 words at verbosity 0, 33 at 1. The spread is
    the pooled human one, so short turns and long ones come at people's rates.
    Frustration shortens turns (up to 40% at full frustration).
    """
    median = HUMAN_LENGTH_MEDIAN * math.exp(
        _VERBOSITY_SLOPE * (persona.verbosity - _VERBOSITY_MEAN)
    )
    words = median * math.exp(rng.gauss(0.0, HUMAN_LENGTH_SIGMA)) * (1.0 - 0.4 * frustration)
    return max(1, min(90, round(words)))


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+|\s+(?=(?:but|and|so|because)\s)")


def truncate_words(text: str, limit: int) -> str:
    """Cut ``text`` to about ``limit`` words, preferring a sentence end."""
    words = text.split()
    if len(words) <= limit:
        return text
    cut = " ".join(words[:limit])
    end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    if end >= len(cut) // 2:
        return cut[: end + 1]
    return cut


def cut_at_sentence(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` words at a sentence end, never inside a sentence.

    Whole sentences are kept while they fit (the first always is); a first sentence
    longer than twice the limit is cut at a clause boundary when it has one that fits.
    """
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s]
    if not sentences:
        return text.strip()
    kept = [sentences[0]]
    count = len(sentences[0].split())
    for sentence in sentences[1:]:
        n = len(sentence.split())
        if count + n > limit:
            break
        kept.append(sentence)
        count += n
    if count > 2 * max(limit, 3):
        parts = _CLAUSE_END.split(kept[0])
        clause: list[str] = []
        total = 0
        for part in parts:
            total += len(part.split())
            if clause and total > 1.5 * max(limit, 3):
                break
            clause.append(part)
        if len(clause) < len(parts):
            return " ".join(clause).rstrip(",;: ")
    return " ".join(kept)


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word) - 1)
    kind = rng.random()
    if kind < 0.35:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind < 0.6:
        return word[:i] + word[i + 1 :]
    if kind < 0.8:
        return word[:i] + word[i] + word[i:]
    near = _NEIGHBOURS.get(word[i].lower())
    if not near:
        return word
    return word[:i] + rng.choice(near) + word[i + 1 :]


def add_typos(text: str, rate: float, rng: random.Random) -> tuple[str, int]:
    """Put a typo in each alphabetic word of 3+ letters with probability ``rate``."""
    if rate <= 0:
        return text, 0
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if rng.random() < rate:
            count += 1
            return _typo(match.group(0), rng)
        return match.group(0)

    return _WORD.sub(replace, text), count


def apply_style(
    text: str,
    persona: Persona,
    rng: random.Random,
    *,
    frustration: float = 0.0,
    opening: bool = False,
) -> str:
    """Casing (lowered or restored), end punctuation, shorthand, greeting and typos at the
    persona's rates."""
    style = persona.style
    text = " ".join(text.split())
    if not text:
        return text
    if style.abbreviations:
        for pattern, short in _SHORTHAND:
            if rng.random() < 0.6:
                text = pattern.sub(short, text)
    if opening and rng.random() < style.greeting_rate:
        greeting = "Hello, " if style.formality > 0.6 else rng.choice(["hi ", "hey, ", "Hi! "])
        text = (
            greeting + text[0].lower() + text[1:]
            if text[:1].isupper() and text[:2] != "I "
            else greeting + text
        )
    # the case of a turn is the persona's, not the model's: lower it or restore capitals
    lowercase = min(1.0, style.lowercase_rate + 0.3 * frustration)
    if rng.random() < lowercase:
        text = text.lower() if style.lowercase_rate >= 0.7 else text[0].lower() + text[1:]
    else:
        text = text[0].upper() + text[1:]
        if style.lowercase_rate < 0.3:
            text = _LONE_I.sub("I", text)
    keep_punct = max(0.0, style.end_punctuation_rate - 0.3 * frustration)
    if text[-1] in ".!" and rng.random() > keep_punct:
        text = text.rstrip(".!")
    elif text[-1] == "?" and rng.random() > (keep_punct + 1) / 2:
        text = text.rstrip("?")
    if frustration >= 0.8 and text[-1:] == "?" and rng.random() < 0.5:
        text += "?"
    text, _ = add_typos(text, persona.typo_rate, rng)
    return text
