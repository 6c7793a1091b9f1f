"""raters.yaml: which models judge, the pool of rater configurations, and its options.

Loaded with ``yaml.safe_load`` and validated with pydantic; unknown keys are errors, and
every error is a ``ConfigError`` naming the file and the field. Names are checked when
the config is loaded: an unknown model key, template or persona is reported before any
model is called.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SerializeAsAny, ValidationError

from simulacra._records import read_records, validate_config
from simulacra._secrets import scrub_value
from simulacra.errors import ConfigError
from simulacra.feedback._kinds import (
    KIND_KEYS,
    JudgeOptions,
    RaterOptions,
    critique_kinds,
    rater_kinds,
    rubric_kinds,
)
from simulacra.llm import ModelConfig, redact_settings
from simulacra.registry import SAVED_CONTEXT, Chosen, Registry

ID_PATTERN = r"^[A-Za-z0-9_.\-:]+$"
Kind = Literal["pairwise", "rubric", "critique", "implicit"]
KINDS: tuple[Kind, ...] = ("pairwise", "rubric", "critique", "implicit")
Pairing = Literal["repeats", "reference"]
PAIRINGS: tuple[Pairing, ...] = ("repeats", "reference")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RaterConfig(Chosen):
    """One rater configuration of the pool: its ``kind`` and that kind's options.

    Built-in kinds (``feedback._kinds``): ``llm``, a prompted model (template × model ×
    temperature × persona); ``learned``, a file saved by a fitted learned rater
    (``population`` > 1 expands it into that many varied members); ``fixed``, a scripted
    rule, for dry runs and tests. Without ``kind:``, an entry with ``model`` is ``llm``,
    one with ``learned`` or ``fixed`` is of that kind.
    """

    registry: ClassVar[Registry[Any]] = rater_kinds
    key: ClassVar[str] = "kind"

    id: str = Field(pattern=ID_PATTERN)
    kind: str = "llm"
    weight: float = Field(default=1.0, gt=0)
    options: SerializeAsAny[RaterOptions] = Field(default_factory=RaterOptions)

    @classmethod
    def name_of(cls, data: dict[str, Any]) -> Any:
        if "kind" in data:
            return data["kind"]
        given = [kind for key, kind in KIND_KEYS.items() if data.get(key) is not None]
        if len(given) > 1:
            raise ValueError("give exactly one of model, learned or fixed")
        return given[0] if given else "llm"


class RubricConfig(Chosen):
    """Likert ratings on named dimensions, and the persona-conditioned satisfaction: a
    ``kind`` of rubric rater (built in: ``llm``) and that kind's options beside it."""

    registry: ClassVar[Registry[Any]] = rubric_kinds
    key: ClassVar[str] = "kind"

    id: str = Field(default="rubric", pattern=ID_PATTERN)
    kind: str = "llm"
    options: SerializeAsAny[JudgeOptions] = Field(default_factory=JudgeOptions)


class CritiqueConfig(Chosen):
    """Structured written critiques: a ``kind`` of critique rater (built in: ``llm``) and
    that kind's options beside it."""

    registry: ClassVar[Registry[Any]] = critique_kinds
    key: ClassVar[str] = "kind"

    id: str = Field(default="critique", pattern=ID_PATTERN)
    kind: str = "llm"
    options: SerializeAsAny[JudgeOptions] = Field(default_factory=JudgeOptions)


class ImplicitConfig(_Strict):
    """Rule-based implicit signals; ``model`` adds a model classifier's labels too."""

    model: str | None = None
    template: str = "implicit"
    rephrase_threshold: float = Field(default=0.5, ge=0, le=1)
    topic_threshold: float = Field(default=0.05, ge=0, le=1)


class RatersConfig(_Strict):
    """Everything ``simulacra judge`` and ``simulacra compare`` need to know."""

    models: dict[str, ModelConfig] = Field(default_factory=lambda: {"local": ModelConfig()})
    pool: list[RaterConfig] = Field(
        default_factory=lambda: [RaterConfig.model_validate({"id": "judge", "model": "local"})],
        min_length=1,
    )
    noise: float = Field(default=0.0, ge=0, le=0.5, description="P(an A/B verdict is flipped)")
    both_orders: bool = False
    judges_per_item: int = Field(default=1, ge=1)
    pairing: list[Pairing] = Field(default_factory=lambda: list(PAIRINGS))
    unit: Literal["conversation", "final"] = "conversation"
    max_chars: int = Field(default=6000, ge=200)
    max_retries: int = Field(default=1, ge=0, le=5)
    rubric: RubricConfig | None = None
    critique: CritiqueConfig | None = None
    implicit: ImplicitConfig = Field(default_factory=ImplicitConfig)
    concurrency: int = Field(default=4, ge=1, le=256)
    seed: int = 0
    base_dir: str | None = Field(default=None, description="where relative paths resolve")
    _source: str = PrivateAttr(default="<raters>")

    @property
    def source(self) -> str:
        return self._source

    def path(self, value: str) -> Path:
        path = Path(value).expanduser()
        if not path.is_absolute() and self.base_dir:
            path = Path(self.base_dir) / path
        return path

    def kinds(self) -> list[Kind]:
        """The kinds this config can produce (pairwise always; implicit needs no model)."""
        kinds: list[Kind] = ["pairwise"]
        if self.rubric is not None:
            kinds.append("rubric")
        if self.critique is not None:
            kinds.append("critique")
        kinds.append("implicit")
        return kinds

    def pool_size(self) -> int:
        return sum(spec.options.members() for spec in self.pool)

    def check(self) -> RatersConfig:
        """Check every name the config refers to; raise a ``ConfigError`` naming it."""
        from simulacra.feedback._templates import get_template

        def fail(message: str, field: str) -> ConfigError:
            return ConfigError(message, source=self.source, field=field)

        def model_key(key: str | None, field: str) -> None:
            if key is not None and key not in self.models:
                known = ", ".join(sorted(self.models)) or "none"
                raise fail(f"unknown model {key!r} (known: {known})", field)

        ids = [s.id for s in self.pool]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise fail(f"duplicate rater ids: {', '.join(duplicates)}", "pool")
        for index, spec in enumerate(self.pool):
            spec.options.check(self, f"pool[{index}]")
        if self.judges_per_item > self.pool_size():
            raise fail(
                f"judges_per_item ({self.judges_per_item}) is larger than the pool "
                f"({self.pool_size()} raters)",
                "judges_per_item",
            )
        if self.rubric is not None:
            self.rubric.options.check(self, "rubric")
        if self.critique is not None:
            self.critique.options.check(self, "critique")
        model_key(self.implicit.model, "implicit.model")
        if self.implicit.model is not None:
            try:
                get_template(self.implicit.template, "implicit")
            except ConfigError as exc:
                raise fail(str(exc), "implicit.template") from None
        return self

    def resolve_persona(self, persona: str | dict[str, Any], field: str) -> dict[str, Any]:
        """A persona as a dict: a built-in by name, or an inline one validated."""
        from simulacra.people import Persona, builtin_personas

        if isinstance(persona, str):
            library = {p.name: p for p in builtin_personas()}
            if persona not in library:
                raise ConfigError(
                    f"unknown persona {persona!r} (known: {', '.join(sorted(library))})",
                    source=self.source,
                    field=field,
                )
            return library[persona].model_dump(mode="json")
        try:
            return Persona.model_validate(persona).model_dump(mode="json")
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(
                first["msg"], source=self.source, field=f"{field}.{where}" if where else field
            ) from None

    def fingerprint(self) -> dict[str, Any]:
        """What must match for a re-run to add to an existing ``feedback.jsonl``."""
        data = self.model_dump(mode="json", exclude={"concurrency", "base_dir"})
        for model in data.get("models", {}).values():
            redact_settings(model)  # header and extra_body values may hold credentials
        return dict(scrub_value(data))  # as written (so a re-run compares like with like)

    @classmethod
    def saved_fingerprint(cls, saved: Any) -> Any:
        """A fingerprint an older version saved, in today's form (it wrote every kind's
        settings on every rater and every backend's on every model; unread ones are
        dropped). Anything unreadable is returned as it is, and so differs."""
        try:
            return cls.model_validate(saved, context=SAVED_CONTEXT).fingerprint()
        except ValueError:
            return saved


def parse_raters_config(
    data: Any, *, source: str = "<raters>", base_dir: str | None = None
) -> RatersConfig:
    """Validate a raters config given as data (``None`` means all defaults)."""
    if data is None:
        data = {}
    config = validate_config(RatersConfig, data, source=source, base_dir=base_dir)
    config._source = source
    return config.check()


def load_raters_config(path: str | Path) -> RatersConfig:
    """Read raters.yaml (safely: no tags, no code) and check every name in it."""
    path = Path(path)
    if not path.exists():
        raise ConfigError("raters file not found", source=str(path))
    data = read_records(path, what="raters file")
    return parse_raters_config(data, source=str(path), base_dir=str(path.parent.resolve()))
