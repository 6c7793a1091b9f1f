"""docs/testing-your-app.md: its quoted files are the files in docs/examples, and its
worked example runs as the page says (the app, the config and the pytest file)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

# imported before any pytester test: pytester takes sys.modules back to what it was
# before the test, and numpy (under simulacra.stats) cannot be imported twice
import simulacra.stats  # noqa: F401
from simulacra.runs import load_config

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "testing-your-app.md"
EXAMPLES = ROOT / "docs" / "examples"


def quoted_files() -> dict[str, str]:
    """The files the page quotes (``<!-- file: PATH -->`` before a code block)."""
    return dict(re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```\n", PAGE.read_text(), re.S))


def ci_step() -> dict[str, object]:
    (block,) = re.findall(r"<!-- ci -->\n```yaml\n(.*?)```\n", PAGE.read_text(), re.S)
    (step,) = yaml.safe_load(block)
    assert isinstance(step, dict)
    return step


def test_the_page_quotes_every_example_file_as_it_is() -> None:
    quoted = quoted_files()
    files = {str(p.relative_to(ROOT)) for p in EXAMPLES.iterdir() if p.suffix in (".py", ".yaml")}
    assert set(quoted) == files
    for path, text in quoted.items():
        assert text == (ROOT / path).read_text(), path


def test_the_readme_links_the_page() -> None:
    assert "(docs/testing-your-app.md)" in (ROOT / "README.md").read_text()


def test_the_example_config_loads() -> None:
    config = load_config(EXAMPLES / "support.yaml")
    assert config.target.type == "http_app"
    personas, tasks = config.validate_references()
    assert len(personas) * len(tasks) == 4


def pytest_args(step: dict[str, object], where: Path) -> list[str]:
    """The CI step's pytest arguments, with the examples' folder at ``where``."""
    run = str(step["run"])
    (line,) = [line for line in run.splitlines() if "pytest" in line]
    args = line.split("pytest", 1)[1].split()
    return [str(where) if arg == "docs/examples" else arg for arg in args]


def copy_example(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example's files in a fresh folder, run by a pytest subprocess that imports
    this tree's simulacra (as an installed one would be)."""
    paths = [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
    where = pytester.mkdir("examples")
    for path in EXAMPLES.iterdir():
        if path.suffix in (".py", ".yaml"):
            shutil.copy(path, where / path.name)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return where


def test_the_worked_example_runs_as_the_ci_step_runs_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = ci_step()
    assert step["env"] == {"SIMULACRA_REQUIRE_MODEL": "1"}
    where = copy_example(pytester, monkeypatch)
    args = pytest_args(step, where)
    assert args == [str(where), "-q"]
    # the scripted tests here; the one on the embedded model runs in the slow test below
    result = pytester.runpytest_subprocess(
        "-p", "simulacra.testing", *args, "-m", "not simulacra_model"
    )
    result.assert_outcomes(passed=2, deselected=1)


@pytest.mark.slow
@pytest.mark.simulacra_model
def test_the_worked_example_with_the_real_simulated_users(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, model_cache_dir: Path
) -> None:
    step = ci_step()
    monkeypatch.setenv("SIMULACRA_CACHE_DIR", str(model_cache_dir))
    for name, value in dict(step["env"]).items():  # type: ignore[call-overload]
        monkeypatch.setenv(name, value)
    where = copy_example(pytester, monkeypatch)
    result = pytester.runpytest_subprocess("-p", "simulacra.testing", *pytest_args(step, where))
    result.assert_outcomes(passed=3)
