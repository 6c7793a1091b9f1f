"""Success checks: code that decides whether an answer is right.

Numeric answers are extracted from text ("$1,234.50", "7.6 L", "1/2", "-3") and compared
with a tolerance. By default a numeric check passes when any number in the answering
message matches (assistants restate inputs, but rarely the computed result by chance);
``strict: true`` compares only the last number.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from simulacra.registry import import_object

_NUMBER = re.compile(
    r"(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+)?(?![\d])|(?<![\w.])[-−]?\.\d+"
)
_MONTHS = {
    name: index
    for index, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\.?,?\s*(\d{{4}})?", re.I
)
_MONTH_DAY = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b,?\s*(\d{{4}})?", re.I)


_LIST_MARKER = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+", re.M)


def extract_numbers(text: str) -> list[float]:
    """Every number in ``text`` in order; thousands separators and fractions understood.

    Markers of numbered lists ("1. ", "2) ") are not numbers of the answer.
    """
    numbers: list[float] = []
    for match in _NUMBER.finditer(_LIST_MARKER.sub(" ", text)):
        token = match.group(0).replace("−", "-").replace(",", "").replace(" ", "")
        try:
            if "/" in token:
                top, bottom = token.split("/")
                if float(bottom) == 0:
                    continue
                numbers.append(float(top) / float(bottom))
            else:
                numbers.append(float(token))
        except ValueError:
            continue
    return numbers


_QUESTION = re.compile(r"[^.!?\n]*\?")
_CONTENT_WORD = re.compile(r"[a-z]{4,}")


def statements(text: str) -> str:
    """``text`` without its questions: what a reply asserts rather than asks."""
    return _QUESTION.sub(" ", text)


def _new_numbers(text: str, said: str) -> list[float]:
    """Numbers a reply states that the user did not say themselves."""
    own = extract_numbers(said)
    return [
        n
        for n in extract_numbers(statements(text))
        if not any(math.isclose(n, m, rel_tol=1e-9, abs_tol=1e-9) for m in own)
    ]


def offers_content(text: str, said: str = "", *, words: int = 4) -> bool:
    """Whether a reply states something of its own: at least ``words`` content words
    (four letters or more) outside its questions that the user did not say."""
    own = set(_CONTENT_WORD.findall(said.lower()))
    new = {w for w in _CONTENT_WORD.findall(statements(text).lower()) if w not in own}
    return len(new) >= words


def extract_dates(text: str, *, default_year: int | None = None) -> list[dt.date]:
    found: list[tuple[int, dt.date]] = []
    for match in _ISO_DATE.finditer(text):
        _append_date(found, match.start(), int(match[1]), int(match[2]), int(match[3]))
    for match in _DAY_MONTH.finditer(text):
        year = int(match[3]) if match[3] else default_year
        if year is not None:
            _append_date(found, match.start(), year, _MONTHS[match[2].lower()], int(match[1]))
    for match in _MONTH_DAY.finditer(text):
        year = int(match[3]) if match[3] else default_year
        if year is not None:
            _append_date(found, match.start(), year, _MONTHS[match[1].lower()], int(match[2]))
    return [date for _, date in sorted(found)]


def _append_date(
    found: list[tuple[int, dt.date]], at: int, year: int, month: int, day: int
) -> None:
    with contextlib.suppress(ValueError):
        found.append((at, dt.date(year, month, day)))


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    passed: bool | None
    """None: neither a success nor a failure (a judge abstained on what decides it)."""
    extracted: Any = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "extracted": self.extracted, "detail": self.detail}


class NumericCheck(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["numeric"] = "numeric"
    value: float
    rel_tol: float = Field(default=0.005, ge=0)
    abs_tol: float = Field(default=0.0, ge=0)
    strict: bool = False

    def matches(self, number: float) -> bool:
        return math.isclose(number, self.value, rel_tol=self.rel_tol, abs_tol=self.abs_tol)

    def gives_answer(self, text: str, *, said: str | None = None) -> bool:
        """A number stated (not asked about) that is not one of the user's own figures:
        echoing "10 people, 300 g" back is not an answer. Without ``said``: any number."""
        if said is None:
            return bool(extract_numbers(text))
        return bool(_new_numbers(text, said))

    def evaluate(self, text: str) -> CheckResult:
        numbers = extract_numbers(text)
        if not numbers:
            return CheckResult(passed=False, detail="no number in the answer")
        candidates = numbers[-1:] if self.strict else numbers
        hit = next((n for n in candidates if self.matches(n)), None)
        if hit is not None:
            return CheckResult(passed=True, extracted=hit)
        return CheckResult(passed=False, extracted=numbers[-1], detail=f"expected {self.value:g}")


class DateCheck(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["date"] = "date"
    value: dt.date

    def gives_answer(self, text: str, *, said: str | None = None) -> bool:
        if said is None:
            return bool(extract_dates(text, default_year=self.value.year))
        own = set(extract_dates(said, default_year=self.value.year))
        stated = extract_dates(statements(text), default_year=self.value.year)
        return any(d not in own for d in stated)

    def evaluate(self, text: str) -> CheckResult:
        dates = extract_dates(text, default_year=self.value.year)
        if not dates:
            return CheckResult(passed=False, detail="no date in the answer")
        if self.value in dates:
            return CheckResult(passed=True, extracted=self.value.isoformat())
        return CheckResult(
            passed=False, extracted=dates[-1].isoformat(), detail=f"expected {self.value}"
        )


class AnyOfCheck(BaseModel):
    """Passes when any of ``values`` occurs in the answer (case-insensitive, word-bounded)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["any_of"] = "any_of"
    values: list[str] = Field(min_length=1)

    def _pattern(self, value: str) -> re.Pattern[str]:
        return re.compile(rf"(?<!\w){re.escape(value)}(?!\w)", re.I)

    def gives_answer(self, text: str, *, said: str | None = None) -> bool:
        if said is None:
            return bool(text.strip())
        return self.evaluate(text).passed or offers_content(text, said)

    def evaluate(self, text: str) -> CheckResult:
        for value in self.values:
            if self._pattern(value).search(text):
                return CheckResult(passed=True, extracted=value)
        return CheckResult(passed=False, detail=f"none of {self.values} in the answer")


class RegexCheck(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["regex"] = "regex"
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value, re.I | re.S)
        except re.error as exc:
            raise ValueError(
                f"pattern {value!r} is not a valid regular expression ({exc})"
            ) from None
        return value

    def gives_answer(self, text: str, *, said: str | None = None) -> bool:
        if said is None:
            return bool(text.strip())
        return self.evaluate(text).passed or offers_content(text, said)

    def evaluate(self, text: str) -> CheckResult:
        match = re.search(self.pattern, text, re.I | re.S)
        return CheckResult(passed=bool(match), extracted=match.group(0) if match else None)


class PythonCheck(BaseModel):
    """``function`` is an import path to ``f(answer: str) -> bool``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["python"] = "python"
    function: str

    def _callable(self) -> Callable[[str], object]:
        function = import_object(self.function)
        if not callable(function):
            raise TypeError(f"{self.function} is not callable")
        return function

    def gives_answer(self, text: str, *, said: str | None = None) -> bool:
        return bool(text.strip()) if said is None else offers_content(text, said)

    def evaluate(self, text: str) -> CheckResult:
        return CheckResult(passed=bool(self._callable()(text)))


_FENCE = re.compile(r"```[ \t]*(?:python|py)?[ \t]*\n(.*?)```", re.S | re.I)
_OPENING_FENCE = re.compile(r"```[ \t]*(?:python|py)?[ \t]*\n", re.I)
_CODE_START = re.compile(r"(?:(?:async\s+def|def|class|import|from\s+\S+\s+import)\s|@\w)")


def extract_code(text: str, entry_point: str) -> str | None:
    """The code of an answer that defines ``entry_point``.

    In order: the last closed fenced block that defines it; else a final block whose
    closing fence never came (an answer cut off at its token limit); else unfenced code,
    from the first line that starts a Python statement (skipping a line of prose before
    it). None when nothing defines ``entry_point``.
    """
    definition = re.compile(rf"^\s*(?:async\s+)?def\s+{re.escape(entry_point)}\s*\(", re.M)
    closed = list(_FENCE.finditer(text))
    blocks = [m.group(1) for m in closed if definition.search(m.group(1))]
    if blocks:
        return str(blocks[-1])
    after_closed = closed[-1].end() if closed else 0
    opening = _OPENING_FENCE.search(text, after_closed)
    if opening is not None:
        rest = text[opening.end() :]
        return rest if definition.search(rest) else None
    if not definition.search(text):
        return None
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if _CODE_START.match(line):
            return "".join(lines[index:])
    return text


class UnitTestCheck(BaseModel):
    """Model-written code that must pass ``tests`` (asserts or ``test_*`` functions).

    The code is taken from the answer as :func:`extract_code` finds it (the fenced block
    that defines ``entry_point``, one cut off before its closing fence, or bare code) and
    is run only in the sandbox (:mod:`simulacra.tasks.sandbox`), never in this process.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["unit_tests"] = "unit_tests"
    entry_point: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    tests: str = Field(min_length=1)
    timeout_s: float = Field(default=10.0, gt=0, le=120)

    def gives_answer(self, text: str, *, said: str | None = None) -> bool:
        return extract_code(text, self.entry_point) is not None

    def _limits(self) -> Any:
        from simulacra.tasks.sandbox import SandboxLimits

        return SandboxLimits(wall_seconds=self.timeout_s, cpu_seconds=max(1, int(self.timeout_s)))

    def _result(self, outcome: Any) -> CheckResult:
        return CheckResult(
            passed=bool(outcome.all_passed),
            extracted=f"{outcome.passed}/{outcome.total} tests passed",
            detail=outcome.first_failure or outcome.error or "",
        )

    def evaluate(self, text: str) -> CheckResult:
        code = extract_code(text, self.entry_point)
        if code is None:
            return CheckResult(passed=False, detail=f"no definition of {self.entry_point}()")
        from simulacra.tasks.sandbox import run_tests

        return self._result(run_tests(code, self.tests, limits=self._limits()))

    async def aevaluate(self, text: str) -> CheckResult:
        code = extract_code(text, self.entry_point)
        if code is None:
            return CheckResult(passed=False, detail=f"no definition of {self.entry_point}()")
        from simulacra.tasks.sandbox import arun_tests

        return self._result(await arun_tests(code, self.tests, limits=self._limits()))


class EnvironmentCheck(BaseModel):
    """Success is the state the agent left in the task's environment (scored by the
    episode loop, which holds the environment): see :mod:`simulacra.tasks.envs`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["environment"] = "environment"

    def gives_answer(self, text: str, *, said: str | None = None) -> bool:
        # the outcome is in the environment, not in what the agent says
        return False

    def evaluate(self, text: str) -> CheckResult:
        return CheckResult(passed=False, detail="an environment task is scored on its environment")


class JudgedCheck(BaseModel):
    """Success is a judge model's verdict on a checklist of must-haves (``criteria``).

    For open-ended tasks (a letter, an edit, a lesson) that no code can score. The judge
    (:mod:`simulacra.feedback`, built from the run config's ``judge:`` section) reads the
    task, its hidden facts and reference, and what it is told to read (``scope``: the
    final ``answer``, or the whole ``conversation``), and says of each must-have whether
    it is met, with a reason; the task passes when at least ``pass_share`` of them are.
    A judge that cannot be parsed abstains: neither a success nor a failure.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["judged"] = "judged"
    criteria: list[str] = Field(min_length=1, max_length=20)
    scope: Literal["answer", "conversation"] = "answer"
    pass_share: float = Field(default=1.0, gt=0, le=1)
    guidance: str = Field(default="", description="what the judge should know beyond the task")

    @field_validator("criteria")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(c.split()) for c in value]
        if any(not c for c in cleaned):
            raise ValueError("a criterion is empty")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("criteria repeat")
        return cleaned

    def needed(self) -> int:
        """How many criteria must be met to pass."""
        return max(1, math.ceil(self.pass_share * len(self.criteria) - 1e-9))

    def gives_answer(self, text: str, *, said: str | None = None) -> bool:
        """A reply with substance of its own (a draft, an explanation), not only a question
        or the user's words given back."""
        if said is None:
            return bool(text.strip())
        return offers_content(text, said, words=8)

    def evaluate(self, text: str) -> CheckResult:
        return CheckResult(passed=False, detail="a judged check is scored by a judge model")


Check = Annotated[
    NumericCheck
    | DateCheck
    | AnyOfCheck
    | RegexCheck
    | PythonCheck
    | UnitTestCheck
    | EnvironmentCheck
    | JudgedCheck,
    Field(discriminator="type"),
]
