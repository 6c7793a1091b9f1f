from __future__ import annotations

import json
import statistics

import pytest

from simulacra.errors import ConfigError
from simulacra.people import Beta, Choice, Persona, Population, builtin_personas, load_personas


def test_builtin_library_has_twelve_clearly_different_personas() -> None:
    personas = builtin_personas()
    assert len(personas) >= 12
    assert len({p.name for p in personas}) == len(personas)
    # clearly different: no two share verbosity, patience, cooperativeness and expertise
    profiles = {(p.verbosity, p.patience, p.cooperativeness, p.expertise) for p in personas}
    assert len(profiles) == len(personas)
    assert min(p.verbosity for p in personas) <= 0.15 and max(p.verbosity for p in personas) >= 0.8
    assert {p.expertise for p in personas} == {"novice", "intermediate", "expert"}


def test_library_leans_short_and_informal_like_real_users() -> None:
    personas = builtin_personas()
    assert statistics.median(p.verbosity for p in personas) < 0.4
    assert statistics.mean(p.style.lowercase_rate for p in personas) < 0.3


def test_load_yaml_and_jsonl(tmp_path) -> None:
    yaml_path = tmp_path / "p.yaml"
    yaml_path.write_text("personas:\n  - name: a\n    background: someone\n    verbosity: 0.9\n")
    jsonl_path = tmp_path / "p.jsonl"
    jsonl_path.write_text(json.dumps({"name": "b", "background": "x", "patience": 7}) + "\n\n")
    assert load_personas(yaml_path)[0].verbosity == 0.9
    assert load_personas(jsonl_path)[0].patience == 7


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        (
            "- name: a\n  background: x\n  verbosity: 3\n",
            ".yaml",
            r"persona 1 \(a\): verbosity: Input should be less",
        ),
        (
            "- name: a\n  background: x\n  colour: red\n",
            ".yaml",
            r"persona 1 \(a\): colour: Extra inputs",
        ),
        ('{"name": "a", "background": "x"}\n{bad\n', ".jsonl", r"line 2: invalid JSON"),
        (
            "- name: a\n  background: x\n- name: a\n  background: y\n",
            ".yaml",
            "duplicate persona name 'a'",
        ),
        ("name: [unclosed\n", ".yaml", "invalid YAML"),
    ],
)
def test_bad_persona_files_name_the_problem(
    tmp_path, content: str, suffix: str, message: str
) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        load_personas(path)
    assert str(path) in str(info.value)


def test_population_is_seeded_and_follows_distributions() -> None:
    base = builtin_personas()
    population = Population(
        size=400,
        seed=3,
        attributes={"verbosity": Beta(a=2, b=8), "patience": Choice(values=[1, 5], weights=[3, 1])},
    )
    first = population.sample(base)
    again = population.sample(base)
    assert [p.model_dump() for p in first] == [p.model_dump() for p in again]
    other = Population(size=400, seed=4, attributes=population.attributes).sample(base)
    assert [p.verbosity for p in other] != [p.verbosity for p in first]
    assert abs(statistics.mean(p.verbosity for p in first) - 0.2) < 0.03  # Beta(2, 8) mean
    share_impatient = sum(p.patience == 1 for p in first) / len(first)
    assert 0.68 < share_impatient < 0.82
    assert len({p.name for p in first}) == 400


def test_population_rejects_unknown_attribute() -> None:
    population = Population(size=2, attributes={"big_five.charm": Beta(a=1, b=1)})
    with pytest.raises(ConfigError, match=r"unknown persona attribute 'big_five\.charm'"):
        population.check_paths()


def test_persona_attributes_flatten_big_five() -> None:
    persona = Persona(name="x", background="y")
    assert persona.attributes()["big_five.neuroticism"] == 0.5
