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


def length_target(persona: Persona, rng: random.Random, *, frustration: float = 0.0) -> int:
    """Words for the next turn: log-normal around a median set by verbosity.

    Verbosity 0 gives a median of about 6 words, 0.3 about 21, 1 about 56; frustration
    shortens turns (up to 40% at full frustration). Small models write shorter than
    asked, so the targets sit above the turn lengths they produce (real users' median is
    about 17 words).
    """
    median = 6.0 + 50.0 * persona.verbosity
    words = median * math.exp(rng.gauss(0.0, 0.45)) * (1.0 - 0.4 * frustration)
    return max(2, min(90, round(words)))


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
    """Casing, end punctuation, shorthand, greeting and typos at the persona's rates."""
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
    lowercase = min(1.0, style.lowercase_rate + 0.3 * frustration)
    if rng.random() < lowercase:
        text = text.lower() if style.lowercase_rate >= 0.7 else text[0].lower() + text[1:]
    keep_punct = max(0.0, style.end_punctuation_rate - 0.3 * frustration)
    if text[-1] in ".!" and rng.random() > keep_punct:
        text = text.rstrip(".!")
    elif text[-1] == "?" and rng.random() > (keep_punct + 1) / 2:
        text = text.rstrip("?")
    if frustration >= 0.6 and text[-1:] == "?" and rng.random() < 0.5:
        text += "?"
    text, _ = add_typos(text, persona.typo_rate, rng)
    return text
