"""A person to role-play: who they are, how they write, how they behave in a chat.

A ``Profile`` is richer than a ``Persona`` in what drives a conversation: how the person
opens (which words, how much of their situation they put in the first message), how much
they reveal afterwards, how they take a long answer, and when they stop. Its writing
habits become a ``Persona`` (``persona()``) so that the same styling code applies them.

Profiles are written by hand (the built-in ones, ``people/data/profiles.yaml``) or
extracted from a team's real conversations (``simulacra profiles``), in which case each
carries a ``weight`` (its share of the conversations) and its phrase banks come from
those conversations.
"""

from __future__ import annotations

import functools
import random
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simulacra._records import read_records, validation_message
from simulacra.errors import ConfigError
from simulacra.people._persona import BigFive, Persona, WritingStyle

Reveal = Literal["when_asked", "unprompted"]
LongAnswer = Literal["read", "skim", "ask_shorter"]
Stop = Literal["when_answered", "after_follow_up", "leaves_early"]


class LengthProfile(BaseModel):
    """Words per turn: a log-normal with this median and log standard deviation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    median_words: float = Field(default=9.0, gt=0, le=200)
    sigma: float = Field(default=0.65, ge=0, le=3)


class Interaction(BaseModel):
    """How the person behaves over a conversation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    opening_facts: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="share of their details already put in the first message",
    )
    reveal: Reveal = Field(
        default="when_asked",
        description="after the opening: details only when asked, or offered unprompted",
    )
    long_answer_words: int = Field(
        default=60, ge=1, le=2000, description="an answer longer than this is a long one"
    )
    long_answer: LongAnswer = Field(
        default="read",
        description="reaction to a long answer: read it, skim it (shorter replies), or ask "
        "for a shorter one",
    )
    stop: Stop = Field(
        default="when_answered",
        description="when they leave: once answered, after one follow-up, or early "
        "(as soon as something usable is said)",
    )
    typical_turns: float = Field(
        default=4.0, ge=1.0, le=50.0, description="user turns in a typical conversation"
    )
    closing_rate: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="conversations they end with a goodbye or thanks of their own",
    )
    follow_up_rate: float = Field(
        default=0.2, ge=0.0, le=1.0, description="chance of one follow-up question once answered"
    )
    politeness_rate: float = Field(
        default=0.2, ge=0.0, le=1.0, description="turns with please, thanks or sorry"
    )
    own_phrases: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="share of agreeing and closing turns said in the profile's own phrases "
        "(its acknowledgements and closings); the rest in the common stock ones",
    )


class Profile(BaseModel):
    """A person for the role-play user. ``name`` identifies it in configs and results."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    display_name: str = ""
    background: str = Field(min_length=1, description="who they are, in a sentence or two")
    knowledge: str = Field(default="", description="what they know and do not know")
    goal: str = Field(
        default="",
        description="what they generally want from an assistant (the task says what now)",
    )
    message_style: str = Field(default="", description="how their messages read, for the prompt")
    expertise: Literal["novice", "intermediate", "expert"] = "intermediate"
    big_five: BigFive = Field(default_factory=BigFive)
    patience: int = Field(default=3, ge=0, le=20, description="unhelpful replies tolerated")
    cooperativeness: float = Field(default=0.7, ge=0.0, le=1.0)
    typo_rate: float = Field(default=0.01, ge=0.0, le=0.3)
    style: WritingStyle = Field(default_factory=WritingStyle)
    length: LengthProfile = Field(default_factory=LengthProfile)
    interaction: Interaction = Field(default_factory=Interaction)
    openings: list[str] = Field(
        default_factory=list, description="how their first messages typically start"
    )
    acknowledgements: list[str] = Field(
        default_factory=list, description="what they say to agree or confirm"
    )
    closings: list[str] = Field(
        default_factory=list, description="what they say when they are done"
    )
    weight: float = Field(default=1.0, gt=0, description="share of a population")
    source: str = Field(default="", description="where the profile came from")

    @property
    def label(self) -> str:
        return self.display_name or self.name

    def verbosity(self) -> float:
        """The persona verbosity whose median turn length is this profile's."""
        import math

        value = 0.35 + math.log(self.length.median_words / 9.0) / 2.0
        return min(1.0, max(0.0, value))

    def persona(self, name: str | None = None) -> Persona:
        """The persona that carries this profile's writing habits and dialogue traits."""
        return Persona(
            name=name or self.name,
            display_name=self.display_name,
            background=self.background,
            expertise=self.expertise,
            big_five=self.big_five,
            patience=self.patience,
            cooperativeness=self.cooperativeness,
            verbosity=self.verbosity(),
            typo_rate=self.typo_rate,
            style=self.style,
            tags=["profile", self.name],
        )


def parse_profiles(items: Any, *, source: str) -> list[Profile]:
    """Profiles from parsed YAML: a list, or ``{profiles: [...]}``; errors name the entry."""
    if isinstance(items, dict) and "profiles" in items:
        items = items["profiles"]
    if not isinstance(items, list) or not items:
        raise ConfigError("expected a non-empty list of profiles", source=source)
    profiles: list[Profile] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"profile {index + 1}"
        if not isinstance(item, dict):
            raise ConfigError("expected a mapping of profile fields", source=source, field=where)
        try:
            profile = Profile.model_validate(item)
        except ValidationError as exc:
            raise ConfigError(
                validation_message(exc), source=source, field=f"{where} ({item.get('name', '?')})"
            ) from None
        if profile.name in seen:
            raise ConfigError(
                f"duplicate profile name {profile.name!r}", source=source, field=where
            )
        seen.add(profile.name)
        profiles.append(profile)
    return profiles


def load_profiles(path: str | Path) -> list[Profile]:
    """Read profiles from a YAML file (loaded safely) or JSONL (one profile per line)."""
    path = Path(path)
    return parse_profiles(read_records(path, what="profile file"), source=str(path))


def builtin_profiles() -> list[Profile]:
    """The built-in profiles (``people/data/profiles.yaml``), read once."""
    return list(_builtin_profiles())


@functools.cache
def _builtin_profiles() -> tuple[Profile, ...]:
    return tuple(load_profiles(Path(__file__).parent / "data" / "profiles.yaml"))


def _jitter(value: float, rng: random.Random, concentration: float) -> float:
    """A draw from a beta distribution with mean ``value`` (clipped into (0, 1))."""
    mean = min(0.98, max(0.02, value))
    return rng.betavariate(mean * concentration, (1 - mean) * concentration)


def draw_profile(
    profiles: list[Profile], rng: random.Random, *, concentration: float = 30.0
) -> Profile:
    """One person of the population: a profile chosen by weight, its rates redrawn.

    Each rate is drawn from a beta distribution around the profile's value (higher
    ``concentration``: closer to it; 0: the profile as it is), and the median length
    from a log-normal around it, so that two people of one profile still differ.
    """
    if not profiles:
        raise ConfigError("a population needs at least one profile")
    base = rng.choices(profiles, weights=[p.weight for p in profiles], k=1)[0]
    if concentration <= 0:
        return base
    data = base.model_dump()
    for key in ("lowercase_rate", "end_punctuation_rate", "greeting_rate", "formality"):
        data["style"][key] = _jitter(data["style"][key], rng, concentration)
    for key in ("opening_facts", "closing_rate", "follow_up_rate", "politeness_rate"):
        data["interaction"][key] = _jitter(data["interaction"][key], rng, concentration)
    data["cooperativeness"] = _jitter(data["cooperativeness"], rng, concentration)
    median = data["length"]["median_words"] * rng.lognormvariate(0.0, 1.0 / concentration**0.5)
    data["length"]["median_words"] = min(200.0, max(1.0, median))
    return Profile.model_validate(data)


def sample_profiles(
    profiles: list[Profile], size: int, *, seed: int = 0, concentration: float = 30.0
) -> list[Profile]:
    """``size`` people drawn from ``profiles`` (by weight, rates redrawn), reproducibly."""
    rng = random.Random(seed)
    width = len(str(size))
    people = []
    for index in range(size):
        person = draw_profile(profiles, rng, concentration=concentration)
        people.append(
            person.model_copy(
                update={"name": f"{person.name}-{index + 1:0{width}d}", "weight": 1.0}
            )
        )
    return people
