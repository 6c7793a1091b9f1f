"""The one registry door: entries with options, import paths, and flat config entries."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from simulacra.errors import ConfigError
from simulacra.llm import LocalOptions, ModelConfig, OpenAIOptions
from simulacra.registry import Options, Registry
from simulacra.sim.users import ScriptedSimulatorOptions, simulators


class Knobs(Options):
    size: int = 1


def make() -> str:
    return "made"


def test_an_entry_validates_its_options_and_names_the_known_ones() -> None:
    things: Registry[object] = Registry("thing")
    things.add("knobbed", make, options=Knobs)
    things.add("plain", make)
    assert things.entry("knobbed").validate({"size": 3}) == Knobs(size=3)
    with pytest.raises(ValidationError, match=r"unknown option of thing 'knobbed' \(known: size\)"):
        things.entry("knobbed").validate({"sise": 3})
    with pytest.raises(ConfigError, match=r"f.yaml: things.sise: unknown option of thing 'plain'"):
        things.entry("plain").parse({"sise": 3}, source="f.yaml", field="things")
    with pytest.raises(ConfigError, match="thing 'plain' is already registered"):
        things.add("plain", str)
    things.add("plain", make)  # the same registration again (a module imported twice)
    with pytest.raises(ConfigError, match=r"unknown thing 'nope' \(known: knobbed, plain\)"):
        things.entry("nope")


def test_an_import_path_keeps_the_options_it_was_registered_with() -> None:
    things: Registry[object] = Registry("thing")
    things.add("knobbed", make, options=Knobs)
    assert things.entry("test_registry:make").options is Knobs
    assert things.entry("test_registry:Knobs").options is Options  # not registered
    assert simulators.entry("simulacra.sim.users._scripted:_scripted_user").options is Options


def test_a_model_entry_keeps_its_flat_form_and_its_backend_options() -> None:
    data = {"backend": "openai", "base_url": "http://h/v1", "model": "m", "max_attempts": 2}
    config = ModelConfig.model_validate(data)
    assert isinstance(config.options, OpenAIOptions) and config.options.model == "m"
    dumped = config.model_dump(mode="json")
    assert dumped["base_url"] == "http://h/v1" and "options" not in dumped and "path" not in dumped
    assert ModelConfig.model_validate(dumped) == config
    assert config.identity() == "openai:http://h/v1#m" and config.endpoint() == "http://h/v1"
    local = ModelConfig()
    assert isinstance(local.options, LocalOptions) and local.concurrency() == 1
    with pytest.raises(ValidationError, match="unknown model backend 'llamafile'"):
        ModelConfig.model_validate({"backend": "llamafile"})


def test_user_options_are_the_simulators_own() -> None:
    from simulacra.runs import UserConfig

    user = UserConfig.model_validate({"simulator": "scripted", "options": {"turns": ["hi"]}})
    assert user.options == ScriptedSimulatorOptions(turns=["hi"])
    assert user.model_dump()["options"] == {"turns": ["hi"]}
    assert UserConfig.model_validate(user.model_dump()) == user
    assert not user.simulator_spec().needs_model
