"""Who the simulated human is.

A ``Persona`` holds the traits that drive behaviour in code (verbosity sets turn length,
typo rate and style set the surface, patience and cooperativeness set the dialogue acts)
and the text that drives the prompt (background, expertise, hidden preferences).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simulacra._records import read_records, validation_message
from simulacra.errors import ConfigError

Expertise = Literal["novice", "intermediate", "expert"]
Unit = Field(ge=0.0, le=1.0)


class BigFive(BaseModel):
    """Big Five personality traits, each in [0, 1] (0.5 is the population middle)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    openness: float = Field(default=0.5, ge=0.0, le=1.0)
    conscientiousness: float = Field(default=0.5, ge=0.0, le=1.0)
    extraversion: float = Field(default=0.5, ge=0.0, le=1.0)
    agreeableness: float = Field(default=0.5, ge=0.0, le=1.0)
    neuroticism: float = Field(default=0.5, ge=0.0, le=1.0)


class WritingStyle(BaseModel):
    """Surface habits applied to every turn in code, at these rates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lowercase_rate: float = Field(
        default=0.15, ge=0.0, le=1.0, description="turns starting lowercase"
    )
    end_punctuation_rate: float = Field(
        default=0.6, ge=0.0, le=1.0, description="turns that end with . ! or ?"
    )
    formality: float = Field(default=0.4, ge=0.0, le=1.0)
    greeting_rate: float = Field(
        default=0.2, ge=0.0, le=1.0, description="openings with a greeting"
    )
    abbreviations: bool = Field(default=False, description="writes u, pls, thx, idk")
    description: str = Field(default="", description="free text for the prompt")


class Persona(BaseModel):
    """A simulated human. ``name`` is its identifier in configs and results."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    display_name: str = ""
    background: str = Field(min_length=1)
    expertise: Expertise = "intermediate"
    big_five: BigFive = Field(default_factory=BigFive)
    patience: int = Field(default=3, ge=0, le=20, description="unhelpful replies tolerated")
    cooperativeness: float = Field(default=0.7, ge=0.0, le=1.0, description="P(answers a question)")
    verbosity: float = Field(default=0.35, ge=0.0, le=1.0)
    typo_rate: float = Field(default=0.01, ge=0.0, le=0.3, description="typos per word")
    language: str = "en"
    style: WritingStyle = Field(default_factory=WritingStyle)
    hidden_preferences: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)

    @property
    def label(self) -> str:
        return self.display_name or self.name

    def attributes(self) -> dict[str, Any]:
        """Flat attributes for breakdowns (``big_five.openness`` etc.)."""
        flat: dict[str, Any] = {
            "expertise": self.expertise,
            "patience": self.patience,
            "cooperativeness": self.cooperativeness,
            "verbosity": self.verbosity,
            "typo_rate": self.typo_rate,
            "language": self.language,
        }
        flat.update({f"big_five.{k}": v for k, v in self.big_five.model_dump().items()})
        return flat


def parse_personas(items: list[Any], *, source: str) -> list[Persona]:
    personas: list[Persona] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"persona {index + 1}"
        if not isinstance(item, dict):
            raise ConfigError("expected a mapping of persona fields", source=source, field=where)
        try:
            persona = Persona.model_validate(item)
        except ValidationError as exc:
            name = item.get("name", "?")
            raise ConfigError(
                validation_message(exc), source=source, field=f"{where} ({name})"
            ) from None
        if persona.name in seen:
            raise ConfigError(
                f"duplicate persona name {persona.name!r}", source=source, field=where
            )
        seen.add(persona.name)
        personas.append(persona)
    return personas


def load_personas(path: str | Path) -> list[Persona]:
    """Read personas from YAML (a list, or ``{personas: [...]}``) or JSONL (one per line)."""
    path = Path(path)
    data = read_records(path, what="persona file")
    if isinstance(data, dict) and "personas" in data:
        data = data["personas"]
    if not isinstance(data, list):
        raise ConfigError("expected a list of personas", source=str(path))
    return parse_personas(data, source=str(path))


def builtin_personas() -> list[Persona]:
    """The built-in persona library (``people/data/personas.yaml``), read once."""
    return list(_builtin_personas())


@functools.cache
def _builtin_personas() -> tuple[Persona, ...]:
    return tuple(load_personas(Path(__file__).parent / "data" / "personas.yaml"))
