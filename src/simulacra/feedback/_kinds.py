"""Rater kinds: who judges, for each kind of judgement.

Pairwise raters: ``llm`` (a prompted model), ``learned`` (a fitted file), ``fixed``. A
kind is registered in ``rater_kinds`` as ``build(spec, options, context) ->
list[PoolMember]`` with a ``RaterOptions`` model: the settings a pool entry of that kind
writes beside its ``id`` and ``weight`` (``kind:`` may be left out when the entry has
``model``, ``learned`` or ``fixed``). ``RaterOptions.check`` looks at the names the
options refer to when the raters file is loaded; ``members`` says how many raters the
entry adds to the pool.

Rubric and critique raters are kinds too, in ``rubric_kinds`` and ``critique_kinds``
(built in: ``llm``, a prompted model): the ``rubric:`` and ``critique:`` sections name one
with ``kind:`` and write its options beside it. A rubric kind builds a ``Rubric`` (and,
optionally, the persona-conditioned ``Satisfaction`` rater); a critique kind a ``Critic``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import Field

from simulacra.errors import ConfigError
from simulacra.feedback._items import ResponseItem
from simulacra.feedback._pairwise import FixedChoice, FixedRater, LLMPairRater, PairRater
from simulacra.feedback._rubric import Critique, Dimension, RubricScore
from simulacra.llm import ChatModel, ModelConfig
from simulacra.registry import Options, Registry

if TYPE_CHECKING:
    from simulacra.feedback._config import (
        CritiqueConfig,
        RaterConfig,
        RatersConfig,
        RubricConfig,
    )


class RaterOptions(Options):
    """The settings of one kind of pairwise rater."""

    def members(self) -> int:
        """How many raters of the pool one entry of this kind makes."""
        return 1

    def check(self, config: RatersConfig, where: str) -> None:
        """Check the names these options refer to; raise a ``ConfigError`` at ``where``."""


@dataclass(kw_only=True)
class PoolMember:
    """One rater of the pool, its weight, and how the run's metadata describes it."""

    rater: PairRater
    weight: float
    described: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RaterContext:
    """What a kind's ``build`` receives: the raters config, and its models by key."""

    config: RatersConfig
    model: Callable[[str], ChatModel]
    where: str
    """The entry's place in the file (``pool[2]``), for errors."""


RaterBuild = Callable[["RaterConfig", Any, RaterContext], list[PoolMember]]
rater_kinds: Registry[RaterBuild] = Registry("rater kind", options=RaterOptions)
"""Kind name → ``build(spec, options, context)``, registered with its ``RaterOptions``."""


def model_identity(config: ModelConfig) -> str:
    """Which model a config runs, without sampling settings: the self-preference key."""
    return config.identity()


class LLMRaterOptions(RaterOptions):
    """``kind: llm``: a prompted model judges with a template, optionally as a persona."""

    model: str = Field(description="a key of `models`")
    template: str = "default"
    temperature: float | None = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=256, ge=1)
    persona: str | dict[str, Any] | None = Field(
        default=None, description="a built-in persona name, or an inline persona"
    )
    logprobs: bool = True

    def check(self, config: RatersConfig, where: str) -> None:
        from simulacra.feedback._templates import get_template

        if self.model not in config.models:
            known = ", ".join(sorted(config.models)) or "none"
            raise ConfigError(
                f"unknown model {self.model!r} (known: {known})",
                source=config.source,
                field=f"{where}.model",
            )
        try:
            template = get_template(self.template, "pairwise")
        except ConfigError as exc:
            raise ConfigError(str(exc), source=config.source, field=f"{where}.template") from None
        if template.needs_persona and self.persona is None:
            raise ConfigError(
                f"template {self.template!r} needs a persona",
                source=config.source,
                field=f"{where}.persona",
            )
        if self.persona is not None:
            config.resolve_persona(self.persona, f"{where}.persona")


@rater_kinds.register("llm", options=LLMRaterOptions)
def _llm(spec: RaterConfig, options: LLMRaterOptions, context: RaterContext) -> list[PoolMember]:
    config = context.config
    model_config = config.models[options.model]
    persona = (
        config.resolve_persona(options.persona, f"{context.where}.persona")
        if options.persona is not None
        else None
    )
    rater = LLMPairRater(
        id=spec.id,
        model=context.model(options.model),
        template=options.template,
        temperature=options.temperature,
        max_tokens=options.max_tokens,
        persona=persona,
        logprobs=options.logprobs and model_config.options.gives_logprobs(),
        max_retries=config.max_retries,
        max_chars=config.max_chars,
        model_identity=model_identity(model_config),
    )
    described = {
        "model": options.model,
        "model_identity": model_identity(model_config),
        "template": options.template,
        "temperature": options.temperature,
        "persona": None if persona is None else persona.get("name"),
        "weight": spec.weight,
    }
    return [PoolMember(rater=rater, weight=spec.weight, described=described)]


class LearnedRaterOptions(RaterOptions):
    """``kind: learned``: a saved learned rater; ``population`` > 1 varies it into many."""

    learned: str = Field(description="path of a saved learned rater")
    population: int = Field(default=1, ge=1, le=1000)
    spread: float = Field(default=1.0, ge=0)
    taste: float = Field(default=0.0, ge=0)

    def members(self) -> int:
        return self.population

    def check(self, config: RatersConfig, where: str) -> None:
        if not config.path(self.learned).is_file():
            raise ConfigError(
                f"learned rater file {config.path(self.learned)} not found",
                source=config.source,
                field=f"{where}.learned",
            )


@rater_kinds.register("learned", options=LearnedRaterOptions)
def _learned(
    spec: RaterConfig, options: LearnedRaterOptions, context: RaterContext
) -> list[PoolMember]:
    from simulacra.feedback._learned import LearnedRater

    config = context.config
    try:
        base = LearnedRater.load(config.path(options.learned), id=spec.id)
    except ConfigError as exc:
        raise ConfigError(
            str(exc), source=config.source, field=f"{context.where}.learned"
        ) from None
    members = (
        base.population(
            options.population, seed=config.seed, spread=options.spread, taste=options.taste
        )
        if options.population > 1
        else [base]
    )
    weight = spec.weight / len(members)
    return [
        PoolMember(
            rater=member, weight=weight, described={"learned": options.learned, "weight": weight}
        )
        for member in members
    ]


class FixedRaterOptions(RaterOptions):
    """``kind: fixed``: a scripted rule, for dry runs and tests (see ``FixedRater``)."""

    fixed: FixedChoice


@rater_kinds.register("fixed", options=FixedRaterOptions)
def _fixed(
    spec: RaterConfig, options: FixedRaterOptions, context: RaterContext
) -> list[PoolMember]:
    described = {"fixed": options.fixed, "weight": spec.weight}
    return [
        PoolMember(
            rater=FixedRater(options.fixed, id=spec.id), weight=spec.weight, described=described
        )
    ]


KIND_KEYS: dict[str, Literal["llm", "learned", "fixed"]] = {
    "model": "llm",
    "learned": "learned",
    "fixed": "fixed",
}
"""For an entry written without ``kind:``, the key that says which built-in kind it is."""


# --- rubric and critique raters --------------------------------------------------------


class Rubric(Protocol):
    """Scores a response on each of its ``dimensions`` (a score of None: abstained)."""

    id: str

    @property
    def dimensions(self) -> Sequence[Dimension]: ...

    async def rate(self, item: ResponseItem, *, seed: int = 0) -> list[RubricScore]: ...


class Satisfaction(Protocol):
    """How satisfied the item's persona is with the whole conversation."""

    id: str

    async def rate(self, item: ResponseItem, *, seed: int = 0) -> RubricScore: ...


class Critic(Protocol):
    """A written critique of a response: strengths, weaknesses, a suggestion."""

    id: str

    async def critique(self, item: ResponseItem, *, seed: int = 0) -> Critique: ...


class JudgeOptions(Options):
    """The settings of one kind of rubric or critique rater."""

    def check(self, config: RatersConfig, where: str) -> None:
        """Check the names these options refer to; raise a ``ConfigError`` at ``where``."""


@dataclass(kw_only=True)
class RubricParts:
    """What a rubric kind builds: the rubric rater, and the satisfaction rater if any."""

    rubric: Rubric
    satisfaction: Satisfaction | None = None


RubricBuild = Callable[["RubricConfig", Any, RaterContext], RubricParts]
CritiqueBuild = Callable[["CritiqueConfig", Any, RaterContext], Critic]
rubric_kinds: Registry[RubricBuild] = Registry("rubric kind", options=JudgeOptions)
"""Kind name → ``build(spec, options, context) -> RubricParts``."""
critique_kinds: Registry[CritiqueBuild] = Registry("critique kind", options=JudgeOptions)
"""Kind name → ``build(spec, options, context) -> Critic``."""


def _check_prompted(
    config: RatersConfig, where: str, model: str, templates: list[tuple[str, str, str]]
) -> None:
    """A prompted rater's model key and templates (``(field, name, template kind)``)."""
    from simulacra.feedback._templates import get_template

    if model not in config.models:
        known = ", ".join(sorted(config.models)) or "none"
        raise ConfigError(
            f"unknown model {model!r} (known: {known})",
            source=config.source,
            field=f"{where}.model",
        )
    for field_name, name, kind in templates:
        try:
            get_template(name, kind)  # type: ignore[arg-type]
        except ConfigError as exc:
            raise ConfigError(
                str(exc), source=config.source, field=f"{where}.{field_name}"
            ) from None


class LLMRubricOptions(JudgeOptions):
    """``rubric: {kind: llm}``: a prompted model scores each dimension on a Likert scale;
    with ``satisfaction``, it also rates the persona's satisfaction with the conversation."""

    model: str = Field(description="a key of `models`")
    template: str = "rubric"
    dimensions: list[str | dict[str, str]] | None = None
    satisfaction: bool = True
    satisfaction_template: str = "satisfaction"
    temperature: float | None = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=200, ge=1)

    def check(self, config: RatersConfig, where: str) -> None:
        from simulacra.feedback._rubric import dimensions_from

        templates = [("template", self.template, "rubric")]
        if self.satisfaction:
            templates.append(("satisfaction_template", self.satisfaction_template, "satisfaction"))
        _check_prompted(config, where, self.model, templates)
        try:
            dimensions_from(self.dimensions)
        except ConfigError as exc:
            raise ConfigError(str(exc), source=config.source) from None


@rubric_kinds.register("llm", options=LLMRubricOptions)
def _llm_rubric(
    spec: RubricConfig, options: LLMRubricOptions, context: RaterContext
) -> RubricParts:
    from simulacra.feedback._rubric import RubricRater, SatisfactionRater, dimensions_from

    config = context.config
    parts = RubricParts(
        rubric=RubricRater(
            id=spec.id,
            model=context.model(options.model),
            template=options.template,
            dimensions=dimensions_from(options.dimensions),
            temperature=options.temperature,
            max_tokens=options.max_tokens,
            max_retries=config.max_retries,
            max_chars=config.max_chars,
        )
    )
    if options.satisfaction:
        parts.satisfaction = SatisfactionRater(
            id=f"{spec.id}.satisfaction",
            model=context.model(options.model),
            template=options.satisfaction_template,
            temperature=options.temperature,
            max_retries=config.max_retries,
            max_chars=config.max_chars,
        )
    return parts


class LLMCritiqueOptions(JudgeOptions):
    """``critique: {kind: llm}``: a prompted model writes a structured critique."""

    model: str = Field(description="a key of `models`")
    template: str = "critique"
    temperature: float | None = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=400, ge=1)

    def check(self, config: RatersConfig, where: str) -> None:
        _check_prompted(config, where, self.model, [("template", self.template, "critique")])


@critique_kinds.register("llm", options=LLMCritiqueOptions)
def _llm_critique(
    spec: CritiqueConfig, options: LLMCritiqueOptions, context: RaterContext
) -> Critic:
    from simulacra.feedback._rubric import CritiqueRater

    config = context.config
    return CritiqueRater(
        id=spec.id,
        model=context.model(options.model),
        template=options.template,
        temperature=options.temperature,
        max_tokens=options.max_tokens,
        max_retries=config.max_retries,
        max_chars=config.max_chars,
    )
