"""Generated input files, valid and broken: every one gives exit 0 or a clean exit 2 that
names the problem, never a traceback, and nothing is written when it fails.

Run configs, persona files, task files, raters configs and human-label files are drawn by
hypothesis from a valid base with keys dropped, replaced by values of the wrong type or
range, or added; the files' contents are also drawn as arbitrary JSON-like trees. Each case
goes through the real command line (in process). ``CASES`` counts them per kind.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from simulacra.cli import app

runner = CliRunner()
CASES: Counter[str] = Counter()
FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=5),
    st.sampled_from([10**12, 1e308, -0.5, 0.5, float("nan")]),
    st.text(max_size=8),
    st.sampled_from(["..", ".", "all", "local", "echo", "sharded", "(("]),
)
TREES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(max_size=6), children, max_size=3),
    ),
    max_leaves=12,
)

BASE_RUN: dict[str, Any] = {
    "name": "fuzz",
    "models": {"echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"}},
    "user": {"model": "echo"},
    "target": {"type": "callable", "callable": "targets_for_tests:calculator"},
    "personas": {"builtin": ["busy-nurse"]},
    "tasks": {"suite": "everyday", "limit": 2},
    "max_turns": 2,
    "repeats": 1,
}


def draw_mutated(data: st.DataObject, base: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(base))
    keys = sorted(base)
    for _ in range(data.draw(st.integers(min_value=0, max_value=3), label="changes")):
        action = data.draw(st.sampled_from(["drop", "replace", "nested", "add"]))
        key = data.draw(st.sampled_from(keys))
        if action == "drop":
            out.pop(key, None)
        elif action == "replace":
            out[key] = data.draw(TREES)
        elif action == "nested" and isinstance(out.get(key), dict) and out[key]:
            inner = data.draw(st.sampled_from(sorted(out[key])))
            out[key][inner] = data.draw(TREES)
        else:
            out[data.draw(st.text(min_size=1, max_size=6))] = data.draw(TREES)
    return out


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def small_enough(config: Any) -> bool:
    """Skip valid configs that would schedule thousands of episodes (not what is tested)."""
    if not isinstance(config, dict):
        return True
    repeats = config.get("repeats", 1)
    return not (isinstance(repeats, int) and repeats > 5)


def check_outcome(result: Any, before: dict[str, bytes], root: Path, kind: str) -> None:
    CASES[f"{kind} (exit {result.exit_code})"] += 1
    output = str(result.output) + str(getattr(result, "stderr", "") or "")
    assert result.exit_code in (0, 2), (result.exit_code, output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in output
    if result.exit_code == 2:
        assert "error:" in output
        assert files(root) == before, f"files written on failure: {output}"


def dump(path: Path, data: Any) -> Path:
    if path.suffix == ".jsonl":
        items = data if isinstance(data, list) else [data]
        path.write_text("".join(json.dumps(item, allow_nan=True) + "\n" for item in items))
    else:
        path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


@FUZZ
@given(data=st.data())
def test_run_configs(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    root = tmp_path_factory.mktemp("run")
    config = draw_mutated(data, BASE_RUN)
    if not small_enough(config):
        return
    # never the embedded model (a dropped `models` would mean it): this is about input
    config.setdefault("models", {"local": BASE_RUN["models"]["echo"]})
    path = dump(root / "config.yaml", config)
    before = files(root)
    result = runner.invoke(app, ["run", str(path)])
    check_outcome(result, before, root, "run config")


PERSONA = {"name": "ann", "label": "a nurse", "background": "works nights", "verbosity": 0.3}
TASK = {"id": "t1", "goal": "how much flour for 10 people?", "check": {"type": "numeric",
        "value": 750}}  # fmt: skip


@FUZZ
@given(data=st.data(), suffix=st.sampled_from([".yaml", ".jsonl"]))
def test_persona_and_task_files(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, suffix: str
) -> None:
    root = tmp_path_factory.mktemp("files")
    which = data.draw(st.sampled_from(["personas", "tasks"]))
    base = PERSONA if which == "personas" else TASK
    content: Any = data.draw(TREES) if data.draw(st.booleans()) else [draw_mutated(data, base)]
    path = dump(root / f"{which}{suffix}", content)
    config = {**BASE_RUN, which: {"file": str(path)}}
    config_path = dump(root / "config.yaml", config)
    before = files(root)
    result = runner.invoke(app, ["run", str(config_path)])
    check_outcome(result, before, root, f"{which} file")


@pytest.fixture(scope="module")
def judged_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("judged")
    config = dump(root / "config.yaml", {**BASE_RUN, "repeats": 2, "output_dir": str(root)})
    assert runner.invoke(app, ["run", str(config)]).exit_code == 0
    return root / "fuzz"


SCRIPTED_JUDGE = {"local": {"backend": "scripted", "replies": ["A is better.\nVerdict: A"]}}
RATERS = {
    "models": SCRIPTED_JUDGE,
    "pool": [{"id": "first", "fixed": "first"}, {"id": "judge", "model": "local"}],
    "judges_per_item": 2,
}


@FUZZ
@given(data=st.data())
def test_raters_and_label_files(
    judged_run: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    root = tmp_path_factory.mktemp("raters")
    drawn = draw_mutated(data, RATERS)
    drawn.setdefault("models", SCRIPTED_JUDGE)  # never the embedded model: this is about input
    raters = dump(root / "raters.yaml", drawn)
    args = ["judge", str(judged_run), "--raters", str(raters), "--kinds", "pairwise", "--overwrite"]
    if data.draw(st.booleans(), label="with labels"):
        items = [
            {"item_id": "repeats:busy-nurse:everyday-pancakes:sharded", "verdict": "A"},
        ]
        labels = [draw_mutated(data, items[0]) for _ in range(data.draw(st.integers(1, 3)))]
        args += ["--human-labels", str(dump(root / "labels.jsonl", labels))]
    before = files(judged_run)
    result = runner.invoke(app, args)
    CASES[f"raters/labels (exit {result.exit_code})"] += 1
    output = str(result.output)
    assert result.exit_code in (0, 2), (result.exit_code, output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    if result.exit_code == 2:
        assert "error:" in output
        assert files(judged_run) == before, f"files written on failure: {output}"


def test_cases_were_run() -> None:
    """Runs last in this module: says how many generated inputs were tried."""
    print(f"fuzzed inputs: {dict(CASES)}")
    assert sum(CASES.values()) >= 3 * 50 or not CASES
