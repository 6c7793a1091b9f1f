"""A purpose-built user language model as the simulated user (``simulator: user-lm``).

Models trained to play the user (rather than assistants prompted to) are served like any
chat model, on an OpenAI-compatible endpoint, but hold the conversation the other way
round: the user's intent is the system prompt, the assistant's turns come to the model
in the ``user`` role, and the model's own replies (the ``assistant`` role) are the user's
turns. The model ends the conversation itself by writing its end-of-conversation token
(``stop_token``, ``<|endconversation|>`` by default), on a turn of its own or after a
last message, which is then kept but not answered.

The shared guards (:mod:`simulacra.sim.users._guards`) check every turn: the model
slipping into the assistant's role, telling more than ``max_reveal`` hidden facts the
user has not yet given in one turn, an empty turn, and repeating an earlier turn. A
failed turn is drawn again up to the run's ``max_regenerations`` times (fewer after the
same failure twice running, or when the run has seen that such redraws seldom pass with
this model: ``_guards.RedrawRecord``); then the user falls back to the plain text of the
next hidden fact (the goal, on the first turn), or ends the conversation when nothing is
left to say. Every hit is recorded.

The endpoint must send the end token back as text: a server that drops special tokens
from the output (vLLM does by default) needs ``extra_body: {skip_special_tokens:
false}`` in the model's config, or ``empty_ends`` (see docs/tasks.md).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from simulacra.errors import ModelError
from simulacra.llm import ChatModel, ChatParams, Message
from simulacra.people import Persona
from simulacra.registry import Options
from simulacra.sim.users._base import Simulator, UserContext, UserTurn, simulators
from simulacra.sim.users._guards import (
    answers_request,
    clean_turn,
    draw_turn,
    echoed,
    leaked_facts,
    mentions,
    repeated,
    role_drift,
)
from simulacra.sim.users._modes import SingleTurnUser, opening_text, sharded_view
from simulacra.tasks import Task

ENDED = "end_of_conversation"
"""The stop reason when the user model wrote its end-of-conversation token."""
GUARD_STOP = "guard_stop"
"""The stop reason when every draw failed its guards and nothing was left to say."""

DEFAULT_INTENT = (
    "You are a person chatting with an AI assistant. What you want: {goal}\n"
    "{details}{persona}Write only your own next message, the way you would type it. "
    "When you have what you came for, or want to stop, write {stop_token}."
)


class UserLMOptions(Options):
    """``user.options`` of the ``user-lm`` simulator."""

    stop_token: str = Field(
        default="<|endconversation|>",
        min_length=1,
        description="what the model writes to end the conversation",
    )
    intent: str = Field(
        default=DEFAULT_INTENT,
        description="the system prompt: {goal}, {details} (the hidden facts as lines), "
        "{persona} (the persona's background, when `persona` is set) and {stop_token}",
    )
    details: Literal["all", "none"] = Field(
        default="all", description="whether the intent lists the task's hidden facts"
    )
    persona: bool = Field(default=False, description="say who the user is in the intent")
    max_reveal: int = Field(
        default=1, ge=1, description="hidden facts one turn may give before the leak guard fires"
    )
    repeat_threshold: float = Field(default=0.9, ge=0, le=1)
    empty_ends: bool = Field(
        default=False,
        description="an empty reply ends the conversation too (for a server that drops the "
        "end token from the text it returns)",
    )


class UserLMUser:
    """The simulated user of one episode, played by a user language model."""

    def __init__(
        self,
        *,
        persona: Persona,
        task: Task,
        model: ChatModel,
        seed: int,
        options: UserLMOptions | None = None,
        temperature: float = 0.8,
        max_tokens: int = 96,
        max_regenerations: int = 2,
    ) -> None:
        self.persona = persona
        self.task = task
        self.model = model
        self.seed = seed
        self.options = options or UserLMOptions()
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_regenerations = max_regenerations
        self.my_turns: list[str] = []
        self.told: set[int] = set()
        self.turn_index = 0

    def intent(self) -> str:
        """The system prompt: who the user is and what they want."""
        details = ""
        if self.options.details == "all" and self.task.facts:
            details = (
                "Things you know, to share when they matter:\n"
                + "\n".join(f"- {fact.text}" for fact in self.task.facts)
                + "\n"
            )
        persona = f"Who you are: {self.persona.background}\n" if self.options.persona else ""
        return self.options.intent.format_map(
            {
                "goal": self.task.goal,
                "details": details,
                "persona": persona,
                "stop_token": self.options.stop_token,
            }
        )

    def flipped(self, transcript: list[Message]) -> list[Message]:
        """The conversation as the user model sees it: its own turns are the assistant's."""
        messages = [Message(role="system", content=self.intent())]
        for message in transcript:
            if message.role == "user":
                messages.append(Message(role="assistant", content=message.content))
            elif message.role == "assistant" and message.content.strip():
                messages.append(Message(role="user", content=message.content))
        return messages

    def _hidden(self) -> list[int]:
        return [i for i in range(len(self.task.facts)) if i not in self.told]

    def _problem(self, text: str, last: str = "") -> tuple[str, str] | None:
        if not text.strip():
            return "empty", "the model wrote nothing usable"
        drift = role_drift(text, self.task.goal) or (
            None if self.my_turns else answers_request(text)
        )
        if drift:
            return "role_drift", drift
        told = [self.task.facts[i].text for i in sorted(self.told)]
        copied = echoed(text, last, " ".join([self.task.goal, *told, *self.my_turns]))
        if copied:
            return "echo", f"copies the assistant's words {copied!r}"
        hidden = [self.task.facts[i] for i in self._hidden()]
        leaks = leaked_facts(text, "", hidden)
        if len(leaks) > self.options.max_reveal:
            return "leak", f"{len(leaks)} hidden facts in one turn: " + "; ".join(
                f.text for f in leaks
            )
        if repeated(text, self.my_turns, self.options.repeat_threshold):
            return "repetition", "near-identical to an earlier user turn"
        return None

    def _split(self, raw: str) -> tuple[str, bool]:
        """The turn's text and whether the model ended the conversation."""
        token = self.options.stop_token
        ended = token in raw
        before = raw.split(token, 1)[0] if ended else raw
        return (clean_turn(before) if before.strip() else ""), ended

    def _fallback(self) -> str | None:
        if not self.my_turns:
            return self.task.goal
        hidden = self._hidden()
        return self.task.facts[hidden[0]].text if hidden else None

    async def next_turn(self, transcript: list[Message]) -> UserTurn:
        turn = self.turn_index
        self.turn_index += 1
        messages = self.flipped(transcript)
        replies = [m.content for m in transcript if m.role == "assistant" and m.content.strip()]
        last = replies[-1] if replies else ""

        def check(raw: str) -> tuple[tuple[str, bool], tuple[str, str] | None]:
            candidate, ended = self._split(raw)
            ended = ended or (self.options.empty_ends and not raw.strip())
            if ended and not candidate.strip():
                return ("", True), None  # a turn of its own that only ends the conversation
            return (candidate, ended), self._problem(candidate, last)

        drawn = await draw_turn(
            self.model,
            messages,
            lambda attempt: ChatParams(
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                seed=self.seed + 7919 * turn + attempt,
            ),
            check,
            attempts=self.max_regenerations + 1,
            turn=turn,
        )
        events, usage, calls = drawn.events, drawn.usage, drawn.calls
        text, ended = drawn.said or ("", False)
        if drawn.said is None:
            fallback = self._fallback()
            if fallback is None:
                return UserTurn(
                    text="",
                    stop=True,
                    stop_reason=GUARD_STOP,
                    act=GUARD_STOP,
                    guard_events=events,
                    usage=usage,
                    meta={"user_calls": calls},
                )
            text = fallback
        if text:
            self.my_turns.append(text)
            self.told.update(i for i in self._hidden() if mentions(self.task.facts[i], text))
        stop = ended or not text
        return UserTurn(
            text=text,
            stop=stop,
            stop_reason=ENDED if stop else None,
            act=ENDED if stop else "say",
            guard_events=events,
            usage=usage,
            meta={"act": ENDED if stop else "say", "user_calls": calls, "ended": ended},
        )


def _user_lm(context: UserContext[UserLMOptions]) -> UserLMUser | SingleTurnUser:
    if context.mode in ("full", "concat"):
        return SingleTurnUser(opening_text(context.task, context.mode))
    if context.model is None:
        raise ModelError("the 'user-lm' user simulator needs a model")
    return UserLMUser(
        persona=context.persona,
        task=sharded_view(context.task),
        model=context.model,
        seed=context.seed,
        options=context.options,
        temperature=context.temperature,
        max_tokens=context.max_tokens,
        max_regenerations=context.max_regenerations,
    )


simulators.add("user-lm", Simulator(build=_user_lm), options=UserLMOptions)
