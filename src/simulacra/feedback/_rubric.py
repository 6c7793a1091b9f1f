"""Rubric ratings (1–5 on named dimensions), persona-conditioned satisfaction, critiques.

Like the pairwise raters, these never guess: a dimension the model did not score (after
``max_retries`` follow-up questions) is recorded as an abstention with ``score: null``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from simulacra.errors import ConfigError, ModelError
from simulacra.feedback._items import ResponseItem, persona_text, record_key, render
from simulacra.feedback._parse import parse_critique, parse_scores
from simulacra.feedback._templates import Template, TemplateKind, get_template
from simulacra.llm import ChatModel, ChatParams, Completion, Message

SCALE = (1, 5)

DEFAULT_DIMENSIONS: dict[str, str] = {
    "helpfulness": "how far the assistant moved the user toward their goal",
    "correctness": "whether what the assistant said is factually and logically right",
    "clarity": "how easy the replies are to read and follow",
    "personalisation": "how well the replies fit this user: their expertise, style and preferences",
    "efficiency": "how directly the user got what they needed, without needless turns or padding",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Dimension:
    """A rubric dimension: a name (the record's ``dimension``) and what it means."""

    name: str
    description: str = ""


def dimensions_from(spec: Sequence[str | Mapping[str, str]] | None) -> list[Dimension]:
    """Dimensions from names (built-in descriptions) or ``{name: description}`` mappings."""
    if spec is None:
        return [Dimension(name=k, description=v) for k, v in DEFAULT_DIMENSIONS.items()]
    dimensions: list[Dimension] = []
    for index, entry in enumerate(spec):
        if isinstance(entry, str):
            dimensions.append(Dimension(name=entry, description=DEFAULT_DIMENSIONS.get(entry, "")))
        elif isinstance(entry, Mapping) and len(entry) == 1:
            ((name, description),) = entry.items()
            dimensions.append(Dimension(name=str(name), description=str(description)))
        else:
            raise ConfigError(
                "a dimension is a name or a one-entry mapping name: description",
                field=f"rubric.dimensions[{index}]",
            )
    names = [d.name for d in dimensions]
    if not names:
        raise ConfigError("give at least one dimension", field="rubric.dimensions")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(
            f"duplicate dimensions: {', '.join(duplicates)}", field="rubric.dimensions"
        )
    return dimensions


@dataclass(frozen=True, kw_only=True, slots=True)
class RubricScore:
    """One score on one dimension (``score`` is None for an abstention): a JSON line."""

    item_id: str
    rater: str
    dimension: str
    score: int | None
    episode: str | None = None
    rationale: str = ""
    attempts: int = 1
    error: str | None = None
    persona: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return record_key("rubric", self.item_id, self.rater, self.dimension)

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "item_id": self.item_id,
            "kind": "rubric",
            "rater": self.rater,
            "confidence": None,
            "dimension": self.dimension,
            "score": self.score,
            "scale": list(SCALE),
            "episode": self.episode,
            "key": self.key,
            "abstained": self.score is None,
            "rationale": self.rationale,
            "attempts": self.attempts,
            "error": self.error,
            "persona": self.persona,
        }
        record.update({k: v for k, v in self.meta.items() if k not in record})
        return record


@dataclass(frozen=True, kw_only=True, slots=True)
class Critique:
    """A written critique as structured fields (empty and ``suggestion=None`` if abstained)."""

    item_id: str
    rater: str
    strengths: tuple[str, ...] = ()
    weaknesses: tuple[str, ...] = ()
    suggestion: str | None = None
    episode: str | None = None
    attempts: int = 1
    error: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return record_key("critique", self.item_id, self.rater)

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "item_id": self.item_id,
            "kind": "critique",
            "rater": self.rater,
            "confidence": None,
            "episode": self.episode,
            "strengths": list(self.strengths),
            "weaknesses": list(self.weaknesses),
            "suggestion": self.suggestion,
            "key": self.key,
            "abstained": self.suggestion is None,
            "attempts": self.attempts,
            "error": self.error,
        }
        record.update({k: v for k, v in self.meta.items() if k not in record})
        return record


class _PromptedRater:
    """A rater that renders one template and asks one model; subclasses set the defaults."""

    kind: ClassVar[TemplateKind]
    default_max_tokens: ClassVar[int] = 200

    def __init__(
        self,
        *,
        model: ChatModel,
        id: str | None = None,
        template: Template | str | None = None,
        temperature: float | None = 0.0,
        max_tokens: int | None = None,
        max_retries: int = 1,
        max_chars: int = 6000,
    ) -> None:
        self.id = id or self.kind
        self.model = model
        template = template or self.kind
        self.template = (
            get_template(template, self.kind, field=f"{self.id}.template")
            if isinstance(template, str)
            else template
        )
        self.temperature = temperature
        self.max_tokens = max_tokens or self.default_max_tokens
        self.max_retries = max_retries
        self.max_chars = max_chars

    def params(self, seed: int) -> ChatParams:
        return ChatParams(temperature=self.temperature, max_tokens=self.max_tokens, seed=seed)

    async def call(self, messages: list[Message], seed: int) -> Completion:
        return await self.model.chat(messages, self.params(seed))


class RubricRater(_PromptedRater):
    """Likert (1–5) scores on named dimensions, asked in one call per item.

    Dimensions the reply leaves out are asked for again (``max_retries`` times); the
    rest are recorded as abstentions.
    """

    kind = "rubric"

    def __init__(self, *, dimensions: Sequence[Dimension] | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.dimensions = list(dimensions) if dimensions else dimensions_from(None)

    async def rate(self, item: ResponseItem, *, seed: int = 0) -> list[RubricScore]:
        names = [d.name for d in self.dimensions]
        messages = self.template.render(
            context=render(item.context, max_chars=self.max_chars),
            response=render(item.response, max_chars=self.max_chars),
            dimensions="\n".join(
                f"- {d.name}: {d.description}" if d.description else f"- {d.name}"
                for d in self.dimensions
            ),
            example=f"'{names[0]}: 3'",
        )
        scores: dict[str, int] = {}
        attempts = 0
        error: str | None = None
        first_text = ""
        for attempt in range(self.max_retries + 1):
            attempts = attempt + 1
            try:
                completion = await self.call(messages, seed + attempt)
            except ModelError as exc:
                if exc.fatal:
                    raise  # refused credentials: the whole judge stops
                error = f"model error: {exc}"
                break
            first_text = first_text or completion.text
            scores.update(parse_scores(completion.text, [n for n in names if n not in scores]))
            missing = [n for n in names if n not in scores]
            if not missing:
                break
            messages = [
                *messages,
                completion.message(),
                Message(
                    role="user",
                    content="Give a score from 1 to 5 for: "
                    + ", ".join(missing)
                    + ". One line each, in the form name: score.",
                ),
            ]
        else:
            error = "no score in the reply"
        return [
            RubricScore(
                item_id=item.item_id,
                rater=self.id,
                dimension=name,
                score=scores.get(name),
                episode=item.episode,
                rationale=first_text.strip()[:2000],
                attempts=attempts,
                error=None if name in scores else error,
            )
            for name in names
        ]


class SatisfactionRater(_PromptedRater):
    """ "As this user, how satisfied are you?" — 1 to 5, role-playing the item's persona.

    Recorded as a rubric score on the dimension ``satisfaction``, with the persona's name.
    """

    kind = "satisfaction"
    default_max_tokens = 120

    async def rate(self, item: ResponseItem, *, seed: int = 0) -> RubricScore:
        persona = item.persona or {}
        name = str(persona.get("name")) if persona.get("name") else None
        base = RubricScore(
            item_id=item.item_id,
            rater=self.id,
            dimension="satisfaction",
            score=None,
            episode=item.episode,
            persona=name,
        )
        if not persona:
            return _replace_score(base, error="the item has no persona")
        goal = str(item.meta.get("goal") or render(item.context))
        messages = self.template.render(
            persona=persona_text(persona),
            goal=goal,
            response=render(item.response, max_chars=self.max_chars),
            context=render(item.context, max_chars=self.max_chars),
        )
        first_text = ""
        for attempt in range(self.max_retries + 1):
            try:
                completion = await self.call(messages, seed + attempt)
            except ModelError as exc:
                if exc.fatal:
                    raise  # refused credentials: the whole judge stops
                return _replace_score(base, attempts=attempt + 1, error=f"model error: {exc}")
            first_text = first_text or completion.text
            found = parse_scores(completion.text, ["satisfaction"])
            if "satisfaction" in found:
                return _replace_score(
                    base,
                    score=found["satisfaction"],
                    attempts=attempt + 1,
                    rationale=first_text.strip()[:2000],
                )
            messages = [
                *messages,
                completion.message(),
                Message(
                    role="user",
                    content="Reply with one line: 'Satisfaction:' and your number from 1 to 5.",
                ),
            ]
        return _replace_score(
            base,
            attempts=self.max_retries + 1,
            error="no score in the reply",
            rationale=first_text.strip()[:2000],
        )


def _replace_score(base: RubricScore, **changes: Any) -> RubricScore:
    from dataclasses import replace

    return replace(base, **changes)


class CritiqueRater(_PromptedRater):
    """A written critique: strengths, weaknesses and one actionable suggestion."""

    kind = "critique"
    default_max_tokens = 400

    async def critique(self, item: ResponseItem, *, seed: int = 0) -> Critique:
        messages = self.template.render(
            context=render(item.context, max_chars=self.max_chars),
            response=render(item.response, max_chars=self.max_chars),
        )
        for attempt in range(self.max_retries + 1):
            try:
                completion = await self.call(messages, seed + attempt)
            except ModelError as exc:
                if exc.fatal:
                    raise  # refused credentials: the whole judge stops
                return Critique(
                    item_id=item.item_id,
                    rater=self.id,
                    episode=item.episode,
                    attempts=attempt + 1,
                    error=f"model error: {exc}",
                )
            parsed = parse_critique(completion.text)
            if parsed is not None:
                return Critique(
                    item_id=item.item_id,
                    rater=self.id,
                    strengths=tuple(parsed.strengths),
                    weaknesses=tuple(parsed.weaknesses),
                    suggestion=parsed.suggestion,
                    episode=item.episode,
                    attempts=attempt + 1,
                )
            messages = [
                *messages,
                completion.message(),
                Message(
                    role="user",
                    content="Rewrite it in exactly this form:\nStrengths:\n- ...\n"
                    "Weaknesses:\n- ...\nSuggestion: ...",
                ),
            ]
        return Critique(
            item_id=item.item_id,
            rater=self.id,
            episode=item.episode,
            attempts=self.max_retries + 1,
            error="no critique in the expected form",
        )
