"""Pairwise preference raters and the rater pool that mimics a crowd.

A rater compares the two responses of a :class:`PairItem` shown in a given order and
says which *system* did better (``"A"``, ``"B"``, ``"tie"``), or abstains (``None``).
The :class:`RaterPool` decides, per item and reproducibly from its seed:

- which rater configurations judge it (``judges_per_item`` distinct ones, drawn by weight),
- the order the two responses are shown in (each order with probability 1/2; recorded
  as ``first_shown``), or both orders when ``both_orders`` is set, in which case a
  verdict that flips with the order counts as a tie,
- whether label noise flips the verdict (``noise``: the probability that an A/B verdict
  is swapped, as AlpacaFarm does to match the disagreement among human annotators).

Every random choice is keyed by ``(seed, item_id, rater id)``, so results do not depend
on the order or concurrency in which items are judged.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from simulacra.errors import ConfigError, ModelError, describe_error, first_error, stops_run
from simulacra.feedback._items import (
    Content,
    PairItem,
    Side,
    Verdict,
    derive_seed,
    persona_text,
    record_key,
    render,
)
from simulacra.feedback._parse import parse_verdict, rationale_of
from simulacra.feedback._templates import Template, get_template
from simulacra.llm import ChatModel, ChatParams, Message

REMINDER = (
    "Your reply did not end with a verdict line. Reply now with exactly one line: "
    "Verdict: A, Verdict: B or Verdict: tie"
)


def other(side: Side) -> Side:
    return "B" if side == "A" else "A"


def to_system(label: str, first_shown: Side) -> Verdict:
    """A label naming a shown position ("A" = shown first) → the system it names."""
    if label == "tie":
        return "tie"
    return first_shown if label == "A" else other(first_shown)


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderVerdict:
    """One rater's verdict on a pair shown in one order, naming systems (not positions).

    ``parse`` says how the verdict was read: ``logprobs``, ``text``, ``model`` (a learned
    rater), ``fixed`` (a scripted rater) or ``none`` (abstained).
    """

    first_shown: Side
    verdict: Verdict | None
    confidence: float | None = None
    rationale: str = ""
    parse: str = "none"
    attempts: int = 1
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "first_shown": self.first_shown,
            "verdict": self.verdict,
            "confidence": self.confidence,
            "parse": self.parse,
            "attempts": self.attempts,
            "error": self.error,
        }


class PairRater(Protocol):
    """Anything that can judge a pair in a given order: an LLM rater, a learned one, a fake."""

    @property
    def id(self) -> str:
        """The rater configuration's id, written to every record as ``rater``."""
        ...

    @property
    def model_identity(self) -> str | None:
        """Which model judges (see ``model_identity``), for self-preference; None if none."""
        ...

    async def compare(self, item: PairItem, *, first_shown: Side, seed: int) -> OrderVerdict:
        """Judge ``item`` with the response of system ``first_shown`` shown first."""
        ...


def _noun(*contents: Content) -> str:
    return "Conversation" if any(not isinstance(c, str) for c in contents) else "Response"


class LLMPairRater:
    """A prompted model as a pairwise rater (one configuration of the pool).

    The verdict is read from the logprobs of the verdict token when the backend returns
    them (and ``logprobs`` is on), else from a final ``Verdict:`` line. A reply without a
    verdict is retried ``max_retries`` times with a reminder; after that the rater
    abstains (verdict ``None``). It never guesses. A model failure is an abstention
    with the error recorded.
    """

    def __init__(
        self,
        *,
        id: str,
        model: ChatModel,
        template: Template | str = "default",
        temperature: float | None = 0.0,
        max_tokens: int = 256,
        persona: Mapping[str, Any] | None = None,
        logprobs: bool = True,
        max_retries: int = 1,
        max_chars: int = 6000,
        model_identity: str | None = None,
    ) -> None:
        self._id = id
        self.model = model
        self.template_name = template if isinstance(template, str) else "custom"
        self.template = (
            get_template(template, "pairwise", field=f"rater {id}.template")
            if isinstance(template, str)
            else template
        )
        if self.template.needs_persona and not persona:
            raise ConfigError(
                f"template {self.template_name!r} needs a persona", field=f"rater {id}.persona"
            )
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.persona = dict(persona) if persona else None
        self.logprobs = logprobs
        self.max_retries = max_retries
        self.max_chars = max_chars
        self._identity = model_identity if model_identity is not None else model.name

    @property
    def id(self) -> str:
        return self._id

    @property
    def model_identity(self) -> str | None:
        return self._identity

    def messages(self, item: PairItem, first_shown: Side) -> list[Message]:
        first, second = item.shown(first_shown)
        who = persona_text(self.persona)
        return self.template.render(
            context=render(item.context, max_chars=self.max_chars),
            first=render(first, max_chars=self.max_chars),
            second=render(second, max_chars=self.max_chars),
            noun=_noun(first, second),
            persona=who,
            persona_block=f"Judge as this person would: {who}\n\n" if who else "",
        )

    async def compare(self, item: PairItem, *, first_shown: Side, seed: int) -> OrderVerdict:
        messages = self.messages(item, first_shown)
        first_text: str | None = None
        for attempt in range(self.max_retries + 1):
            params = ChatParams(
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                seed=seed + attempt,
                logprobs=self.logprobs,
                top_logprobs=10 if self.logprobs else None,
            )
            try:
                completion = await self.model.chat(messages, params)
            except ModelError as exc:
                if exc.fatal:
                    raise  # refused credentials: the whole judge stops
                return OrderVerdict(
                    first_shown=first_shown,
                    verdict=None,
                    attempts=attempt + 1,
                    error=f"model error: {exc}",
                    rationale=rationale_of(first_text or ""),
                )
            if first_text is None:
                first_text = completion.text
            parsed = parse_verdict(completion)
            if parsed is not None:
                label, confidence, how = parsed
                return OrderVerdict(
                    first_shown=first_shown,
                    verdict=to_system(label, first_shown),
                    confidence=confidence,
                    rationale=rationale_of(first_text),
                    parse=how,
                    attempts=attempt + 1,
                )
            messages = [*messages, completion.message(), Message(role="user", content=REMINDER)]
        return OrderVerdict(
            first_shown=first_shown,
            verdict=None,
            attempts=self.max_retries + 1,
            error="no verdict in the reply",
            rationale=rationale_of(first_text or ""),
        )


FixedChoice = Literal["A", "B", "tie", "first", "second", "longer", "shorter", "abstain"]


class FixedRater:
    """A scripted rater for tests and dry runs: no model, a fixed rule.

    ``choice`` is a system (``"A"``, ``"B"``, ``"tie"``), a position (``"first"``,
    ``"second"``: a rater with total position bias), a length rule (``"longer"``,
    ``"shorter"``: total verbosity bias or its opposite; equal lengths tie), or
    ``"abstain"``.
    """

    def __init__(
        self, choice: FixedChoice = "A", *, id: str | None = None, model_identity: str | None = None
    ) -> None:
        allowed = ("A", "B", "tie", "first", "second", "longer", "shorter", "abstain")
        if choice not in allowed:
            raise ConfigError(f"fixed rater choice must be one of {', '.join(allowed)}")
        self.choice = choice
        self._id = id or f"fixed-{choice}"
        self._identity = model_identity

    @property
    def id(self) -> str:
        return self._id

    @property
    def model_identity(self) -> str | None:
        return self._identity

    async def compare(self, item: PairItem, *, first_shown: Side, seed: int) -> OrderVerdict:
        verdict: Verdict | None
        if self.choice == "abstain":
            return OrderVerdict(first_shown=first_shown, verdict=None, error="abstains")
        if self.choice in ("A", "B", "tie"):
            verdict = "A" if self.choice == "A" else "B" if self.choice == "B" else "tie"
        elif self.choice in ("first", "second"):
            verdict = first_shown if self.choice == "first" else other(first_shown)
        else:
            if item.len_a == item.len_b:
                verdict = "tie"
            else:
                a_longer = item.len_a > item.len_b
                verdict = "A" if a_longer == (self.choice == "longer") else "B"
        return OrderVerdict(
            first_shown=first_shown,
            verdict=verdict,
            confidence=1.0,
            rationale=f"fixed rule: {self.choice}",
            parse="fixed",
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class PairJudgement:
    """One rater configuration's judgement of one pair: a ``feedback.jsonl`` line."""

    item_id: str
    rater: str
    verdict: Verdict | None
    first_shown: Side
    confidence: float | None
    rationale: str
    len_a: int
    len_b: int
    episode_a: str | None = None
    episode_b: str | None = None
    raw_verdict: Verdict | None = None
    noise_flipped: bool = False
    orders: tuple[OrderVerdict, ...] = ()
    judge_index: int = 0
    model: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def abstained(self) -> bool:
        return self.verdict is None

    @property
    def key(self) -> str:
        return record_key("pairwise", self.item_id, self.rater)

    def to_record(self) -> dict[str, Any]:
        """The JSON line; fields up to ``rationale`` are the documented format."""
        errors = [o.error for o in self.orders if o.error]
        record: dict[str, Any] = {
            "item_id": self.item_id,
            "kind": "pairwise",
            "rater": self.rater,
            "confidence": self.confidence,
            "verdict": self.verdict,
            "first_shown": self.first_shown,
            "len_a": self.len_a,
            "len_b": self.len_b,
            "episode_a": self.episode_a,
            "episode_b": self.episode_b,
            "rationale": self.rationale,
            "key": self.key,
            "raw_verdict": self.raw_verdict,
            "noise_flipped": self.noise_flipped,
            "both_orders": len(self.orders) > 1,
            "orders": [o.to_dict() for o in self.orders],
            "judge_index": self.judge_index,
            "model": self.model,
            "parse": self.orders[0].parse if self.orders else "none",
            "error": "; ".join(errors) if errors and self.verdict is None else None,
        }
        record.update({k: v for k, v in self.meta.items() if k not in record})
        return record


def combine_orders(
    first: OrderVerdict, second: OrderVerdict
) -> tuple[Verdict | None, float | None]:
    """Both orders' verdicts → one: agreement stands, a flip is a tie, one abstention defers."""
    if first.verdict is None:
        return second.verdict, second.confidence
    if second.verdict is None:
        return first.verdict, first.confidence
    if first.verdict != second.verdict:
        return "tie", None
    known = [c for c in (first.confidence, second.confidence) if c is not None]
    return first.verdict, (sum(known) / len(known) if known else None)


class RaterPool:
    """A crowd of rater configurations; see the module docstring for what it randomises."""

    def __init__(
        self,
        raters: Sequence[PairRater],
        *,
        weights: Sequence[float] | None = None,
        noise: float = 0.0,
        both_orders: bool = False,
        judges_per_item: int = 1,
        seed: int = 0,
    ) -> None:
        if not raters:
            raise ConfigError("a rater pool needs at least one rater", field="pool")
        ids = [r.id for r in raters]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ConfigError(f"duplicate rater ids: {', '.join(duplicates)}", field="pool")
        weights = list(weights) if weights is not None else [1.0] * len(raters)
        if len(weights) != len(raters) or any(not w > 0 for w in weights):
            raise ConfigError("rater weights must be positive, one per rater", field="pool")
        if not 0.0 <= noise <= 0.5:
            raise ConfigError(f"noise must be between 0 and 0.5, got {noise}", field="noise")
        if not 1 <= judges_per_item <= len(raters):
            raise ConfigError(
                f"judges_per_item must be between 1 and the pool size ({len(raters)}), "
                f"got {judges_per_item}",
                field="judges_per_item",
            )
        self.raters = list(raters)
        self.weights = [float(w) for w in weights]
        self.noise = noise
        self.both_orders = both_orders
        self.judges_per_item = judges_per_item
        self.seed = seed

    def draw(self, item_id: str) -> list[PairRater]:
        """The raters that judge ``item_id``: distinct, drawn by weight, same every time."""
        rng = random.Random(derive_seed(self.seed, "draw", item_id))
        remaining = list(range(len(self.raters)))
        chosen: list[PairRater] = []
        for _ in range(self.judges_per_item):
            total = sum(self.weights[i] for i in remaining)
            point = rng.random() * total
            for position, index in enumerate(remaining):
                point -= self.weights[index]
                if point < 0 or position == len(remaining) - 1:
                    chosen.append(self.raters[index])
                    remaining.pop(position)
                    break
        return chosen

    def first_shown(self, item_id: str, rater_id: str) -> Side:
        """The order ``rater_id`` sees ``item_id`` in: A first or B first, each half the time."""
        rng = random.Random(derive_seed(self.seed, "order", item_id, rater_id))
        return "A" if rng.random() < 0.5 else "B"

    def flips(self, item_id: str, rater_id: str) -> bool:
        """Whether label noise swaps this rater's A/B verdict on this item."""
        if self.noise <= 0.0:
            return False
        rng = random.Random(derive_seed(self.seed, "noise", item_id, rater_id))
        return rng.random() < self.noise

    async def judge_with(self, item: PairItem, rater: PairRater, index: int = 0) -> PairJudgement:
        """One rater's judgement of one item, with the pool's order, noise and both-orders rules."""
        first = self.first_shown(item.item_id, rater.id)
        seed = derive_seed(self.seed, "call", item.item_id, rater.id)
        orders = [await rater.compare(item, first_shown=first, seed=seed)]
        if self.both_orders:
            orders.append(await rater.compare(item, first_shown=other(first), seed=seed + 7919))
            verdict, confidence = combine_orders(orders[0], orders[1])
        else:
            verdict, confidence = orders[0].verdict, orders[0].confidence
        raw = verdict
        flipped = verdict in ("A", "B") and self.flips(item.item_id, rater.id)
        if flipped:
            verdict = "B" if verdict == "A" else "A"
        meta = dict(item.meta)
        return PairJudgement(
            item_id=item.item_id,
            rater=rater.id,
            verdict=verdict,
            first_shown=first,
            confidence=confidence,
            rationale=orders[0].rationale,
            len_a=item.len_a,
            len_b=item.len_b,
            episode_a=meta.get("episode_a"),
            episode_b=meta.get("episode_b"),
            raw_verdict=raw,
            noise_flipped=flipped,
            orders=tuple(orders),
            judge_index=index,
            model=rater.model_identity,
            meta=meta,
        )

    async def judge(self, item: PairItem) -> list[PairJudgement]:
        """Every drawn rater's judgement of ``item``."""
        return [
            await self.judge_with(item, rater, index)
            for index, rater in enumerate(self.draw(item.item_id))
        ]

    async def judge_all(
        self,
        items: Sequence[PairItem],
        *,
        concurrency: int = 4,
        skip: Callable[[str], bool] | None = None,
        on_judgement: Callable[[PairJudgement], Awaitable[None] | None] | None = None,
        failures: list[str] | None = None,
    ) -> list[PairJudgement]:
        """Judge every item; results in item order, then draw order.

        ``skip(key)`` leaves out judgements already made (keys as in ``PairJudgement.key``);
        ``on_judgement`` is called as each one finishes (to write it at once). A judgement
        that raises is left out and described in ``failures`` while the others go on (a
        refusal of the credentials, or a failing ``on_judgement``, stops them all).
        """
        jobs = [
            (position, index, item, rater)
            for position, item in enumerate(items)
            for index, rater in enumerate(self.draw(item.item_id))
            if skip is None or not skip(record_key("pairwise", item.item_id, rater.id))
        ]
        results: dict[tuple[int, int], PairJudgement] = {}
        limit = asyncio.Semaphore(max(1, concurrency))

        async def run(position: int, index: int, item: PairItem, rater: PairRater) -> None:
            async with limit:
                try:
                    judgement = await self.judge_with(item, rater, index)
                except Exception as exc:
                    if failures is None or stops_run(exc):
                        raise
                    failures.append(f"{item.item_id} by {rater.id}: {describe_error(exc)}")
                    return
            results[(position, index)] = judgement
            if on_judgement is not None:
                outcome = on_judgement(judgement)
                if outcome is not None:
                    await outcome

        try:
            async with asyncio.TaskGroup() as group:
                for job in jobs:
                    group.create_task(run(*job))
        except BaseExceptionGroup as error:
            raise first_error(error) from None
        return [results[k] for k in sorted(results)]
