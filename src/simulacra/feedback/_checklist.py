"""The judge of judged tasks: a checklist of must-haves, each answered yes or no with a
reason, by a prompted model.

A task whose check is ``judged`` (:class:`simulacra.tasks.JudgedCheck`) is scored by a
:class:`ChecklistJudge` when its conversation ends. The judge reads what the user wanted
(the goal and the task's hidden facts), the reference and guidance when the task has
them, and the final answer or the whole conversation, and says of each must-have
whether it is met. The same controls as the rater pool's:

- order: the checklist is shown in a seeded random order per episode (so no must-have
  is always first), and with ``orders: 2`` once more reversed; a must-have then counts
  as met only when both orders say so (one order that did not answer defers to the
  other), and ``consistent`` records whether the two orders agreed on every item,
- length: the judged text's length is recorded beside the verdict, so the diagnostics
  can tell whether longer work passes more often (``checklist_report``),
- no guessing: items the reply leaves out are asked for again (``max_retries`` times);
  what is still missing is unknown, and a verdict that depends on it is an abstention.

A model error of the judge is an abstention with the error recorded (the episode keeps
its conversation); refused credentials stop the run, as everywhere.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from simulacra.errors import ModelError
from simulacra.feedback._items import derive_seed, render
from simulacra.feedback._templates import Template, get_template
from simulacra.llm import ChatModel, ChatParams, Message, Usage
from simulacra.rundir import CriterionRecord, JudgementRecord, Verdict
from simulacra.tasks import JudgedCheck, Task
from simulacra.tasks.envs import AssertionOutcome, AssertionVerdict, JudgedAssertions

_ANSWERS = {
    "yes": True,
    "y": True,
    "met": True,
    "true": True,
    "pass": True,
    "no": False,
    "n": False,
    "not met": False,
    "unmet": False,
    "false": False,
    "fail": False,
}
_LINE = re.compile(
    r"^[\s>*#-]*(?:item|criterion|must-have)?\s*\(?(\d{1,2})\)?\s*[:.)\]-]\s*\**\s*"
    r"(not met|unmet|yes|no|met|true|false|pass|fail|y|n)\b\**[\s.:;,—–-]*(.*)$",
    re.I | re.M,
)


def parse_checklist(text: str, items: int) -> dict[int, tuple[bool, str]]:
    """``{position: (met, reason)}`` for each line of ``text`` that answers an item
    (positions 1..``items``; the first answer of an item counts)."""
    found: dict[int, tuple[bool, str]] = {}
    for match in _LINE.finditer(text):
        position = int(match.group(1))
        if 1 <= position <= items and position not in found:
            found[position] = (_ANSWERS[match.group(2).lower()], match.group(3).strip()[:300])
    return found


class CheckJudgeConfig(BaseModel):
    """The run config's ``judge:`` section: who scores judged tasks, and how.

    ``model`` is a key of ``models`` (default: the user's model). The same judge rules
    on environment tasks' assertions about the conversation (a τ² task's NL assertions),
    but only when the section is given: without it they are not judged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = Field(default=None, description="a key of `models` (default: user's)")
    template: str = Field(default="checklist", description="a checklist template")
    temperature: float | None = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=320, ge=16)
    orders: Literal[1, 2] = Field(
        default=1, description="2: also judge the checklist in reversed order (position control)"
    )
    max_retries: int = Field(default=1, ge=0, le=5)
    max_chars: int = Field(default=6000, ge=200)
    id: str = Field(default="judge", min_length=1)

    @field_validator("template")
    @classmethod
    def _known_template(cls, value: str) -> str:
        from simulacra.errors import ConfigError

        try:
            get_template(value, "checklist")
        except ConfigError as exc:
            raise ValueError(exc.message) from None
        return value


@dataclass(kw_only=True)
class Judged:
    """A judge's verdict, and the model usage it took."""

    record: JudgementRecord
    usage: Usage = field(default_factory=Usage)


@dataclass(kw_only=True)
class _Order:
    positions: list[int]
    """positions[i]: where criterion i was shown (1 = first)."""
    answers: dict[int, tuple[bool, str]] = field(default_factory=dict)
    replies: dict[int, str] = field(default_factory=dict)
    """The reply that answered each position."""
    text: str = ""
    attempts: int = 0
    error: str | None = None


def combine(verdicts: Sequence[bool | None]) -> bool | None:
    """One criterion over the orders: met only if no order says not; unknown if none says."""
    known = [v for v in verdicts if v is not None]
    if not known:
        return None
    return all(known)


def verdict_of(met: int, unknown: int, needed: int) -> Verdict:
    if met >= needed:
        return "pass"
    if met + unknown < needed:
        return "fail"
    return "abstain"


class ChecklistJudge:
    """Scores judged tasks with a prompted model (see the module docstring)."""

    def __init__(
        self,
        *,
        model: ChatModel,
        id: str = "judge",
        template: Template | str = "checklist",
        temperature: float | None = 0.0,
        max_tokens: int = 320,
        orders: int = 1,
        max_retries: int = 1,
        max_chars: int = 6000,
        identity: str | None = None,
    ) -> None:
        self.id = id
        self.model = model
        self.template_name = template if isinstance(template, str) else template.description
        self.template = (
            get_template(template, "checklist", field="judge.template")
            if isinstance(template, str)
            else template
        )
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.orders = orders
        self.max_retries = max_retries
        self.max_chars = max_chars
        self.identity = identity

    @classmethod
    def from_config(
        cls, config: CheckJudgeConfig, model: ChatModel, *, identity: str | None = None
    ) -> ChecklistJudge:
        return cls(
            model=model,
            id=config.id,
            template=config.template,
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            orders=config.orders,
            max_retries=config.max_retries,
            max_chars=config.max_chars,
            identity=identity,
        )

    # -- prompt -----------------------------------------------------------------------

    @staticmethod
    def request(task: Task) -> str:
        lines = [task.goal.strip()]
        if task.facts:
            lines.append("Details the user had in mind (they may or may not have said them):")
            lines += [f"- {fact.text}" for fact in task.facts]
        return "\n".join(lines)

    def _messages(self, task: Task, check: JudgedCheck, response: str, order: list[int]) -> Any:
        numbered = "\n".join(
            f"{rank}. {check.criteria[index]}" for rank, index in enumerate(order, start=1)
        )
        reference = f"[A reference answer]\n{task.reference.strip()}\n\n" if task.reference else ""
        guidance = f"[Note for the checker]\n{check.guidance.strip()}\n\n" if check.guidance else ""
        return self.template.render(
            request=self.request(task),
            reference=reference,
            guidance=guidance,
            noun="conversation" if check.scope == "conversation" else "final answer",
            response=render(response, max_chars=self.max_chars) or "(nothing)",
            checklist=numbered,
        )

    # -- judging ----------------------------------------------------------------------

    async def _ask(
        self, messages: list[Message], order: _Order, items: int, seed: int, usage: list[Usage]
    ) -> None:
        for attempt in range(self.max_retries + 1):
            order.attempts = attempt + 1
            try:
                completion = await self.model.chat(
                    messages,
                    ChatParams(
                        temperature=self.temperature,
                        max_tokens=self.max_tokens,
                        seed=seed + attempt,
                    ),
                )
            except ModelError as exc:
                if exc.fatal:
                    raise  # refused credentials: the run stops
                order.error = f"model error: {exc}"
                return
            usage.append(completion.usage)
            order.text = order.text or completion.text
            for position, answer in parse_checklist(completion.text, items).items():
                if position not in order.answers:
                    order.answers[position] = answer
                    order.replies[position] = completion.text.strip()[:2000]
            missing = [p for p in range(1, items + 1) if p not in order.answers]
            if not missing:
                return
            messages = [
                *messages,
                completion.message(),
                Message(
                    role="user",
                    content="Answer these items too: "
                    + ", ".join(map(str, missing))
                    + ". One line each, in the form 'N: yes - reason' or 'N: no - reason'.",
                ),
            ]
        order.error = order.error or "no answer for some items in the reply"

    async def judge_assertions(
        self, task: Task, assertions: Sequence[str], transcript: Sequence[Message], *, seed: int = 0
    ) -> Judged:
        """The verdict on statements about ``transcript`` (an environment task's
        ``assertions``), each one must-have of a checklist judged against the whole
        conversation; all must be met."""
        check = JudgedCheck(
            criteria=list(assertions), scope="conversation", guidance=ASSERTION_GUIDANCE
        )
        judged = task.model_copy(update={"check": check})
        return await self.judge(judged, transcript, answer="", seed=seed)

    async def judge(
        self, task: Task, transcript: Sequence[Message], *, answer: str, seed: int = 0
    ) -> Judged:
        """The verdict on ``task`` given the conversation and its final answer."""
        check = task.check
        if not isinstance(check, JudgedCheck):
            raise TypeError(f"task {task.id!r} is not a judged task")
        if check.scope == "conversation":
            response = render([m.to_dict() for m in transcript], max_chars=self.max_chars)
        else:
            response = answer
        started = time.perf_counter()
        count = len(check.criteria)
        shuffled = list(range(count))
        random.Random(derive_seed("checklist", task.id, seed)).shuffle(shuffled)
        presentations = [shuffled, list(reversed(shuffled))][: self.orders]
        usage: list[Usage] = []
        orders: list[_Order] = []
        for index, shown in enumerate(presentations):
            positions = [0] * count
            for rank, criterion in enumerate(shown, start=1):
                positions[criterion] = rank
            order = _Order(positions=positions)
            messages = list(self._messages(task, check, response, shown))
            await self._ask(messages, order, count, seed + 7919 * index, usage)
            orders.append(order)
        criteria: list[CriterionRecord] = []
        consistent = True
        for index, text in enumerate(check.criteria):
            said = [o.answers.get(o.positions[index]) for o in orders]
            verdicts = [a[0] if a else None for a in said]
            known = [v for v in verdicts if v is not None]
            consistent = consistent and len(set(known)) <= 1
            reason = next((a[1] for a in said if a and a[1]), "")
            reply = next((r for o in orders if (r := o.replies.get(o.positions[index]))), "")
            criteria.append(
                CriterionRecord(
                    criterion=text,
                    met=combine(verdicts),
                    reason=reason,
                    shown_at=[o.positions[index] for o in orders],
                    verdicts=verdicts,
                    reply=reply,
                )
            )
        met = sum(c.met is True for c in criteria)
        unknown = sum(c.met is None for c in criteria)
        needed = check.needed()
        errors = [o.error for o in orders if o.error]
        record = JudgementRecord(
            judge=self.id,
            model=self.identity,
            template=self.template_name,
            verdict=verdict_of(met, unknown, needed),
            met=met,
            needed=needed,
            criteria=criteria,
            reasons=orders[0].text.strip()[:2000],
            orders=len(orders),
            consistent=consistent if len(orders) > 1 else None,
            scope=check.scope,
            answer_chars=len(response),
            attempts=sum(o.attempts for o in orders),
            duration_s=round(time.perf_counter() - started, 4),
            error=errors[0] if errors and unknown else None,
        )
        total = Usage()
        for part in usage:
            total = total + part
        return Judged(record=record, usage=total)


ASSERTION_GUIDANCE = (
    "Each must-have is a statement about this conversation: what the assistant did "
    "(its tool calls and what they returned) and what it told the user. Say whether the "
    "conversation shows it; what the user wanted does not make it true."
)


def abstention(
    assertions: Sequence[str], error: str, *, judge: str = "judge", model: str | None = None
) -> JudgementRecord:
    """The record of a judgement that could not be made at all (every item unknown)."""
    return JudgementRecord(
        judge=judge,
        model=model,
        verdict="abstain",
        needed=max(1, len(assertions)),
        criteria=[CriterionRecord(criterion=text) for text in assertions],
        scope="conversation",
        error=error,
    )


def assertion_verdicts(record: JudgementRecord) -> JudgedAssertions:
    """A judgement of a task's assertions (``ChecklistJudge.judge_assertions``) as the
    tasks layer scores it: met, not met or abstained, with the judge's reason and reply."""
    verdicts = []
    for criterion in record.criteria:
        outcome: AssertionOutcome = (
            "abstained" if criterion.met is None else "met" if criterion.met else "not met"
        )
        reason = criterion.reason
        if criterion.met is None:
            reason = record.error or "the judge's reply did not answer it"
        verdicts.append(
            AssertionVerdict(
                assertion=criterion.criterion,
                outcome=outcome,
                reason=reason,
                reply=criterion.reply,
            )
        )
    return JudgedAssertions(
        verdicts=tuple(verdicts), judge=record.judge, model=record.model, error=record.error
    )


def judgement_detail(record: JudgementRecord) -> str:
    """One line for a check's ``detail``: the verdict and the must-haves not met."""
    missed = [c.criterion for c in record.criteria if c.met is False]
    unknown = [c.criterion for c in record.criteria if c.met is None]
    parts = [f"{record.met}/{len(record.criteria)} must-haves met ({record.verdict})"]
    if missed:
        parts.append("not met: " + "; ".join(missed))
    if unknown:
        parts.append("not answered: " + "; ".join(unknown))
    if record.error:
        parts.append(record.error)
    return ". ".join(parts)


def check_result(record: JudgementRecord) -> Mapping[str, Any]:
    """What an episode's ``check`` holds for a judged task."""
    return {
        "passed": {"pass": True, "fail": False}.get(record.verdict),
        "extracted": f"{record.met}/{len(record.criteria)}",
        "detail": judgement_detail(record),
        "judgement": record.model_dump(mode="json"),
    }
