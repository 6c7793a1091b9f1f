"""The default simulated user: a dialogue policy in code, voiced by a language model.

Each turn, code decides *what* the user does (open with the goal, reveal one hidden fact,
correct a premature answer, push for an answer, deflect a question, accept, give up)
from the persona's traits and the state of the conversation; the model only says it in
the persona's voice. Guards check every candidate turn; styling in code then applies the
persona's length, casing, punctuation, shorthand and typo rates. Keeping the policy in
code is what makes even a 0.5B model a usable user, and makes patience, cooperativeness
and frustration measurable rather than hoped for.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from pydantic import Field

from simulacra.errors import ModelError
from simulacra.llm import ChatModel, ChatParams, Message, Usage
from simulacra.people import Persona
from simulacra.registry import Options
from simulacra.sim.users._base import (
    GAVE_UP,
    SATISFIED,
    Simulator,
    UserContext,
    UserTurn,
    simulators,
)
from simulacra.sim.users._guards import GuardEvent, check_turn, clean_turn, similarity
from simulacra.sim.users._modes import SingleTurnUser, opening_text, sharded_view
from simulacra.sim.users._style import apply_style, length_target, truncate_words
from simulacra.tasks import Fact, Task

_PUSH = [
    "So what's the answer?",
    "Can you just give me the number?",
    "I still don't have an answer.",
    "Okay, so what do I need?",
]
_ACCEPT = [
    "Thanks, that's what I needed.",
    "Great, thank you.",
    "Perfect, thanks.",
    "Got it, thanks!",
]
_GIVE_UP = [
    "This isn't helping, I'll work it out myself.",
    "Forget it, I'll figure it out another way.",
    "Never mind, this is going nowhere.",
]
_DEFLECT = ["I don't know, can you just work it out?", "Does that matter? Just tell me roughly."]
_CORRECT = [
    "Wait, that's not everything.",
    "Hold on, you're missing something.",
    "That's not quite it.",
]
_ANNOYED = ["Ugh.", "Come on.", "Seriously?", "Again?"]
_REPEATED = ["You already said that.", "That's the same as before."]

_CASUAL_SHOTS = [
    (
        "I want to know how long to boil an egg so the yolk stays soft.",
        10,
        "how long do i boil an egg for a soft yolk?",
    ),
    ("The pasta packet says 500 g serves 5 people.", 8, "packet says 500g is for 5 people"),
    (
        "That answer seems wrong to me. Please check it again.",
        8,
        "hmm that doesnt look right, can you check again",
    ),
]
_FORMAL_SHOTS = [
    (
        "I want to know how long to boil an egg so the yolk stays soft.",
        14,
        "How long should I boil an egg if I want the yolk to stay soft?",
    ),
    (
        "The pasta packet says 500 g serves 5 people.",
        12,
        "According to the packet, 500 g of pasta serves 5 people.",
    ),
    (
        "That answer seems wrong to me. Please check it again.",
        12,
        "I don't think that is correct. Could you check it again, please?",
    ),
]


@dataclass(frozen=True, kw_only=True)
class LLMUserOptions:
    max_regenerations: int = 2
    temperature: float = 0.8
    max_tokens: int = 96
    repeat_threshold: float = 0.85


class LLMUser:
    """The default simulated user. See the module docstring."""

    def __init__(
        self,
        *,
        persona: Persona,
        task: Task,
        model: ChatModel,
        seed: int,
        options: LLMUserOptions | None = None,
    ) -> None:
        self.persona = persona
        self.task = task
        self.model = model
        self.options = options or LLMUserOptions()
        self.rng = random.Random(seed)
        self.seed = seed
        self.revealed: set[int] = set()
        self.unhelpful = 0
        self.frustration = 0.0
        self.deflected = False
        self.my_turns: list[str] = []
        self.turn_index = 0

    # -- policy ---------------------------------------------------------------------------

    def _unrevealed(self) -> list[int]:
        return [i for i in range(len(self.task.facts)) if i not in self.revealed]

    def _most_relevant(self, question: str) -> int:
        """The unrevealed fact sharing most words with the assistant's question."""
        words = set(re.findall(r"[a-z]{3,}", question.lower()))
        candidates = self._unrevealed()

        def overlap(index: int) -> int:
            return len(words & set(re.findall(r"[a-z]{3,}", self.task.facts[index].text.lower())))

        best = max(candidates, key=lambda i: (overlap(i), -i))
        return best if overlap(best) > 0 else candidates[0]

    def _frustrate(self, amount: float) -> None:
        scale = 0.6 + 0.8 * self.persona.big_five.neuroticism
        self.frustration = min(1.0, self.frustration + amount * scale)

    def plan(self, transcript: list[Message]) -> tuple[str, str, Fact | None]:
        """Decide this turn's act; return ``(act, planned text, fact being revealed)``."""
        replies = [m.content for m in transcript if m.role == "assistant" and m.content.strip()]
        if not self.my_turns:
            return "open", self.task.goal, None
        last = replies[-1] if replies else ""
        previous = replies[-2] if len(replies) > 1 else None
        unrevealed = self._unrevealed()
        answered = bool(last) and self.task.gives_answer(last)
        asked = "?" in last
        was_repeat = (
            previous is not None and similarity(last, previous) >= self.options.repeat_threshold
        )
        prefix = ""
        if not last.strip() or was_repeat:
            self.unhelpful += 1
            self._frustrate(0.35)
            prefix = self.rng.choice(_REPEATED) + " " if was_repeat else ""
        elif not answered and not asked and not self.task.environment:
            # (an agent acting on an environment may reply without an answer or question)
            self.unhelpful += 1
            self._frustrate(0.2)
        if self.unhelpful > self.persona.patience:
            return GAVE_UP, self.rng.choice(_GIVE_UP), None
        if self.frustration >= 0.5 and not prefix and self.rng.random() < self.frustration:
            prefix = self.rng.choice(_ANNOYED) + " "
        if answered and not unrevealed:
            return SATISFIED, self.rng.choice(_ACCEPT), None
        if answered:
            # an answer before the assistant had all the facts: correct it with the next one
            self._frustrate(0.1)
            index = unrevealed[0]
            return (
                "correct",
                prefix + self.rng.choice(_CORRECT) + " " + self.task.facts[index].text,
                self.task.facts[index],
            )
        if asked and unrevealed:
            if not self.deflected and self.rng.random() > self.persona.cooperativeness:
                self.deflected = True
                return "deflect", prefix + self.rng.choice(_DEFLECT), None
            self.deflected = False
            index = self._most_relevant(last)
            return "reveal", prefix + self.task.facts[index].text, self.task.facts[index]
        if unrevealed:
            index = unrevealed[0]
            return "reveal", prefix + self.task.facts[index].text, self.task.facts[index]
        return "push", prefix + self.rng.choice(_PUSH), None

    # -- voice ----------------------------------------------------------------------------

    def _prompt(self, planned: str, words: int) -> list[Message]:
        p = self.persona
        shots = _FORMAL_SHOTS if p.style.formality > 0.6 else _CASUAL_SHOTS
        manner = p.style.description or ("formal" if p.style.formality > 0.6 else "casual")
        system = (
            f"You are {p.label}: {p.background} Your style: {manner}. "
            "You are chatting with an AI assistant. Each time you are told what to say, write it "
            "the way you would type it, in your own words. Keep every number. Write only your "
            "message, never the assistant's reply."
        )
        messages = [Message(role="system", content=system)]
        for shot_plan, shot_words, shot_out in shots:
            messages.append(Message(role="user", content=f"Say ({shot_words} words): {shot_plan}"))
            messages.append(Message(role="assistant", content=shot_out))
        messages.append(Message(role="user", content=f"Say ({words} words): {planned}"))
        return messages

    async def next_turn(self, transcript: list[Message]) -> UserTurn:
        act, planned, fact = self.plan(transcript)
        turn = self.turn_index
        self.turn_index += 1
        if fact is not None:
            self.revealed.add(self.task.facts.index(fact))
        words = length_target(self.persona, self.rng, frustration=self.frustration)
        # the fact's own words set a floor: a reveal must be able to carry it
        words = max(words, len(planned.split()) // 2)
        hidden = [self.task.facts[i] for i in self._unrevealed()]
        events: list[GuardEvent] = []
        usage = Usage()
        text = ""
        prompt = self._prompt(planned, words)
        for attempt in range(self.options.max_regenerations + 1):
            completion = await self.model.chat(
                prompt,
                ChatParams(
                    temperature=self.options.temperature,
                    max_tokens=self.options.max_tokens,
                    seed=self.seed + 7919 * turn + attempt,
                ),
            )
            usage = usage + completion.usage
            candidate = truncate_words(clean_turn(completion.text), max(2 * words, 8))
            problem = check_turn(
                candidate, planned=planned, fact=fact, hidden=hidden, previous=self.my_turns
            )
            if problem is None:
                text = candidate
                break
            guard, detail = problem
            last_try = attempt == self.options.max_regenerations
            events.append(
                GuardEvent(
                    turn=turn,
                    guard=guard,
                    action="fallback" if last_try else "regenerate",
                    detail=detail,
                )
            )
        if not text:
            text = planned
        text = apply_style(
            text, self.persona, self.rng, frustration=self.frustration, opening=act == "open"
        )
        self.my_turns.append(text)
        stop = act in (SATISFIED, GAVE_UP)
        return UserTurn(
            text=text,
            stop=stop,
            stop_reason=act if stop else None,
            act=act,
            guard_events=events,
            usage=usage,
            meta={
                "act": act,
                "fact": fact.text if fact else None,
                "length_target": words,
                "frustration": round(self.frustration, 3),
                "unhelpful": self.unhelpful,
            },
        )


class LLMSimulatorOptions(Options):
    """``user.options`` of the ``llm`` simulator."""

    repeat_threshold: float = Field(
        default=0.85,
        ge=0,
        le=1,
        description="how similar two assistant replies must be to count as a repeat",
    )


def _llm_user(context: UserContext[LLMSimulatorOptions]) -> LLMUser | SingleTurnUser:
    if context.mode in ("full", "concat"):
        return SingleTurnUser(opening_text(context.task, context.mode))
    if context.model is None:
        raise ModelError("the 'llm' user simulator needs a model")
    return LLMUser(
        persona=context.persona,
        task=sharded_view(context.task),
        model=context.model,
        seed=context.seed,
        options=LLMUserOptions(
            max_regenerations=context.max_regenerations,
            temperature=context.temperature,
            max_tokens=context.max_tokens,
            repeat_threshold=context.options.repeat_threshold,
        ),
    )


simulators.add("llm", Simulator(build=_llm_user), options=LLMSimulatorOptions)
