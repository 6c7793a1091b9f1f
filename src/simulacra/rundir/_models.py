"""The typed records of a run directory: what each JSON line or file holds.

Every record carries ``schema_version``. A line written before versions existed reads as
version 0 and is upgraded on reading (``upgrade``), so old run directories open with
the same numbers. Unknown fields are kept (``extra="allow"``): a reader of an older
simulacra does not drop what a newer one wrote.
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from simulacra.llm import Usage

SCHEMA_VERSION = 1
"""The version of the records written now. 0: files written before versions existed."""

Mode = Literal["full", "concat", "sharded"]
"""How a task reaches the assistant: all at once, its shards joined, or one shard a turn."""

DEFAULT_MODE: Mode = "sharded"
"""The mode of an episode whose record names none (and of a run whose config names none)."""

Status = Literal["ok", "error"]
ROLES = ("user", "target", "judge")


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", validate_assignment=False)

    def to_dict(self) -> dict[str, Any]:
        """As JSON: the fields that were given, each as it was given, and the version of
        a versioned record always (a reader tells an older file by its absence)."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude_unset=True)
        if "schema_version" in type(self).model_fields and "schema_version" not in data:
            data = {"schema_version": self.schema_version, **data}  # type: ignore[attr-defined]
        return data


class UsageRecord(_Record):
    """Tokens and calls of one role in one episode."""

    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)
    total_tokens: int = Field(default=0, ge=0)
    calls: int = Field(default=0, ge=0)
    cached_calls: int = Field(default=0, ge=0)

    @classmethod
    def of(cls, usage: Usage) -> UsageRecord:
        return cls.model_validate(usage.to_dict())

    def usage(self) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            calls=self.calls,
            cached_calls=self.cached_calls,
        )


class ToolCallRecord(_Record):
    id: str = ""
    type: str = "function"
    function: dict[str, Any] = Field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.function.get("name", ""))

    @property
    def arguments(self) -> str:
        value = self.function.get("arguments", "")
        return value if isinstance(value, str) else str(value)


def _part_text(part: Any) -> str:
    if isinstance(part, dict) and isinstance(part.get("text"), str):
        return str(part["text"])
    return part if isinstance(part, str) else json.dumps(part, separators=(",", ":"))


class MessageRecord(_Record):
    """One message of an episode as the target saw it, with per-turn metadata."""

    role: str
    content: str = ""
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("content", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        # content given as a list of parts (the chat format allows it) reads as its text
        if value is None:
            return ""
        if isinstance(value, list):
            return "\n".join(_part_text(part) for part in value)
        return value

    @property
    def by_user_tools(self) -> bool:
        """A tool call the simulated user made on their own tools (a ``user`` message with
        ``tool_calls``), or its ``tool`` result: kept in the record, never shown to the
        assistant (``meta.by`` is ``"user"``)."""
        return self.meta.get("by") == "user"

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # as in the chat format: tool fields only where a message has them
        data: dict[str, Any] = handler(self)
        for key in ("tool_calls", "tool_call_id", "name", "meta"):
            if data.get(key) in (None, [], {}):
                data.pop(key, None)
        return data


class GuardEventRecord(_Record):
    """A guard of the simulated user that fired: which, on which turn, what it did."""

    turn: int = 0
    guard: str = "?"
    action: str = ""
    detail: str = ""


class PersonaRef(_Record):
    """The persona an episode was played by (every attribute of it is kept)."""

    name: str = ""


class TaskRef(_Record):
    """The task of an episode: what the target and the raters need to know of it."""

    id: str = ""
    suite: str = ""
    goal: str = ""
    facts: list[str] = Field(default_factory=list)
    reference: str | None = None


Verdict = Literal["pass", "fail", "abstain"]
"""A judge's verdict on a judged task (``abstain``: it could not be told; neither)."""


class CriterionRecord(_Record):
    """One must-have of a judged task: met or not (None: the judge did not say), why,
    and where it was shown in each order the checklist was presented (1 = first)."""

    criterion: str
    met: bool | None = None
    reason: str = ""
    shown_at: list[int] = Field(default_factory=list)
    verdicts: list[bool | None] = Field(default_factory=list)
    """What the judge said in each order (the position-bias control)."""
    reply: str = ""
    """The judge's reply that answered it (the first order that did; empty if none)."""


class JudgementRecord(_Record):
    """A judge model's verdict on a judged task: ``Episode.check["judgement"]``.

    ``met`` of the ``criteria`` were met; the verdict is ``pass`` when at least
    ``needed`` were, ``fail`` when that can no longer be reached, ``abstain`` otherwise
    (criteria the judge did not answer, or an error of the judge). ``consistent`` says
    whether the orders agreed on every criterion (None: one order); ``answer_chars`` is
    the length of what was judged (the length-bias diagnostic)."""

    judge: str = "judge"
    model: str | None = None
    template: str = ""
    verdict: Verdict = "abstain"
    met: int = 0
    needed: int = 1
    criteria: list[CriterionRecord] = Field(default_factory=list)
    reasons: str = ""
    orders: int = 1
    consistent: bool | None = None
    scope: str = "answer"
    answer_chars: int = 0
    attempts: int = 0
    duration_s: float = 0.0
    """Seconds the judge took (every order and follow-up)."""
    error: str | None = None


class Episode(_Record):
    """One finished conversation: a line of ``episodes.jsonl``.

    The runner fills it while the conversation is played (``add_usage``, ``messages``,
    ``status``) and writes it once when it ends; every stage after reads it back.
    """

    schema_version: int = SCHEMA_VERSION
    id: str
    run: str = ""
    persona: PersonaRef = Field(default_factory=PersonaRef)
    task: TaskRef = Field(default_factory=TaskRef)
    target: str = ""
    repeat: int = 0
    mode: str = DEFAULT_MODE
    seed: int = 0
    status: Status = "ok"
    stop_reason: str = ""
    success: bool | None = None
    score: float | None = None
    check: dict[str, Any] = Field(default_factory=dict)
    user_turns: int = 0
    messages: list[MessageRecord] = Field(default_factory=list)
    guard_events: list[GuardEventRecord] = Field(default_factory=list)
    usage: dict[str, UsageRecord] = Field(default_factory=dict)
    started_at: float = 0.0
    duration_s: float = 0.0
    error: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("persona", "task", "check", "extra", mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("messages", "guard_events", mode="before")
    @classmethod
    def _list(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("score", mode="after")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        return None if value is None or not math.isfinite(value) else value

    # -- what the runner and the stages use ------------------------------------------------

    def add_usage(self, role: str, usage: Usage) -> None:
        before = self.usage[role].usage() if role in self.usage else Usage()
        self.usage[role] = UsageRecord.of(before + usage)

    @property
    def persona_name(self) -> str:
        return self.persona.name

    @property
    def task_id(self) -> str:
        return self.task.id

    def user_tool_calls(self) -> list[ToolCallRecord]:
        """The tool calls the simulated user made on their own tools, in order."""
        return [
            call
            for m in self.messages
            if m.role == "user" and m.by_user_tools
            for call in m.tool_calls
        ]

    def seen_by_target(self) -> list[MessageRecord]:
        """The messages as the assistant saw them: without the user's own tool calls."""
        return [m for m in self.messages if not m.by_user_tools]

    @property
    def judgement(self) -> JudgementRecord | None:
        """The judge's verdict of a judged task (None for a task checked by code)."""
        data = self.check.get("judgement")
        return JudgementRecord.model_validate(data) if isinstance(data, dict) else None

    def total_usage(self) -> Usage:
        total = Usage()
        for record in self.usage.values():
            total = total + record.usage()
        return total

    def match_key(self) -> tuple[str, str, str, int]:
        """What pairs this episode with its counterpart in another run or repeat:
        persona, task, mode and repeat."""
        return (self.persona.name, self.task.id, self.mode, self.repeat)

    def to_dict(self) -> dict[str, Any]:
        """The JSON line (``duration_s`` rounded to 0.1 ms)."""
        data = self.model_dump(mode="json")
        data["duration_s"] = round(self.duration_s, 4)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Episode:
        return cls.model_validate(upgrade(data))


class FeedbackRecord(_Record):
    """One judgement: a line of ``feedback.jsonl``. Each kind has its own record
    (``PairwiseRecord``, ``RubricRecord``, ``CritiqueRecord``, ``ImplicitRecord``);
    ``from_dict`` reads a line as the record of its kind (a kind this version does not
    know reads as this base record, its fields kept)."""

    schema_version: int = SCHEMA_VERSION
    key: str = ""
    """What the judgement is of (kind, item, rater, detail): one line per key."""
    kind: str
    item_id: str = ""
    rater: str = ""
    confidence: float | None = None
    error: str | None = None
    episode: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeedbackRecord:
        data = upgrade(data)
        record_type = FEEDBACK_KINDS.get(data.get("kind"), cls) if cls is FeedbackRecord else cls
        return record_type.model_validate(data)

    @property
    def episodes(self) -> list[str]:
        """The episodes this judgement is about (one, or two for a pair)."""
        return [self.episode] if self.episode else []


class OrderRecord(_Record):
    """What a pairwise rater said for one order of showing the pair."""

    first_shown: str | None = None
    verdict: str | None = None
    confidence: float | None = None
    error: str | None = None


class PairwiseRecord(FeedbackRecord):
    """A preference between two replies: ``verdict`` A, B or tie (None: abstained);
    ``orders`` holds the verdict of each order shown (position-bias control), ``len_a``
    and ``len_b`` the replies' lengths (length-bias control)."""

    kind: Literal["pairwise"] = "pairwise"
    verdict: str | None = None
    raw_verdict: str | None = None
    first_shown: str | None = None
    len_a: int | None = None
    len_b: int | None = None
    episode_a: str | None = None
    episode_b: str | None = None
    pairing: str | None = None
    orders: list[OrderRecord] = Field(default_factory=list)
    rationale: str = ""

    @field_validator("orders", mode="before")
    @classmethod
    def _orders(cls, value: Any) -> Any:
        return [o for o in value if isinstance(o, dict)] if isinstance(value, list) else []

    @property
    def episodes(self) -> list[str]:
        return [e for e in (self.episode_a, self.episode_b, self.episode) if e]


class RubricRecord(FeedbackRecord):
    """A score on one rubric dimension (None: abstained), on the scale ``scale``."""

    kind: Literal["rubric"] = "rubric"
    dimension: str = "overall"
    score: float | None = None
    scale: list[float] = Field(default_factory=list)
    rationale: str = ""
    persona: str | None = None


class CritiqueRecord(FeedbackRecord):
    """A written critique: strengths, weaknesses and a suggestion (None: abstained)."""

    kind: Literal["critique"] = "critique"
    strengths: list[str] = Field(default_factory=list)
    weaknesses: list[str] = Field(default_factory=list)
    suggestion: str | None = None


class ImplicitRecord(FeedbackRecord):
    """The implicit signals one user turn gave (rephrasing, frustration, thanks, ...)."""

    kind: Literal["implicit"] = "implicit"
    turn: int = 0
    signals: list[str] = Field(default_factory=list)
    text: str = ""


FEEDBACK_KINDS: dict[Any, type[FeedbackRecord]] = {
    "pairwise": PairwiseRecord,
    "rubric": RubricRecord,
    "critique": CritiqueRecord,
    "implicit": ImplicitRecord,
}
"""The record of each kind of judgement, by the ``kind`` its lines carry."""


class Estimate(_Record):
    """A number with its interval, as ``summary.json`` writes every estimate."""

    value: float | None = None
    low: float | None = None
    high: float | None = None
    n: int | None = None
    excluded: int | None = None
    """Units left out (e.g. of pass^k: those without every repeat)."""
    method: str | None = None


class Rate(_Record):
    """A group's plain success rate (by persona, task, suite or mode)."""

    n: int = 0
    success: float = 0.0


class BreakdownGroup(_Record):
    """One group of a breakdown: its success rate and interval (None: too few)."""

    label: str
    n: int = 0
    value: float | None = None
    low: float | None = None
    high: float | None = None


class Breakdown(_Record):
    """Success by one attribute (``key``) of the persona or the task."""

    key: str
    label: str = ""
    groups: list[BreakdownGroup] = Field(default_factory=list)


class Breakdowns(_Record):
    persona: list[Breakdown] = Field(default_factory=list)
    task: list[Breakdown] = Field(default_factory=list)


class PolicySummary(_Record):
    """Policy violations of the episodes scored on a tool environment."""

    episodes: int = 0
    with_violations: int = 0
    violations: dict[str, int] = Field(default_factory=dict)
    success_without_violation: Estimate | None = None


class SuccessByTurnSummary(_Record):
    """Cumulative success by turn of the episodes that record their first success."""

    turns: list[int] = Field(default_factory=list)
    cumulative: list[Estimate] = Field(default_factory=list)
    gain: list[Estimate] = Field(default_factory=list)
    n: int = 0


class SuiteReliability(_Record):
    """pass^k, aptitude and unreliability of one suite of a run of several."""

    pass_hat_k: dict[str, Estimate] | None = None
    aptitude: Estimate | None = None
    unreliability: Estimate | None = None


class PositionShare(_Record):
    """Must-haves shown at one position of the checklist: how many answers, the share met."""

    n: int = 0
    met: float | None = None


class JudgePosition(_Record):
    """Where a must-have was shown against how often the judge called it met: with the
    order random per episode, a judge without position bias calls items met as often
    first as last."""

    met_by_position: dict[str, PositionShare] = Field(default_factory=dict)
    """By position shown (``"1"`` = first), over each order's own answers."""
    first_shown_met: float | None = None
    last_shown_met: float | None = None
    order_agreement: float | None = None
    """Of the items judged in both orders, the share both orders agreed on."""
    items_judged_in_both_orders: int = 0


class JudgeLength(_Record):
    """Whether longer work passes more often: the pass rate of the longer half of the
    judged texts against the shorter half (decided verdicts only), and the correlation
    of log length with the share of must-haves met (None below three)."""

    decided: int = 0
    longer_half_pass_rate: float | None = None
    shorter_half_pass_rate: float | None = None
    difference: float | None = None
    length_met_correlation: float | None = None


class JudgedSummary(_Record):
    """The judged episodes of a run: abstentions are counted apart (neither success nor
    failure, and not in ``success``); ``position`` and ``length`` are the judge's own
    diagnostics (``simulacra.rundir.judge_figures``), None in a summary written before
    they were kept (the report completes them from the episodes)."""

    episodes: int = 0
    passed: int = 0
    failed: int = 0
    abstained: int = 0
    judge_errors: int = 0
    criteria: int = 0
    criteria_met: int = 0
    inconsistent: int = 0
    """Episodes whose two orders of the checklist disagreed on some criterion."""
    position: JudgePosition | None = None
    length: JudgeLength | None = None


class Summary(_Record):
    """``summary.json``: what a run amounts to. The fields up to ``tokens`` are the ones
    every run has; the others are present when the run has the data for them (pass^k
    over repeats, the multi-turn drop over modes, policy over tool environments, ...)."""

    schema_version: int = SCHEMA_VERSION
    run: str = ""
    episodes: int = 0
    scored: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = Field(default_factory=dict)
    success: Estimate | None = None
    mean_user_turns: float | None = None
    stop_reasons: dict[str, int] = Field(default_factory=dict)
    guard_events: dict[str, int] = Field(default_factory=dict)
    """``total`` and ``fallbacks``, and the count of each guard."""
    usage: dict[str, UsageRecord] = Field(default_factory=dict)
    tokens: int = 0
    by_persona: dict[str, Rate] = Field(default_factory=dict)
    by_task: dict[str, Rate] = Field(default_factory=dict)
    by_suite: dict[str, Rate] = Field(default_factory=dict)
    by_mode: dict[str, Rate] = Field(default_factory=dict)
    pass_hat_k: dict[str, Estimate] | None = None
    """pass^k by k (``"1"``, ``"2"``, ...), over the units that have every repeat."""
    pass_hat_k_by_mode: dict[str, dict[str, Estimate]] | None = None
    aptitude: Estimate | None = None
    unreliability: Estimate | None = None
    multi_turn_drop: Estimate | None = None
    reliability_by_suite: dict[str, SuiteReliability] | None = None
    """The same, per suite, for a run of several (one domain apart from another)."""
    breakdowns: Breakdowns | None = None
    policy: PolicySummary | None = None
    success_by_turn: SuccessByTurnSummary | None = None
    judged: JudgedSummary | None = None
    warnings: list[str] = Field(default_factory=list)
    complete: bool | None = None
    scheduled: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Summary:
        return cls.model_validate(upgrade(data))


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A record of any version in the current version's shape (read as the current
    version from then on).

    Version 0 (no ``schema_version``: files written before versions existed) has the
    fields of version 1; an episode without ``mode`` was played in the default mode,
    which is the field's default. A record of a newer version is read for the fields
    this version knows, the rest kept.
    """
    version = data.get("schema_version", 0)
    if not isinstance(version, int) or version >= SCHEMA_VERSION:
        return data
    # 0 -> 1: nothing moved; each later version adds its step here
    return data
