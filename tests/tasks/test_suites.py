"""The ``numeric`` and ``code`` task suites: complete, sharded, and checked by their own data.

The code checks run the reference and the naive solutions in the real sandbox.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from simulacra.errors import ConfigError
from simulacra.tasks import (
    JudgedCheck,
    NumericCheck,
    Task,
    UnitTestCheck,
    checkable_items,
    load_tasks,
    parse_tasks,
)
from simulacra.tasks import suite_tasks as load_suite

MIN_TASKS = 25
MAX_TURNS = {"numeric": 8, "code": 10}


@cache
def suite(name: str) -> tuple[Task, ...]:
    return tuple(load_suite(name))


def _passed_cases(extracted: object) -> int:
    match = re.match(r"(\d+)/(\d+) tests passed", str(extracted))
    return int(match[1]) if match else 0


@pytest.mark.parametrize("name", ["numeric", "code"])
def test_suite_loads_with_enough_uniquely_named_tasks(name: str) -> None:
    tasks = suite(name)
    assert len(tasks) >= MIN_TASKS
    assert len({task.id for task in tasks}) == len(tasks)
    assert all(task.suite == name for task in tasks)


@pytest.mark.parametrize("name", ["numeric", "code"])
def test_every_task_has_goal_facts_instruction_and_shards(name: str) -> None:
    for task in suite(name):
        assert task.instruction, task.id
        assert 1 <= len(task.facts) <= 4, task.id
        assert task.shards[0] == task.goal, task.id
        assert len(task.shards) == len(task.facts) + 1, task.id
        assert task.max_turns == MAX_TURNS[name], task.id
        assert task.reference, task.id


@pytest.mark.parametrize("name", ["numeric", "code"])
def test_shards_cover_the_instruction(name: str) -> None:
    """Loading already ran the validator; running it again on a fresh copy must pass too."""
    for task in suite(name):
        assert checkable_items(task.full_instruction()), task.id
        Task.model_validate(task.model_dump())


@pytest.mark.parametrize("name", ["numeric", "code"])
def test_numbers_in_facts_appear_in_the_instruction(name: str) -> None:
    for task in suite(name):
        for fact in task.facts:
            if fact.mention_keys():
                assert fact.mentioned_in(task.full_instruction()), (task.id, fact.text)


def test_numeric_references_pass_and_wrong_answers_fail() -> None:
    for task in suite("numeric"):
        assert isinstance(task.check, NumericCheck), task.id
        value = task.check.value
        assert task.evaluate(task.reference).passed, task.id
        assert not task.evaluate(f"It comes to {value * 1.5 + 7:,.2f}.").passed, task.id
        assert not task.evaluate(f"That's {value * 0.8:.2f} in total.").passed, task.id
        assert not task.evaluate("I'm not sure, sorry.").passed, task.id


def test_numeric_tasks_do_not_give_their_answer_away() -> None:
    """No number the user says already matches the answer."""
    for task in suite("numeric"):
        assert not task.evaluate(task.full_instruction()).passed, task.id
        assert not task.evaluate(" ".join(task.shard_texts())).passed, task.id


def test_code_tasks_name_their_function_and_have_five_to_ten_asserts() -> None:
    for task in suite("code"):
        check = task.check
        assert isinstance(check, UnitTestCheck), task.id
        named = [item.split("(")[0] for item in checkable_items(task.full_instruction())]
        assert check.entry_point in named, task.id
        assert any(f"`{check.entry_point}" in shard for shard in task.shards), task.id
        asserts = [node for node in ast.parse(check.tests).body if isinstance(node, ast.Assert)]
        assert 5 <= len(asserts) <= 10, task.id
        assert task.reference.lstrip().startswith("```python"), task.id
        assert f"def {check.entry_point}(" in task.metadata["naive"], task.id


@pytest.mark.slow
def test_code_references_pass_their_tests_in_the_sandbox() -> None:
    failures = {}
    for task in suite("code"):
        result = task.check.evaluate(task.reference)
        if not result.passed:
            failures[task.id] = result.detail
    assert not failures


@pytest.mark.slow
def test_naive_solutions_fail_on_the_hidden_facts() -> None:
    """A solution written from the goal alone fails, though it gets the basics right."""
    tasks = suite("code")
    failing = 0
    for task in tasks:
        result = task.check.evaluate(f"```python\n{task.metadata['naive']}```")
        assert _passed_cases(result.extracted) >= 1, (task.id, result.detail)
        failing += not result.passed
    assert failing >= 0.8 * len(tasks)


def _as_data(task: Task) -> dict[str, object]:
    return task.model_dump(mode="json")


def test_validator_rejects_shards_that_drop_a_number() -> None:
    task = next(t for t in suite("numeric") if t.id == "car-loan-monthly-payment")
    data = _as_data(task)
    shards = list(task.shards)
    shards[1] = shards[1].replace("18,500", "some money")
    data["shards"] = shards
    with pytest.raises(ConfigError, match=r"shards do not cover .*: 18,?500"):
        parse_tasks([data], source="test")


def test_validator_rejects_shards_that_drop_the_function_name() -> None:
    task = next(t for t in suite("code") if t.id == "clean-phone-number")
    data = _as_data(task)
    data["shards"] = [task.goal.replace("`clean_phone(raw)`", "one"), *task.shards[1:]]
    with pytest.raises(ConfigError, match=r"shards do not cover .*clean_phone"):
        parse_tasks([data], source="test")


def test_extract_code_takes_the_block_that_defines_the_function() -> None:
    from simulacra.tasks._checks import extract_code

    two = "```python\ndef helper():\n    pass\n```\ntext\n```py\ndef f(x):\n    return x\n```"
    assert extract_code(two, "f") == "def f(x):\n    return x\n"
    cut = "Here it is:\n```python\ndef f(x):\n    return x\n\n# Check\ndef"
    assert extract_code(cut, "f") == "def f(x):\n    return x\n\n# Check\ndef"
    closed_then_cut = "```python\ndef g():\n    pass\n```\n```python\nimport re\ndef f(x):\n"
    assert extract_code(closed_then_cut, "f") == "import re\ndef f(x):\n"
    bare = "Sure, here you go:\nimport math\n\ndef f(x):\n    return math.sqrt(x)\n"
    assert extract_code(bare, "f") == "import math\n\ndef f(x):\n    return math.sqrt(x)\n"
    assert extract_code("def f(x): return x", "f") == "def f(x): return x"
    decorated = "Sure.\n@cache\ndef f(n):\n    return n\n"
    assert extract_code(decorated, "f") == "@cache\ndef f(n):\n    return n\n"
    assert extract_code("```python\ndef g(x):\n```", "f") is None
    assert extract_code("I would define f to return x.", "f") is None
    assert extract_code("```python\nprint(1)\n```\n```python\ndef g():", "f") is None


def test_an_answer_cut_off_inside_its_code_block_is_still_tested() -> None:
    task = next(t for t in load_suite("code") if t.id == "duration-to-minutes")
    check = task.check
    assert isinstance(check, UnitTestCheck)
    reference = str(task.reference).split("```python\n", 1)[1].split("```", 1)[0]
    code = reference + "\n# Tests\nprint(to_minutes("
    result = check.evaluate("Here you go.\n```python\n" + code)
    # the cut-off last line is the syntax error, not the prose or the fence before the code
    last = len(code.splitlines())
    assert "failed to load" in result.detail and f"line {last})" in result.detail, result.detail
    whole = check.evaluate("Here you go.\n```python\n" + reference + "\n# Tests\n")
    assert whole.passed, whole.detail


def test_the_task_file_in_docs_tasks_loads_as_the_page_describes_it(tmp_path: Path) -> None:
    """The YAML example of docs/tasks.md is a task file a user can copy."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "tasks.md").read_text()
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", page, re.S) if "suite: mine" in b]
    path = tmp_path / "mine.yaml"
    path.write_text(block)
    tip, dinner = load_tasks(path)
    assert tip.id == "tip" and [f.text for f in tip.facts][-1] == "I want to tip 20%."
    assert tip.shards[0] == "How much should I tip?"
    assert [f.request for f in dinner.facts] == [False, True, False]
    assert dinner.max_turns == 12 and isinstance(dinner.check, JudgedCheck)
