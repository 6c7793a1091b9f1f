"""The role-play user: a person from a profile, writing their own turns.

Two policies share one profile, one set of guards and one styling step:

- ``code`` (for small models, the default): the default user's dialogue policy decides
  each act (open, reveal a detail when asked, answer, correct a premature answer, accept,
  give up), shaped by the profile: how much the opening says, whether details come
  unprompted, how a long answer is taken, when the person leaves. The model writes the
  act in the profile's voice; agreeing and closing words come from the profile's own
  phrase banks (for an extracted profile: words its real users wrote).
- ``free`` (for capable models): the model plays the person from the profile, sees the
  conversation from the user's side, writes each turn whole and decides itself when it is
  done, ending its last message with the stop token (``give_up_token`` when it gives up).
  When every candidate fails the guards, the code policy's plan is said instead.

Every candidate turn goes through the default user's guards (role drift, example leak,
hidden details told early, a dropped detail, off plan, repetition); in ``free`` a turn
may tell at most as many new details as the profile allows (the opening's share, then
one a turn). The profile's writing habits become a persona, and the styling code applies
its casing, punctuation, shorthand and typo rates to every turn.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field, model_validator

from simulacra.errors import ConfigError, ModelError
from simulacra.llm import ChatModel, ChatParams, Message, Usage
from simulacra.people import Persona, Profile, builtin_profiles, draw_profile, load_profiles
from simulacra.registry import ConfigPath, Options
from simulacra.sim.users._base import (
    GAVE_UP,
    SATISFIED,
    Simulator,
    UserContext,
    UserTurn,
    simulators,
)
from simulacra.sim.users._guards import (
    Drawn,
    GuardEvent,
    answers_request,
    check_turn,
    clean_turn,
    draw_turn,
    dropped_goal,
    echoed,
    mentions,
    repeated,
    role_drift,
)
from simulacra.sim.users._llm_user import (
    _SHOT_MARKERS,
    _UNVOICED_ACTS,
    _YES,
    LLMUser,
    LLMUserOptions,
    Plan,
    instruction_mode,
)
from simulacra.sim.users._modes import SingleTurnUser, opening_text, sharded_view
from simulacra.sim.users._style import apply_style, cut_at_sentence
from simulacra.tasks import Fact, Task

Policy = Literal["code", "free"]
STOP_TOKEN = "<done>"
GIVE_UP_TOKEN = "<give up>"
_PLAIN_ACTS = frozenset({SATISFIED, "answer", "approve"})
"""Acts said in the profile's own words (its acknowledgements and closings) when it has them."""
_SHORTER = [
    "That's a lot to read. What's the short answer?",
    "Too long, can you just give me the short version?",
    "Can you keep it short?",
]
_GREETING = re.compile(r"^\W*(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening))\b\W*", re.I)
_POLITE = re.compile(r"\b(?:please|pls|thanks?|thank you|thx|cheers|sorry)\b", re.I)
_THANKS = ["Thanks.", "Thank you.", "Okay, thanks.", "Great, thank you."]
_SKIM = 0.6
"""How much shorter a skimming reader's reply to a long answer is."""


def _words(text: str) -> int:
    return len(text.split())


class RoleplayUser(LLMUser):
    """A simulated person from a ``Profile``. See the module docstring."""

    def __init__(
        self,
        *,
        profile: Profile,
        task: Task,
        model: ChatModel,
        seed: int,
        policy: Policy = "code",
        stop_token: str = STOP_TOKEN,
        give_up_token: str = GIVE_UP_TOKEN,
        options: LLMUserOptions | None = None,
        persona_name: str | None = None,
    ) -> None:
        super().__init__(
            persona=profile.persona(persona_name),
            task=task,
            model=model,
            seed=seed,
            options=options,
        )
        self.profile = profile
        self.policy: Policy = policy
        self.stop_token = stop_token
        self.give_up_token = give_up_token
        self.asked_shorter = False
        self.my_follow_up = False
        self.stopped = False
        self.closing: bool = self.rng.random() < profile.interaction.closing_rate
        self.must_say: list[Fact] = []
        """Details this turn's message must carry besides the plan's own fact."""
        self.plain = False
        """This turn is said in the profile's own words, without a model call."""
        self.own_details = sum(1 for o in self.owner if o is None)
        """How many details the task's own goal has (a further request's are not)."""

    # -- policy: the default user's, shaped by the profile -----------------------------

    def _opening(self) -> Plan:
        facts = self.task.facts
        share = self.profile.interaction.opening_facts
        # a share of the goal's own details goes into the first message (rounded at
        # random, so a share of 0.4 of 2 details is 1 detail 80% of the time); a further
        # request ("I'll also need a taxi") waits until the first is done
        own = [i for i in range(len(facts)) if self.owner[i] is None]
        exact = share * len(own)
        count = min(len(own), int(exact) + (self.rng.random() < exact - int(exact)))
        told = own[:count]
        self.revealed.update(told)
        self.must_say = [facts[i] for i in told]
        text = " ".join([self.task.goal, *(facts[i].text for i in told)])
        return Plan(act="open", text=text)

    def _bank(self, act: str) -> list[str]:
        if act == SATISFIED:
            return self.profile.closings
        return self.profile.acknowledgements

    async def plan_turn(self, transcript: list[Message]) -> Plan:
        self.plain = False
        self.must_say = []
        if not self.my_turns:
            return self._opening()
        replies = [m.content for m in transcript if m.role == "assistant" and m.content.strip()]
        last = replies[-1] if replies else ""
        interaction = self.profile.interaction
        # follow-ups come at the profile's rate, not the default user's curiosity
        self.followed_up = True
        plan = await super().plan_turn(transcript)
        long_answer = _words(last) > interaction.long_answer_words
        if (
            long_answer
            and interaction.long_answer == "ask_shorter"
            and not self.asked_shorter
            and not plan.stop
        ):
            self.asked_shorter = True
            return Plan(act="ask_shorter", text=self.rng.choice(_SHORTER))
        if plan.act == SATISFIED:
            rate = interaction.follow_up_rate * (
                2.0 if interaction.stop == "after_follow_up" else 1.0
            )
            if (
                interaction.stop != "leaves_early"
                and not self.my_follow_up
                and self.rng.random() < rate
            ):
                self.my_follow_up = True
                return Plan(act="follow_up", text=self.rng.choice(self._follow_ups()))
            if not self.closing:
                return Plan(act=SATISFIED, text="", stop=True)
        # an answer is said in the person's words only when it agrees ("Yes, please."),
        # not when it says they know no more
        agreeing = plan.act != "answer" or any(plan.text.endswith(yes) for yes in _YES)
        if (
            plan.act in _PLAIN_ACTS
            and agreeing
            and self._bank(plan.act)
            and (interaction.own_phrases >= 1.0 or self.rng.random() < interaction.own_phrases)
        ):
            # the profile's own phrases, at its rate; otherwise the plan's stock words
            plan.text = self.rng.choice(self._bank(plan.act))
            plan.reply = False
            self.plain = True
        if plan.act == "reveal" and interaction.reveal == "unprompted":
            # offered without waiting: the next detail comes along with this one
            extra = [i for i in self._open() if self.task.facts[i] is not plan.fact]
            if extra and self.rng.random() < 0.5:
                self.revealed.add(extra[0])
                self.must_say = [self.task.facts[extra[0]]]
                plan.text = f"{plan.text} {self.task.facts[extra[0]].text}"
        return plan

    # -- voice ----------------------------------------------------------------------------

    def _system(self) -> str:
        p = self.profile
        parts = [f"You are {p.label}: {p.background}"]
        if p.knowledge:
            parts.append(f"What you know: {p.knowledge}")
        if p.goal:
            parts.append(f"What you want: {p.goal}")
        if p.message_style:
            parts.append(f"How you write: {p.message_style}.")
        if p.interaction.politeness_rate >= 0.4:
            parts.append("You often say please and thanks.")
        elif p.interaction.politeness_rate <= 0.1:
            parts.append("You skip pleasantries.")
        parts.append(
            "You are chatting with an AI assistant. You are the user, never the assistant: "
            "you do not solve the problem, write out steps, apologise or refuse."
        )
        return " ".join(parts)

    def _length(self, plan: Plan, last: str) -> int:
        """Words for this turn from the profile's length distribution."""
        length = self.profile.length
        words = length.median_words * math.exp(self.rng.gauss(0.0, length.sigma))
        words *= 1.0 - 0.4 * self.frustration
        if (
            self.profile.interaction.long_answer == "skim"
            and _words(last) > self.profile.interaction.long_answer_words
        ):
            words *= _SKIM
        if plan.fact is not None:
            words = max(words, len(plan.text.split()) // 2)
        if plan.act == "open":
            floor = len(plan.text.split()) if self.must_say else 0
            words = max(words, floor, min(len(plan.text.split()), 3 * length.median_words))
        return max(1, min(90, round(words)))

    def _code_prompt(self, plan: Plan, words: int, last: str) -> list[Message]:
        messages = self._prompt(plan, words, last)
        openings = self.profile.openings
        if plan.act == "open" and openings and self.rng.random() < 0.5:
            # a greeting is the styling's, at the profile's rate: the start goes without one
            start = _GREETING.sub("", self.rng.choice(openings)).strip()
        else:
            start = ""
        if start:
            final = messages[-1]
            messages[-1] = Message(role="user", content=f'{final.content}\nStart with "{start}".')
        return messages

    def _free_prompt(self, transcript: list[Message]) -> list[Message]:
        """The conversation from the user's side: the assistant's turns as the other
        party's, the person's own as the model's."""
        p = self.profile
        facts = [f.text for f in self.task.facts]
        told = "; ".join(facts[i] for i in sorted(self.revealed)) or "nothing yet"
        reveal = (
            "offer them as they become useful"
            if p.interaction.reveal == "unprompted"
            else "give one only when the assistant asks for it"
        )
        system = (
            f"{self._system()}\nYour need: {self.task.goal}\n"
            + (f"Details you know ({reveal}): {' | '.join(facts)}\n" if facts else "")
            + f"Already told: {told}\n"
            f"Write only your next message, about {round(p.length.median_words)} words, in "
            f"your own style. When you have what you need, write your last message and end "
            f"it with {self.stop_token}. If you give up, end it with {self.give_up_token}."
        )
        messages = [Message(role="system", content=system)]
        for message in transcript:
            if message.role == "assistant" and message.content.strip():
                messages.append(Message(role="user", content=message.content))
            elif message.role == "user":
                messages.append(Message(role="assistant", content=message.content))
        if len(messages) == 1:
            messages.append(Message(role="user", content="(Write your first message.)"))
        return messages

    def _stop_marker(self, text: str) -> tuple[str, str | None]:
        """The text before a stop token, and which stop it was (or ``None``)."""
        lowered = text.lower()
        found: list[tuple[int, str]] = []
        for token, reason in ((self.give_up_token, GAVE_UP), (self.stop_token, SATISFIED)):
            at = lowered.find(token.lower())
            if at >= 0:
                found.append((at, reason))
        if not found:
            return text, None
        at, reason = min(found)
        return text[:at].strip(), reason

    def _free_problem(self, text: str, opening: bool, last: str) -> tuple[str, str] | None:
        """The guards of a free turn: it plans itself, so only what it may tell is bound."""
        if not text.strip():
            # a bare stop token: the person leaves without a word (but opens with one)
            return ("empty", "the first message is empty") if opening else None
        drift = role_drift(text, text) or (answers_request(text) if opening else None)
        if drift:
            return "role_drift", drift
        copied = echoed(text, last, self._own())
        if copied:
            return "echo", f"copies the assistant's words {copied!r}"
        new = [i for i in self._unrevealed() if mentions(self.task.facts[i], text)]
        allowed = 1
        if opening:
            allowed = max(0, math.ceil(self.profile.interaction.opening_facts * self.own_details))
        if len(new) > allowed:
            return "leak", f"{len(new)} new details in one turn (at most {allowed})"
        if opening and dropped_goal(text, self.task.goal, self.first_details):
            return "dropped_goal", f"the opening should ask: {self.task.goal}"
        if repeated(text, self.my_turns):
            return "repetition", "near-identical to an earlier user turn"
        return None

    async def _generate(
        self,
        prompt: list[Message],
        turn: int,
        check: Callable[[str], tuple[tuple[str, str | None], tuple[str, str] | None]],
        max_tokens: int,
    ) -> Drawn[tuple[str, str | None]]:
        """Up to ``1 + regenerations`` candidates; the first that passes ``check``."""
        drawn = await draw_turn(
            self.model,
            prompt,
            lambda attempt: ChatParams(
                temperature=self.options.temperature,
                max_tokens=max_tokens,
                seed=self.seed + 7919 * turn + attempt,
            ),
            check,
            attempts=self._budget() + 1,
            turn=turn,
        )
        self.budget.drift_streak = self.budget.drift_streak + 1 if drawn.drifted else 0
        return drawn

    async def next_turn(self, transcript: list[Message]) -> UserTurn:
        if self.stopped:
            return UserTurn(text="", stop=True, stop_reason=SATISFIED, act=SATISFIED)
        turn = self.turn_index
        self.turn_index += 1
        replies = [m.content for m in transcript if m.role == "assistant" and m.content.strip()]
        last = replies[-1] if replies else ""
        unrevealed_before = set(self._unrevealed())
        plan = await self.plan_turn(transcript)
        fact = plan.fact
        if fact is not None:
            self.revealed.add(self.task.facts.index(fact))
        words = self._length(plan, last)
        events: list[GuardEvent] = []
        usage = Usage()
        calls = 0
        text: str | None = None
        stop, stop_reason, act = plan.stop, plan.act if plan.stop else None, plan.act
        if self.policy == "free":
            # the model's own turn; the plan stands by for when it fails the guards
            planned_revealed, self.revealed = (
                self.revealed,
                set(self.revealed) - (unrevealed_before),
            )
            opening = not self.my_turns

            def free_check(whole: str) -> tuple[tuple[str, str | None], tuple[str, str] | None]:
                body, reason = self._stop_marker(whole)
                body = clean_turn(body)
                return (body, reason), self._free_problem(body, opening, last)

            drawn = await self._generate(
                self._free_prompt(transcript), turn, free_check, max(self.options.max_tokens, 64)
            )
            events, usage, calls, said = drawn.events, drawn.usage, drawn.calls, drawn.said
            if said is not None:
                text, reason = said
                act, stop, stop_reason = "free", reason is not None, reason
                fact = None
                told = [i for i in unrevealed_before if mentions(self.task.facts[i], text)]
                self.revealed.update(told)
            else:
                self.revealed = planned_revealed
        elif (
            self.plain
            or not plan.text
            or (plan.act in _UNVOICED_ACTS and not (plan.reply and self.instruction))
        ):
            text = plan.text  # the profile's or the policy's own words: no model call
        else:
            hidden = [self.task.facts[i] for i in self._unrevealed()]
            context = " ".join([self.task.goal, last, self.instruction or ""])
            own = self._own()

            def code_check(text: str) -> tuple[tuple[str, str | None], tuple[str, str] | None]:
                whole = clean_turn(text)
                problem: tuple[str, str] | None = None
                for candidate in dict.fromkeys([cut_at_sentence(whole, words), whole]):
                    problem = check_turn(
                        candidate,
                        planned=plan.text,
                        fact=fact,
                        hidden=hidden,
                        previous=self.my_turns,
                        context=context,
                        examples=_SHOT_MARKERS,
                        on_plan=plan.act not in _PLAIN_ACTS,
                        reply=last,
                        own=own,
                        must_say=self.must_say,
                        opening=plan.act == "open",
                        goal=self.task.goal,
                        details=self.first_details,
                    )
                    if problem is None:
                        return (candidate, None), None
                return (whole, None), problem

            drawn = await self._generate(
                self._code_prompt(plan, words, last), turn, code_check, self.options.max_tokens
            )
            events, usage, calls, voiced = drawn.events, drawn.usage, drawn.calls, drawn.said
            if voiced is not None:
                text = voiced[0]
        if text is None:
            text = plan.text
        self.budget.calls.append(calls)
        self.acts.append(act)
        thanks = self.profile.interaction.politeness_rate * 0.6
        if (
            text
            and turn > 0
            and not (stop or self.plain or _POLITE.search(text))
            and self.rng.random() < thanks
        ):
            # thanks before the next thing, at the profile's rate (its closings and
            # acknowledgements carry their own)
            text = f"{self.rng.choice(_THANKS)} {text}"
        if text:
            text = apply_style(
                text, self.persona, self.rng, frustration=self.frustration, opening=act == "open"
            )
            self.my_turns.append(text)
        if stop:
            self.stopped = True
        return UserTurn(
            text=text,
            stop=stop,
            stop_reason=stop_reason
            if stop_reason in (SATISFIED, GAVE_UP)
            else (SATISFIED if stop else None),
            act=act,
            guard_events=events,
            usage=usage,
            meta={
                "act": act,
                "profile": self.profile.name,
                "fact": fact.text if fact else None,
                "length_target": words,
                "frustration": round(self.frustration, 3),
                "user_calls": calls,
            },
        )

    def episode_extra(self) -> dict[str, Any]:
        return {"profile": self.profile.name, "policy": self.policy}


class RoleplaySimulatorOptions(Options):
    """``user.options`` of the ``roleplay`` simulator."""

    profiles: list[str] | None = Field(
        default=None,
        description="names of the profiles to draw from (built-in ones, or those of "
        "profiles_file); default: all of them",
    )
    profiles_file: ConfigPath | None = Field(
        default=None,
        description="a profiles YAML (e.g. written by `simulacra profiles`) instead of the "
        "built-in profiles",
    )
    policy: Policy = Field(
        default="code",
        description="'code': the default user's policy decides each act and the model "
        "voices it as the profile (small models); 'free': the model plays the profile and "
        "decides when it is done (capable models)",
    )
    concentration: float = Field(
        default=30.0,
        ge=0,
        description="how closely each episode's person keeps to the drawn profile's rates "
        "(beta concentration; 0: exactly)",
    )
    stop_token: str = Field(default=STOP_TOKEN, min_length=1)
    give_up_token: str = Field(default=GIVE_UP_TOKEN, min_length=1)
    repeat_threshold: float = Field(default=0.85, ge=0, le=1)
    instruction: Literal["auto", "facts", "full"] = "auto"

    @model_validator(mode="after")
    def _known_profiles(self) -> RoleplaySimulatorOptions:
        try:
            self.pool()
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return self

    def pool(self) -> list[Profile]:
        """The profiles episodes are drawn from (a wrong file or name is a config error)."""
        profiles = load_profiles(self.profiles_file) if self.profiles_file else builtin_profiles()
        if self.profiles is None:
            return profiles
        by_name = {p.name: p for p in profiles}
        unknown = [name for name in self.profiles if name not in by_name]
        if unknown:
            raise ValueError(
                f"unknown profile(s) {', '.join(map(repr, unknown))}; known: "
                + ", ".join(sorted(by_name))
            )
        return [by_name[name] for name in self.profiles]


def profile_for(options: RoleplaySimulatorOptions, persona: Persona, seed: int) -> Profile:
    """The person of one episode: drawn from the pool with the episode's seed."""
    rng = random.Random(f"profile:{seed}:{persona.name}")
    return draw_profile(options.pool(), rng, concentration=options.concentration)


def _roleplay_user(
    context: UserContext[RoleplaySimulatorOptions],
) -> RoleplayUser | SingleTurnUser:
    if context.mode in ("full", "concat"):
        return SingleTurnUser(opening_text(context.task, context.mode))
    if context.model is None:
        raise ModelError("the 'roleplay' user simulator needs a model")
    try:
        profile = profile_for(context.options, context.persona, context.seed)
    except ValueError as exc:  # pragma: no cover - the options were checked at load
        raise ConfigError(str(exc), field="user.options") from None
    return RoleplayUser(
        profile=profile,
        task=sharded_view(context.task),
        model=context.model,
        seed=context.seed,
        policy=context.options.policy,
        stop_token=context.options.stop_token,
        give_up_token=context.options.give_up_token,
        persona_name=context.persona.name,
        options=LLMUserOptions(
            max_regenerations=context.max_regenerations,
            temperature=context.temperature,
            max_tokens=context.max_tokens,
            repeat_threshold=context.options.repeat_threshold,
            instruction=instruction_mode(context.options.instruction, context.task),
        ),
    )


simulators.add("roleplay", Simulator(build=_roleplay_user), options=RoleplaySimulatorOptions)

__all__ = ["RoleplaySimulatorOptions", "RoleplayUser", "profile_for"]
