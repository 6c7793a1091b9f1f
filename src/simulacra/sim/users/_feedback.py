"""A user who tells the assistant what is wrong, as people do, without giving the answer.

After the task has been stated (in one turn, or shard by shard), each reply is checked by
code. A right answer ends the episode; a wrong one gets natural-language feedback in the
persona's voice. The feedback may be informed by the reference, but a leakage check
compares it with the reference answer and regenerates it when it gives the answer away,
falling back to a plain "that's not right". The turn of the first success is recorded,
so a run can report success by turn and the gain per feedback turn (as in MINT).

A judged task's replies are checked by the run's judge (``UserContext.judge``), its
must-haves not met being what the feedback is about. A reply the judge cannot tell
right or wrong, or any reply when the run has no judge, ends the conversation
(``unchecked``, the abstention recorded in the turn's ``check``): the user has no way to
say what is wrong, and calling it wrong would make a failure of an abstention.
"""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING, Any

from simulacra.llm import ChatModel, ChatParams, Message, Usage
from simulacra.people import Persona
from simulacra.registry import Options
from simulacra.sim.scoring import score_answer
from simulacra.sim.users._base import SATISFIED, Simulator, UserContext, UserTurn, simulators
from simulacra.sim.users._guards import GuardEvent, clean_turn, draw_turn, role_drift
from simulacra.sim.users._modes import opening_text
from simulacra.sim.users._style import apply_style, truncate_words
from simulacra.tasks import Task, extract_numbers

if TYPE_CHECKING:
    from simulacra.feedback import ChecklistJudge

_PLAIN = [
    "That's not right, can you check it again?",
    "Hmm, I don't think that's correct.",
    "That doesn't look right to me, try again?",
]
OUT_OF_TURNS = "out_of_turns"
UNCHECKED = "unchecked"


def answer_tokens(task: Task) -> list[str]:
    """Strings whose presence in feedback would give the answer away."""
    tokens: list[str] = []
    value = getattr(task.check, "value", None)
    if isinstance(value, int | float):
        number = float(value)
        tokens += {f"{number:g}", f"{number:.2f}", f"{number:,.2f}", str(round(number))}
    elif value is not None:
        tokens.append(str(value))
    for option in getattr(task.check, "values", None) or ():
        tokens.append(str(option))
    reference_numbers = extract_numbers(task.reference) if task.reference else []
    tokens += [f"{n:g}" for n in reference_numbers if abs(n) >= 10 or n != int(n)]
    return [t for t in dict.fromkeys(tokens) if t]


def _brief(check: dict[str, Any]) -> dict[str, Any]:
    """A turn's check without the judge's whole record (the episode's own check has it)."""
    return {key: value for key, value in check.items() if key != "judgement"}


def leaks_answer(text: str, tokens: list[str]) -> str | None:
    lowered = text.lower().replace(",", "")
    for token in tokens:
        t = token.lower().replace(",", "")
        if re.search(rf"(?<![\w.]){re.escape(t)}(?![\d]|\.\d)", lowered):
            return token
    return None


class FeedbackUser:
    def __init__(
        self,
        *,
        persona: Persona,
        task: Task,
        model: ChatModel | None,
        seed: int,
        mode: str = "full",
        max_regenerations: int = 2,
        temperature: float = 0.7,
        max_tokens: int = 96,
        judge: ChecklistJudge | None = None,
    ) -> None:
        self.persona = persona
        self.task = task
        self.model = model
        self.seed = seed
        self.rng = random.Random(seed)
        self.queue = (
            [opening_text(task, mode)] if mode in ("full", "concat") else list(task.shard_texts())
        )
        self.turn = 0
        self.max_regenerations = max_regenerations
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.judge = judge
        self.tokens = answer_tokens(task)
        self.feedback_turns = 0
        self.first_success_turn: int | None = None
        self.answers_checked = 0

    def episode_extra(self) -> dict[str, Any]:
        """The turn of the first right answer and the feedback turns it took."""
        return {
            "first_success_turn": self.first_success_turn,
            "feedback_turns": self.feedback_turns,
        }

    async def next_turn(self, transcript: list[Message]) -> UserTurn:
        self.turn += 1
        if self.queue:
            text = self.queue.pop(0)
            act = "open" if self.turn == 1 else "reveal"
            return UserTurn(text=text, act=act, meta={"act": act})
        replies = [m.content for m in transcript if m.role == "assistant" and m.content.strip()]
        last = replies[-1] if replies else ""
        result = await score_answer(
            self.task,
            last,
            transcript=transcript,
            judge=self.judge,
            seed=self.seed + 7919 * self.answers_checked,
        )
        self.answers_checked += 1
        spent = {"judge": result.usage} if result.usage.calls else {}
        if result.passed is None:
            return UserTurn(
                text="",
                stop=True,
                stop_reason=UNCHECKED,
                act=UNCHECKED,
                other_usage=spent,
                meta={"act": UNCHECKED, "check": _brief(result.check)},
            )
        if result.passed:
            self.first_success_turn = self.answers_checked
            return UserTurn(
                text=apply_style(
                    self.rng.choice(["Thanks, that's right.", "Great, thank you!"]),
                    self.persona,
                    self.rng,
                ),
                stop=True,
                stop_reason=SATISFIED,
                act=SATISFIED,
                other_usage=spent,
                meta={"act": SATISFIED, "first_success_turn": self.answers_checked},
            )
        self.feedback_turns += 1
        text, events, usage = await self._feedback(last, result.detail)
        return UserTurn(
            text=apply_style(text, self.persona, self.rng),
            act="feedback",
            guard_events=events,
            usage=usage,
            other_usage=spent,
            meta={"act": "feedback", "check": _brief(result.check)},
        )

    async def _feedback(self, answer: str, detail: str) -> tuple[str, list[GuardEvent], Usage]:
        events: list[GuardEvent] = []
        usage = Usage()
        if self.model is None:
            return self.rng.choice(_PLAIN), events, usage
        prompt = [
            Message(
                role="system",
                content=(
                    f"You are {self.persona.label}: {self.persona.background} You asked an AI assistant "
                    "for help and its answer is wrong. Write your next message telling it what seems "
                    "wrong, in one or two short sentences, in your own words. Never state the correct "
                    "answer or any number from it. Write only your message."
                ),
            ),
            Message(
                role="user",
                content=(
                    f"Your request: {self.task.full_instruction()}\n"
                    f"The correct answer (secret, never say it): {self.task.reference}\n"
                    f"The assistant's answer: {truncate_words(answer, 120)}\n"
                    f"What the checker found: {detail or 'the answer is wrong'}\nYour message:"
                ),
            ),
        ]

        def check(raw: str) -> tuple[str, tuple[str, str] | None]:
            text = truncate_words(clean_turn(raw), 40)
            if not text:
                return text, ("empty", "the model wrote nothing usable")
            if leaked := leaks_answer(text, self.tokens):
                return text, ("answer_leak", f"feedback contains the answer ({leaked})")
            if drift := role_drift(text, ""):
                return text, ("role_drift", drift)
            return text, None

        drawn = await draw_turn(
            self.model,
            prompt,
            lambda attempt: ChatParams(
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                seed=self.seed + 104729 * self.turn + attempt,
            ),
            check,
            attempts=self.max_regenerations + 1,
            turn=self.turn - 1,
        )
        text = drawn.said if drawn.said is not None else self.rng.choice(_PLAIN)
        return text, drawn.events, drawn.usage


def _feedback_user(context: UserContext[Options]) -> FeedbackUser:
    return FeedbackUser(
        persona=context.persona,
        task=context.task,
        model=context.model,
        seed=context.seed,
        mode=context.mode,
        max_regenerations=context.max_regenerations,
        temperature=context.temperature,
        max_tokens=context.max_tokens,
        judge=context.judge,
    )


simulators.add("feedback", Simulator(build=_feedback_user))
