"""Third-party extensions: a plugin package registered by entry point, used by name.

``tests/plugin_pkg`` is a real package with a ``pyproject.toml``. Its entry points are
installed the way an installer would: a ``*.dist-info`` directory with
``entry_points.txt``, on ``sys.path``, where ``importlib.metadata`` finds it.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import simulacra
import simulacra.registry
from simulacra.errors import ConfigError
from simulacra.feedback import judge_run, parse_raters_config
from simulacra.registry import load_plugins
from simulacra.runs import read_episodes
from simulacra.sim.users import simulators

PACKAGE = Path(__file__).parent / "plugin_pkg"
GUIDE = Path(__file__).parents[1] / "CONTRIBUTING.md"


def quoted_files() -> dict[str, str]:
    """The files CONTRIBUTING.md quotes (``<!-- file: PATH -->`` before a code block)."""
    found = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```\n", GUIDE.read_text(), re.S)
    return dict(found)


def guide_yaml(containing: str) -> Any:
    """The YAML block of CONTRIBUTING.md that contains ``containing``, parsed."""
    blocks = re.findall(r"```yaml\n(.*?)```", GUIDE.read_text(), re.S)
    (block,) = [b for b in blocks if containing in b]
    return yaml.safe_load(block)


def test_the_guide_quotes_the_example_package_as_it_is() -> None:
    quoted = quoted_files()
    root = Path(__file__).parents[1]
    modules = {
        str(p.relative_to(root))
        for p in (PACKAGE / "simulacra_example").glob("*.py")
        if p.name not in ("__init__.py", "plugin.py")
    }
    assert modules | {"tests/plugin_pkg/pyproject.toml"} == set(quoted)
    for path, text in quoted.items():
        assert text == (root / path).read_text(), path


def install(target: Path, name: str, entry_points: dict[str, str]) -> None:
    """Write what an installer writes for a distribution's entry points."""
    info = target / f"{name.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    lines = [f"{key} = {value}" for key, value in entry_points.items()]
    (info / "entry_points.txt").write_text("[simulacra.plugins]\n" + "\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"]
    site = tmp_path_factory.mktemp("site")
    install(site, project["name"], project["entry-points"]["simulacra.plugins"])
    from simulacra.report import report_sections

    sys.path[:0] = [str(site), str(PACKAGE)]
    simulacra.registry._plugins_loaded = False  # as in a fresh process
    tabs = dict(report_sections._items)
    try:
        yield site
    finally:
        for path in (str(site), str(PACKAGE)):
            sys.path.remove(path)
        # every report enumerates the tabs: the plugin's must not reach other tests
        report_sections._items.clear()
        report_sections._items.update(tabs)


def test_plugins_load_once_when_a_lookup_misses(plugin: Path) -> None:
    assert "simulacra_example.users" not in sys.modules
    assert "llm" in simulators  # a built-in: no plugin is loaded for it
    assert "simulacra_example.users" not in sys.modules
    entry = simulators.entry("shouting")
    assert "simulacra_example.users" in sys.modules
    assert entry.options.__name__ == "ShoutingOptions"
    assert load_plugins() == []  # once


def config(tmp_path: Path, **changes: object) -> simulacra.RunConfig:
    data = {
        "name": "plugged",
        **guide_yaml("simulator: shouting"),  # models, user, target and tasks
        "personas": {"builtin": ["busy-nurse"]},
        "repeats": 2,
        "output_dir": str(tmp_path),
    }
    return simulacra.RunConfig.model_validate(data | changes)


def test_a_run_uses_every_kind_of_extension_by_name(plugin: Path, tmp_path: Path) -> None:
    result = simulacra.run(config(tmp_path))
    episodes = read_episodes(result.run_dir)
    assert len(episodes) == 8 and all(e["status"] == "ok" for e in episodes)
    assert {e["task"]["id"] for e in episodes} == {"sum-1", "sum-2", "raise-apples", "raise-pears"}
    for e in episodes:
        user = [m["content"] for m in e["messages"] if m["role"] == "user"]
        target = [m["content"] for m in e["messages"] if m["role"] == "assistant"]
        assert user and all(text.endswith("!!") and text == text.upper() for text in user)
        assert target == [f"ok: {text}" for text in user]
        assert e["extra"]["shouted"] == len(user)
    counters = [e for e in episodes if e["task"]["id"].startswith("raise-")]
    # the echo agent calls no tool, so the counters keep their start and the check fails
    assert all(e["extra"]["tool_calls"] == 0 and e["success"] is False for e in counters)
    sums = [e for e in episodes if e["task"]["id"] == "sum-1"]
    assert all(e["success"] is False for e in sums)  # "ok: ..." never says 3

    raters = parse_raters_config(guide_yaml("kind: keyword") | {"pairing": ["repeats"]})
    judged = judge_run(result.run_dir, raters, kinds=["pairwise"])
    lines = (result.run_dir / "feedback.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert judged and records and {r["rater"] for r in records} == {"kw"}
    # both repeats of a task say the same, so the keyword rater ties every pair
    assert {r["verdict"] for r in records} == {"tie"}

    from simulacra.report import build_payload, load_run

    part = build_payload([load_run(result.run_dir)]).data["runs"][0]
    (tab,) = [s for s in part["sections"] if s["id"] == "turns"]
    (table,) = tab["tables"]
    assert table["columns"] == ["persona", "task", "episodes", "mean user turns"]
    assert {(row[0], row[1], row[2]) for row in table["rows"]} == {
        ("busy-nurse", t, 2) for t in ("sum-1", "sum-2", "raise-apples", "raise-pears")
    }


def test_a_target_kind_from_a_plugin(plugin: Path, tmp_path: Path) -> None:
    target = guide_yaml("type: canned")["target"]
    result = simulacra.run(config(tmp_path, name="canned", target=target, repeats=1))
    episodes = read_episodes(result.run_dir)
    assert {e["target"] for e in episodes} == {"canned:Sorry, I can't help with that."}
    for e in episodes:
        replies = [m["content"] for m in e["messages"] if m["role"] == "assistant"]
        assert replies and set(replies) == {target["reply"]}


@pytest.mark.parametrize(
    ("changes", "field", "known"),
    [
        (
            {"user": {"simulator": "shouting", "options": {"exclam": 2}}},
            "user.options.exclam",
            "exclaim",
        ),
        ({"models": {"echo": {"backend": "echo", "prefx": "x"}}}, "models.echo.prefx", "prefix"),
        ({"tasks": {"suite": [{"name": "sums", "cnt": 2}]}}, "tasks.suite.0.cnt", "count"),
        ({"tasks": {"suite": [{"name": "counters", "begin": 1}]}}, "tasks.suite.0.begin", "start"),
        ({"target": {"type": "canned", "replies": "x"}}, "target.replies", "reply"),
    ],
)
def test_a_typo_in_a_plugin_option_names_the_field(
    plugin: Path, tmp_path: Path, changes: dict[str, object], field: str, known: str
) -> None:
    data = config(tmp_path).model_dump(mode="json") | changes
    with pytest.raises(ConfigError, match=rf"c.yaml: {field}: unknown option .*{known}"):
        simulacra.runs.parse_config(data, source="c.yaml")


def test_a_typo_in_a_plugin_rater_option_names_the_field(plugin: Path) -> None:
    entry = {"id": "kw", "kind": "keyword", "keyword": "x", "weigth": 2}
    with pytest.raises(ConfigError, match=r"pool\.0\.weigth: unknown option of rater kind"):
        parse_raters_config({"pool": [entry]})


def test_a_broken_plugin_is_a_config_error_naming_it(plugin: Path, tmp_path: Path) -> None:
    install(tmp_path, "simulacra-broken", {"broken": "simulacra_no_such_module"})
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(ConfigError, match=r"plugin 'broken' \(simulacra_no_such_module\)"):
            load_plugins(again=True)
    finally:
        sys.path.remove(str(tmp_path))
    assert "broken" not in load_plugins(again=True)
