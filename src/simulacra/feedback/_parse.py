"""Reading what a rater model wrote: verdicts, scores, critiques and signals.

Nothing here guesses: a reply that does not contain the asked-for format parses to
``None``, and the caller retries or records an abstention.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from simulacra.llm import Completion, TokenLogprob

# The label a rater wrote names a *shown position*: "A" is whatever was shown first.
ShownLabel = str  # "A" | "B" | "tie"

_LABELS = {
    "a": "A",
    "b": "B",
    "tie": "tie",
    "ti": "tie",
    "t": "tie",
    "draw": "tie",
    "equal": "tie",
    "both": "tie",
    "neither": "tie",
}
_PREFIX = r"verdict[\s\*]*[:：=][\s\*\"'\[\(`]*(?:(?:response|conversation|answer)\s+)?"
_VERDICT = re.compile(_PREFIX + r"(a|b|tie|draw|equal|both|neither)\b", re.IGNORECASE)
_BRACKETS = re.compile(r"\[\[\s*(a|b|tie)\s*\]\]", re.IGNORECASE)
_VERDICT_SLOT = re.compile(_PREFIX, re.IGNORECASE)


def parse_verdict_text(text: str) -> ShownLabel | None:
    """The last ``Verdict: A|B|tie`` (or ``[[A]]``) in ``text``, else ``None``."""
    matches = list(_VERDICT.finditer(text)) or list(_BRACKETS.finditer(text))
    if not matches:
        return None
    return _LABELS[matches[-1].group(1).lower()]


def rationale_of(text: str) -> str:
    """The text before the (last) verdict line, trimmed."""
    matches = list(_VERDICT.finditer(text))
    body = text[: matches[-1].start()] if matches else text
    return body.strip()[:4000]


def _label_of_token(token: str) -> ShownLabel | None:
    cleaned = token.strip().strip("*\"'[]()`.:,").lower()
    return _LABELS.get(cleaned)


@dataclass(frozen=True, kw_only=True, slots=True)
class TokenVerdict:
    """A verdict read from the probabilities of the verdict token."""

    label: ShownLabel
    confidence: float
    probabilities: dict[str, float]


def parse_verdict_logprobs(tokens: Sequence[TokenLogprob]) -> TokenVerdict | None:
    """The verdict from the token right after ``Verdict:``, weighing its alternatives.

    The chosen token and its top alternatives are mapped to labels; the probability mass
    of each label is summed, and the verdict is the label with the most mass. Its
    ``confidence`` is that mass over the mass of all labels. ``None`` when there is no
    verdict slot or none of the candidate tokens is a label.
    """
    if not tokens:
        return None
    text = "".join(t.token for t in tokens)
    slots = list(_VERDICT_SLOT.finditer(text))
    if not slots:
        return None
    position = slots[-1].end()
    offset = 0
    index = None
    for i, token in enumerate(tokens):
        end = offset + len(token.token)
        if end > position:
            index = i
            break
        offset = end
    if index is None:
        return None
    slot = tokens[index]
    candidates: dict[str, float] = {}
    for alternative, logprob in slot.top:
        candidates.setdefault(alternative, logprob)
    candidates.setdefault(slot.token, slot.logprob)
    mass: dict[str, float] = {}
    for candidate, logprob in candidates.items():
        label = _label_of_token(candidate)
        if label is not None:
            mass[label] = mass.get(label, 0.0) + math.exp(logprob)
    total = sum(mass.values())
    if not mass or total <= 0.0:
        return None
    label = max(mass, key=lambda k: mass[k])
    shares = {k: v / total for k, v in sorted(mass.items())}
    return TokenVerdict(label=label, confidence=shares[label], probabilities=shares)


def parse_verdict(completion: Completion) -> tuple[ShownLabel, float | None, str] | None:
    """(label, confidence, how) from logprobs when present, else from the text."""
    if completion.logprobs:
        token_verdict = parse_verdict_logprobs(completion.logprobs)
        if token_verdict is not None:
            return token_verdict.label, token_verdict.confidence, "logprobs"
    label = parse_verdict_text(completion.text)
    if label is None:
        return None
    return label, None, "text"


# --- scores -------------------------------------------------------------------------------


def parse_scores(text: str, names: Sequence[str], *, low: int = 1, high: int = 5) -> dict[str, int]:
    """``name: N`` lines for the given names (last one wins); out-of-range values are left out.

    Names match case-insensitively, ignoring markdown emphasis, and ``_``/``-``/space are
    interchangeable. Accepts ``4``, ``4/5`` and ``4 out of 5``.
    """
    found: dict[str, int] = {}
    for name in names:
        words = re.split(r"[_\-\s]+", name.strip())
        pattern = r"[_\-\s]*".join(re.escape(w) for w in words if w)
        regex = re.compile(
            r"(?:^|\n)[\s\-\*#>\d.]*\**\s*" + pattern + r"\s*\**\s*[:=\-–]\s*\**\s*(\d+(?:\.\d+)?)",
            re.IGNORECASE,
        )
        matches = list(regex.finditer(text))
        if not matches:
            continue
        value = float(matches[-1].group(1))
        if value.is_integer() and low <= value <= high:
            found[name] = int(value)
    return found


# --- critiques ----------------------------------------------------------------------------

_HEADING = re.compile(
    r"^\s*[#\*]*\s*(strengths?|weakness(?:es)?|suggestions?)\s*\**\s*[:：]\s*\**\s*(.*)$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@dataclass(frozen=True, kw_only=True, slots=True)
class ParsedCritique:
    strengths: list[str]
    weaknesses: list[str]
    suggestion: str


def parse_critique(text: str) -> ParsedCritique | None:
    """Sections ``Strengths:``, ``Weaknesses:`` and ``Suggestion:``.

    Bullets become list entries; text on the heading line counts as the first entry. A
    critique without a suggestion, or with neither strengths nor weaknesses, is ``None``.
    """
    sections: dict[str, list[str]] = {"strength": [], "weakness": [], "suggestion": []}
    current: str | None = None
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            word = heading.group(1).lower()
            current = (
                "strength"
                if word.startswith("strength")
                else "weakness"
                if word.startswith("weak")
                else "suggestion"
            )
            rest = heading.group(2).strip()
            if rest:
                sections[current].append(rest)
            continue
        if current is None or not line.strip():
            continue
        sections[current].append(line)
    strengths = _entries(sections["strength"])
    weaknesses = _entries(sections["weakness"])
    suggestion = " ".join(_entries(sections["suggestion"])).strip()
    if not suggestion or not (strengths or weaknesses):
        return None
    return ParsedCritique(strengths=strengths, weaknesses=weaknesses, suggestion=suggestion)


def _entries(lines: list[str]) -> list[str]:
    entries: list[str] = []
    for line in lines:
        if _BULLET.match(line) or not entries:
            entries.append(_BULLET.sub("", line).strip())
        else:
            entries[-1] = f"{entries[-1]} {line.strip()}"
    return [e for e in entries if e and e not in ("...", "…", "-", "none", "None")]


# --- signals ------------------------------------------------------------------------------

_SIGNALS_LINE = re.compile(r"signals?\s*[:：]\s*(.*)$", re.IGNORECASE | re.MULTILINE)


def parse_signals(text: str, allowed: Sequence[str]) -> list[str] | None:
    """``Signals: a, b`` (or ``Signals: none``) → the listed allowed names; else ``None``."""
    matches = list(_SIGNALS_LINE.finditer(text))
    if not matches:
        return None
    body = matches[-1].group(1).strip().strip(".").lower()
    if body in ("none", "no", "-", "n/a", ""):
        return []
    names = {a.lower().replace(" ", "_"): a for a in allowed}
    found: list[str] = []
    for part in re.split(r"[,;/]| and ", body):
        key = part.strip().strip("*`'\". ").replace(" ", "_").replace("-", "_")
        if key in names and names[key] not in found:
            found.append(names[key])
    return found or None
