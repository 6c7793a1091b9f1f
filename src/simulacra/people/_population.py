"""A seeded sampler of personas from attribute distributions.

Each sampled persona starts from a base persona (drawn uniformly from ``base``) and has
the configured attributes redrawn from their distributions, so a population can be
tuned toward, say, impatient, terse users without writing each persona by hand.
Attributes are dotted paths into the persona (``verbosity``, ``big_five.neuroticism``,
``style.lowercase_rate``); values are clipped to each field's valid range.
"""

from __future__ import annotations

import random
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simulacra.errors import ConfigError
from simulacra.people._persona import Persona


class Uniform(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["uniform"] = "uniform"
    low: float
    high: float

    def draw(self, rng: random.Random) -> Any:
        return rng.uniform(self.low, self.high)


class Beta(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["beta"] = "beta"
    a: float = Field(gt=0)
    b: float = Field(gt=0)

    def draw(self, rng: random.Random) -> Any:
        return rng.betavariate(self.a, self.b)


class Normal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["normal"] = "normal"
    mean: float
    sd: float = Field(ge=0)

    def draw(self, rng: random.Random) -> Any:
        return rng.gauss(self.mean, self.sd)


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["choice"] = "choice"
    values: list[Any] = Field(min_length=1)
    weights: list[float] | None = None

    def draw(self, rng: random.Random) -> Any:
        return rng.choices(self.values, weights=self.weights, k=1)[0]


Distribution = Annotated[Uniform | Beta | Normal | Choice, Field(discriminator="kind")]

_INT_FIELDS = {"patience"}


class Population(BaseModel):
    """``size`` personas drawn with ``seed`` from ``base`` with ``attributes`` redrawn."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    size: int = Field(ge=1, le=100_000)
    seed: int = 0
    attributes: dict[str, Distribution] = Field(default_factory=dict)

    def sample(self, base: list[Persona]) -> list[Persona]:
        if not base:
            raise ConfigError("a population needs at least one base persona")
        rng = random.Random(self.seed)
        personas = []
        width = len(str(self.size))
        for index in range(self.size):
            template = rng.choice(base)
            data = template.model_dump()
            for path, distribution in self.attributes.items():
                _set_path(data, path, distribution.draw(rng))
            data["name"] = f"{template.name}-{index + 1:0{width}d}"
            try:
                personas.append(Persona.model_validate(_clip(data)))
            except ValidationError as exc:
                raise ConfigError(f"sampled persona is invalid: {exc.errors()[0]['msg']}") from None
        return personas

    def check_paths(self) -> None:
        """Raise ``ConfigError`` naming any attribute path that is not a persona field."""
        probe = Persona(name="probe", background="probe").model_dump()
        for path in self.attributes:
            node: Any = probe
            for part in path.split("."):
                if not isinstance(node, dict) or part not in node:
                    raise ConfigError(
                        f"unknown persona attribute {path!r}", field=f"population.attributes.{path}"
                    )
                node = node[part]


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    node[leaf] = value


_RANGES: dict[str, tuple[float, float]] = {
    "patience": (0, 20),
    "typo_rate": (0.0, 0.3),
}


def _clip(data: dict[str, Any]) -> dict[str, Any]:
    """Clip drawn numbers into each field's range (unit interval unless listed)."""
    for key in ("cooperativeness", "verbosity", "typo_rate", "patience"):
        low, high = _RANGES.get(key, (0.0, 1.0))
        value = data[key]
        if isinstance(value, int | float):
            clipped = min(max(value, low), high)
            data[key] = round(clipped) if key in _INT_FIELDS else float(clipped)
    for group in ("big_five", "style"):
        for key, value in data[group].items():
            if isinstance(value, float):
                data[group][key] = min(max(value, 0.0), 1.0)
    return data
