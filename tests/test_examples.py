"""Every example config in examples/ loads and resolves (the docs' configs stay true)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulacra.runs import load_config

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_config_resolves(path: Path) -> None:
    config = load_config(path)
    if config.target.type == "callable":
        pytest.skip("names the user's own package")
    for given in (config.tasks.tau_retail, config.tasks.tau2_telecom):
        where = given if isinstance(given, str) else getattr(given, "data_dir", None)
        if where and not config.path(where).exists():
            pytest.skip("needs a copy of the benchmark's data")
    suites = config.tasks.suite if isinstance(config.tasks.suite, list) else []
    for suite in suites:
        data_dir = getattr(suite.options, "data_dir", None) if not isinstance(suite, str) else None
        if data_dir is not None and not Path(data_dir).exists():
            pytest.skip("needs a copy of the benchmark's data")
    personas, tasks = config.validate_references()
    assert personas and tasks


def test_examples_exist() -> None:
    assert len(EXAMPLES) >= 6
