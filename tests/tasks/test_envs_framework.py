"""The environment framework: tool schemas, calls, state hashing and diffs, policy rules."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal, NotRequired, TypedDict

import pytest

import simulacra.tasks.envs as envs
from simulacra.errors import ConfigError, TaskWarning, ToolError
from simulacra.tasks.envs import (
    Action,
    EnvFactory,
    Environment,
    EnvTask,
    FunctionRule,
    OneSubjectOnly,
    OwnRecordsOnly,
    PolicyViolation,
    RequirePriorCall,
    ToolCallRecord,
    canonical_json,
    diff_states,
    failed_actions,
    missing_outputs,
    replay,
    score_episode,
    state_hash,
    tool,
    validate_tasks,
)
from simulacra.tasks.envs._schema import (
    check_value,
    compare_schemas,
    function_schema,
    parse_docstring,
)


def _owner(call: ToolCallRecord, env: Environment) -> str | None:
    if not isinstance(call.arguments, dict) or "account" not in call.arguments:
        return None
    row = env.state["accounts"].get(call.arguments["account"])
    return row["owner"] if isinstance(row, dict) else None


class Bank(Environment):
    """A toy bank used to exercise the framework."""

    name = "bank"
    tables = ("accounts",)
    stop_tools = frozenset({"hang_up"})
    policy_rules = (
        RequirePriorCall(
            id="login-first",
            description="Log in before moving money.",
            prerequisites=frozenset({"login"}),
        ),
        OwnRecordsOnly(
            id="own-accounts",
            description="Only the logged-in owner's accounts.",
            auth_tools=frozenset({"login"}),
            subject_of=_owner,
        ),
        OneSubjectOnly(id="one-owner", description="One owner.", auth_tools=frozenset({"login"})),
    )

    @tool
    def login(self, owner: str) -> str:
        """Log an owner in.

        Args:
            owner: The owner's name.
        """
        if owner not in {a["owner"] for a in self.state["accounts"].values()}:
            raise ToolError("no such owner")
        return owner

    @tool
    def balance(self, account: str) -> dict[str, Any]:
        """Show an account.

        Args:
            account: The account id.
        """
        return self.row("accounts", account, what="account")

    @tool(writes=True)
    def deposit(self, account: str, amount: float, note: str | None = None) -> dict[str, Any]:
        """Add money to an account.

        Args:
            account: The account id.
            amount: How much to add,
                in dollars.
            note: An optional memo.
        """
        row = self.row("accounts", account, what="account")
        if amount <= 0:
            raise ToolError("amount must be positive")
        row["balance"] = round(row["balance"] + amount, 2)
        if note:
            row["note"] = note
        return row

    @tool(writes=True)
    def broken_transfer(self, account: str) -> str:
        """Changes the state, then fails with a bug.

        Args:
            account: The account id.
        """
        self.state["accounts"][account]["balance"] = 0
        raise KeyError("oops")

    @tool(writes=True)
    def half_done(self, account: str) -> str:
        """Changes the state, then refuses.

        Args:
            account: The account id.
        """
        self.state["accounts"][account]["balance"] = -1
        raise ToolError("refused after all")

    @tool
    def kinds(
        self,
        flag: bool,
        count: int,
        tags: list[str],
        mode: Literal["a", "b"] = "a",
        extra: dict[str, int] | None = None,
    ) -> str:
        """Take one of each kind of parameter.

        Args:
            flag: A boolean.
            count: An integer.
            tags: Some strings.
            mode: One of two modes.
            extra: Named numbers.
        """
        return "ok"

    @tool
    def hang_up(self) -> None:
        """End the call."""

    @tool
    def opaque(self) -> object:
        """Return something JSON cannot carry."""
        return object()


STATE = {
    "accounts": {
        "a1": {"owner": "ann", "balance": 10.0},
        "b1": {"owner": "bob", "balance": 5.0},
    }
}


@pytest.fixture
def bank() -> Bank:
    return Bank(STATE)


def _function(env: Environment, name: str) -> dict[str, Any]:
    for schema in env.tools():
        if schema["function"]["name"] == name:
            function: dict[str, Any] = schema["function"]
            return function
    raise AssertionError(name)


# --------------------------------------------------------------------------- schemas


def test_tools_are_generated_in_openai_format(bank: Bank) -> None:
    tools = bank.tools()
    assert [t["function"]["name"] for t in tools] == [
        "login",
        "balance",
        "deposit",
        "broken_transfer",
        "half_done",
        "kinds",
        "hang_up",
        "opaque",
    ]
    assert all(t["type"] == "function" for t in tools)
    deposit = _function(bank, "deposit")
    assert deposit["description"] == "Add money to an account."
    params = deposit["parameters"]
    assert params["type"] == "object"
    assert params["required"] == ["account", "amount"]
    assert params["additionalProperties"] is False
    assert params["properties"]["amount"] == {
        "type": "number",
        "description": "How much to add, in dollars.",
    }
    assert params["properties"]["note"]["type"] == ["string", "null"]
    assert params["properties"]["note"]["default"] is None


def test_schema_types_cover_json_kinds(bank: Bank) -> None:
    props = _function(bank, "kinds")["parameters"]["properties"]
    assert props["flag"]["type"] == "boolean"
    assert props["count"]["type"] == "integer"
    assert props["tags"] == {
        "type": "array",
        "items": {"type": "string"},
        "description": "Some strings.",
    }
    assert props["mode"]["enum"] == ["a", "b"]
    assert props["mode"]["default"] == "a"
    assert props["extra"]["anyOf"][0] == {
        "type": "object",
        "additionalProperties": {"type": "integer"},
    }
    assert _function(bank, "hang_up")["parameters"]["properties"] == {}


def test_tools_returns_copies(bank: Bank) -> None:
    bank.tools()[0]["function"]["name"] = "changed"
    assert bank.tools()[0]["function"]["name"] == "login"


def test_parse_docstring_handles_sections_and_continuations() -> None:
    description, params = parse_docstring(
        """Summary line.

        Second paragraph.

        Args:
            first (str): Text that
                continues here.
            second: Other.

        Returns:
            ignored: not a parameter.
        """
    )
    assert description == "Summary line.\n\nSecond paragraph."
    assert params == {"first": "Text that continues here.", "second": "Other."}


def test_a_parameter_without_description_fails_at_class_creation() -> None:
    with pytest.raises(ConfigError, match=r"tool 'lookup'.*'key' is not described"):

        class Broken(Environment):
            @tool
            def lookup(self, key: str) -> str:
                """Look something up."""
                return key


def test_a_parameter_without_type_hint_fails_at_class_creation() -> None:
    with pytest.raises(ConfigError, match=r"tool 'lookup'.*no type hint"):

        class Broken(Environment):
            @tool
            def lookup(self, key) -> str:  # type: ignore[no-untyped-def]
                """Look something up.

                Args:
                    key: The key.
                """
                return str(key)


def test_a_docstring_naming_unknown_parameters_fails() -> None:
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['other'\]"):

        class Broken(Environment):
            @tool
            def lookup(self, key: str) -> str:
                """Look something up.

                Args:
                    key: The key.
                    other: Not a parameter.
                """
                return key


def test_a_declared_schema_that_matches_is_used() -> None:
    declared = {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Find a key (declared).",
            "parameters": {
                "type": "object",
                "properties": {
                    "key": {"type": "string", "description": "declared text"},
                    "limit": {"type": "integer"},
                },
                "required": ["key"],
            },
        },
    }

    class Declared(Environment):
        @tool(schema=declared)
        def lookup(self, key: str, limit: int = 3) -> str:
            """Look something up.

            Args:
                key: The key.
                limit: At most this many.
            """
            return key * limit

    env = Declared({})
    assert env.tools() == [declared]
    assert env.call("lookup", {"key": "x", "limit": 2}) == "xx"


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        (
            {"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]},
            "parameter 'limit' of the function is not declared",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "key": {"type": "string"},
                    "limit": {"type": "integer"},
                    "sort": {"type": "boolean"},
                },
                "required": ["key"],
            },
            "declared parameter 'sort' is not a parameter of the function",
        ),
        (
            {
                "type": "object",
                "properties": {"key": {"type": "integer"}, "limit": {"type": "integer"}},
                "required": ["key"],
            },
            "key: declared type ['integer'] but the function takes ['string']",
        ),
        (
            {
                "type": "object",
                "properties": {"key": {"type": "string"}, "limit": {"type": "integer"}},
                "required": [],
            },
            "parameter 'key' is required but declared optional",
        ),
        (
            {
                "type": "object",
                "properties": {"key": {"type": "string"}, "limit": {"type": "integer"}},
                "required": ["key", "limit"],
            },
            "parameter 'limit' is declared required but has a default",
        ),
    ],
)
def test_a_mismatched_declared_schema_names_tool_and_mismatch(
    parameters: dict[str, Any], problem: str
) -> None:
    declared = {"name": "lookup", "parameters": parameters}
    with pytest.raises(ConfigError) as info:

        class Declared(Environment):
            @tool(schema=declared)
            def lookup(self, key: str, limit: int = 3) -> str:
                """Look something up.

                Args:
                    key: The key.
                    limit: At most this many.
                """
                return key

    message = str(info.value)
    assert "tool 'lookup'" in message
    assert problem in message


def test_declared_schemas_from_a_file_are_checked_when_the_factory_is_made() -> None:
    good = _function(Bank(STATE), "login")
    factory = EnvFactory.from_state(
        Bank, STATE, declared_schemas=[{"type": "function", "function": good}]
    )
    assert factory().tools()[0]["function"] == good

    wrong_name = {"name": "withdraw", "parameters": {"type": "object", "properties": {}}}
    with pytest.raises(ConfigError, match="declared tool 'withdraw' is not implemented"):
        EnvFactory.from_state(Bank, STATE, declared_schemas=[wrong_name])

    wrong_type = {
        "name": "deposit",
        "parameters": {
            "type": "object",
            "properties": {
                "account": {"type": "string"},
                "amount": {"type": "string"},
                "note": {"type": ["string", "null"]},
            },
            "required": ["account", "amount"],
        },
    }
    with pytest.raises(ConfigError, match=r"tool 'deposit'.*amount: declared type"):
        EnvFactory.from_state(Bank, STATE, declared_schemas=[wrong_type])


def test_compare_schemas_checks_array_items_and_enums() -> None:
    actual = {
        "type": "object",
        "properties": {
            "ids": {"type": "array", "items": {"type": "string"}},
            "mode": {"type": "string", "enum": ["a", "b"]},
        },
        "required": ["ids", "mode"],
    }
    declared = {
        "type": "object",
        "properties": {
            "ids": {"type": "array", "items": {"type": "integer"}},
            "mode": {"type": "string", "enum": ["a", "c"]},
        },
        "required": ["ids", "mode"],
    }
    problems = compare_schemas(declared, actual)
    assert any(p.startswith("ids[]: declared type") for p in problems)
    assert any(p.startswith("mode: declared values") for p in problems)
    assert compare_schemas(actual, actual) == []


# --------------------------------------------------------------------------- calls


def test_a_successful_call_returns_json_and_is_logged(bank: Bank) -> None:
    result = bank.call("deposit", '{"account": "a1", "amount": 2.5}')
    assert json.loads(result) == {"owner": "ann", "balance": 12.5}
    assert bank.state["accounts"]["a1"]["balance"] == 12.5
    (record,) = bank.calls
    assert record == ToolCallRecord(
        index=0,
        name="deposit",
        arguments={"account": "a1", "amount": 2.5},
        result=result,
        error=False,
        error_kind=None,
        writes=True,
    )
    assert record.to_dict()["error"] is False


def test_an_int_is_accepted_for_a_number(bank: Bank) -> None:
    assert not bank.call("deposit", {"account": "a1", "amount": 2}).startswith("Error")


@pytest.mark.parametrize(
    ("name", "arguments", "kind", "fragment"),
    [
        ("withdraw", "{}", "unknown_tool", "unknown tool 'withdraw'"),
        ("deposit", "{not json", "bad_arguments", "not valid JSON"),
        ("deposit", "[1, 2]", "bad_arguments", "must be a JSON object"),
        ("deposit", {"account": "a1"}, "bad_arguments", "missing required argument 'amount'"),
        ("deposit", {"account": "a1", "amount": "5"}, "bad_arguments", "amount: expected a number"),
        ("deposit", {"account": 1, "amount": 5}, "bad_arguments", "account: expected a string"),
        (
            "deposit",
            {"account": "a1", "amount": 1, "x": 1},
            "bad_arguments",
            "unexpected argument 'x'",
        ),
        ("kinds", {"flag": 1, "count": 1, "tags": []}, "bad_arguments", "flag: expected a boolean"),
        (
            "kinds",
            {"flag": True, "count": True, "tags": []},
            "bad_arguments",
            "count: expected an integer",
        ),
        (
            "kinds",
            {"flag": True, "count": 1, "tags": [1]},
            "bad_arguments",
            "tags[0]: expected a string",
        ),
        (
            "kinds",
            {"flag": True, "count": 1, "tags": [], "mode": "z"},
            "bad_arguments",
            "'z' is not one of",
        ),
        ("deposit", {"account": "zz", "amount": 1}, "tool_error", "account not found: 'zz'"),
        ("deposit", {"account": "a1", "amount": -1}, "tool_error", "amount must be positive"),
        ("opaque", {}, "internal", "internal error in tool opaque: TypeError"),
        (
            "broken_transfer",
            {"account": "a1"},
            "internal",
            "internal error in tool broken_transfer: KeyError",
        ),
    ],
)
def test_failures_come_back_as_error_results(
    bank: Bank, name: str, arguments: Any, kind: str, fragment: str
) -> None:
    before = bank.state_hash()
    result = bank.call(name, arguments)
    assert result.startswith("Error: ")
    assert fragment in result
    (record,) = bank.calls
    assert record.error and record.error_kind == kind and record.result == result
    assert bank.state_hash() == before


def test_a_failed_write_is_rolled_back(bank: Bank) -> None:
    assert bank.call("half_done", {"account": "a1"}) == "Error: refused after all"
    assert bank.state["accounts"]["a1"]["balance"] == 10.0


def test_empty_arguments_mean_no_arguments(bank: Bank) -> None:
    assert bank.call("hang_up", "") == ""
    assert bank.call("hang_up", None) == ""
    assert bank.stopped


def test_optional_arguments(bank: Bank) -> None:
    result = json.loads(bank.call("deposit", {"account": "b1", "amount": 1, "note": "gift"}))
    assert result["note"] == "gift"
    assert not bank.call("deposit", {"account": "b1", "amount": 1, "note": None}).startswith("Err")
    assert bank.call("kinds", {"flag": True, "count": 0, "tags": ["x"], "extra": {"a": 1}}) == "ok"


def test_arguments_passed_as_a_dict_are_not_aliased(bank: Bank) -> None:
    arguments: dict[str, Any] = {"account": "a1", "amount": 1}
    bank.call("deposit", arguments)
    arguments["amount"] = 99
    assert bank.calls[0].arguments == {"account": "a1", "amount": 1}


def test_check_value_reports_nested_problems() -> None:
    schema = {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"type": "integer"}}},
        "required": ["items"],
        "additionalProperties": False,
    }
    assert check_value({"items": [1, "2"]}, schema) == [
        'items[1]: expected an integer, got string "2"'
    ]
    assert check_value({"items": [1]}, schema) == []


# --------------------------------------------------------------------------- state


def test_state_hash_is_sha256_of_canonical_json(bank: Bank) -> None:
    text = json.dumps(STATE, sort_keys=True, separators=(",", ":"))
    assert bank.state_hash() == hashlib.sha256(text.encode()).hexdigest()
    reordered = {
        "accounts": {
            "b1": {"balance": 5.0, "owner": "bob"},
            "a1": {"balance": 10.0, "owner": "ann"},
        }
    }
    assert state_hash(reordered) == bank.state_hash()
    assert canonical_json({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'


def test_the_environment_copies_its_initial_state() -> None:
    state = json.loads(json.dumps(STATE))
    env = Bank(state)
    env.call("deposit", {"account": "a1", "amount": 1})
    assert state["accounts"]["a1"]["balance"] == 10.0


def test_snapshot_is_independent(bank: Bank) -> None:
    snap = bank.snapshot()
    bank.call("deposit", {"account": "a1", "amount": 1})
    assert snap["accounts"]["a1"]["balance"] == 10.0
    assert state_hash(snap) != bank.state_hash()


def test_diff_lists_changed_fields_and_rows(bank: Bank) -> None:
    expected = Bank(STATE)
    bank.call("deposit", {"account": "a1", "amount": 1, "note": "n"})
    bank.state["accounts"]["c1"] = {"owner": "cy", "balance": 0}
    rows = bank.diff(expected)
    assert [(r.table, r.key, r.field, r.expected, r.actual) for r in rows] == [
        ("accounts", "a1", "balance", 10.0, 11.0),
        ("accounts", "a1", "note", None, "n"),
        ("accounts", "c1", None, None, {"owner": "cy", "balance": 0}),
    ]
    assert rows[0].to_dict() == {
        "table": "accounts",
        "key": "a1",
        "field": "balance",
        "expected": 10.0,
        "actual": 11.0,
    }
    assert bank.diff(bank.snapshot()) == []


def test_diff_sees_nested_and_type_only_changes() -> None:
    expected = {"t": {"k": {"a": {"b": 1, "c": [1]}}}}
    actual = {"t": {"k": {"a": {"b": 1.0, "c": [2]}}}, "u": {}}
    rows = diff_states(expected, actual)
    assert [(r.table, r.key, r.field) for r in rows] == [("t", "k", "a.b"), ("t", "k", "a.c")]


def test_the_state_must_have_the_declared_tables() -> None:
    with pytest.raises(ConfigError, match="lacks table"):
        Bank({"other": {}})
    with pytest.raises(ConfigError, match="must map table names"):
        Bank({"accounts": []})  # type: ignore[dict-item]


# --------------------------------------------------------------------------- policy


def test_policy_rules_find_violations(bank: Bank) -> None:
    bank.call("deposit", {"account": "a1", "amount": 1})  # before login
    bank.call("balance", {"account": "b1"})  # read before login
    bank.call("login", {"owner": "ann"})
    bank.call("deposit", {"account": "a1", "amount": 1})  # fine
    bank.call("deposit", {"account": "b1", "amount": 1})  # someone else's
    bank.call("login", {"owner": "bob"})  # second person
    found = bank.check_policy()
    assert [(v.rule, v.call_index) for v in found] == [
        ("login-first", 0),
        ("own-accounts", 1),
        ("own-accounts", 4),
        ("one-owner", 5),
    ]
    assert "before any successful login" in found[0].message
    assert found[0].to_dict()["tool"] == "deposit"


def test_failed_calls_do_not_count_for_or_against_policy(bank: Bank) -> None:
    bank.call("login", {"owner": "nobody"})
    bank.call("deposit", {"account": "a1", "amount": -5})
    assert bank.check_policy() == []
    bank.call("deposit", {"account": "a1", "amount": 5})
    assert [v.rule for v in bank.check_policy()] == ["login-first"]


def test_function_rule_wraps_a_plain_function(bank: Bank) -> None:
    def at_most_one_deposit(calls: Any, env: Environment) -> list[str | PolicyViolation]:
        count = sum(1 for c in calls if c.name == "deposit" and c.ok)
        return ["more than one deposit"] if count > 1 else []

    rule = FunctionRule(id="one-deposit", description="One deposit.", func=at_most_one_deposit)
    assert isinstance(rule, envs.PolicyRule)
    bank.call("deposit", {"account": "a1", "amount": 1})
    assert rule.check(bank.calls, bank) == []
    bank.call("deposit", {"account": "a1", "amount": 1})
    assert rule.check(bank.calls, bank) == [
        PolicyViolation(rule="one-deposit", message="more than one deposit")
    ]


# --------------------------------------------------------------------------- tasks


def _bank_task(actions: list[dict[str, Any]], **extra: Any) -> EnvTask:
    return EnvTask.model_validate(
        {
            "id": "t1",
            "suite": "toy",
            "env": "bank",
            "instruction": "Do it.",
            "actions": actions,
            **extra,
        }
    )


def test_validate_tasks_names_the_task_and_the_problem() -> None:
    factory = EnvFactory.from_state(Bank, STATE)
    validate_tasks(
        factory, [_bank_task([{"name": "deposit", "kwargs": {"account": "a1", "amount": 1}}])]
    )
    cases = [
        ([{"name": "withdraw", "arguments": {}}], "unknown tool 'withdraw'"),
        ([{"name": "deposit", "arguments": {"account": "a1"}}], "missing required argument"),
        ([{"name": "deposit", "arguments": {"account": "zz", "amount": 1}}], "account not found"),
    ]
    for actions, fragment in cases:
        # a failing ground-truth action is kept (as the public benchmarks keep theirs):
        # a warning naming the task, the action and the error, not a refusal
        with pytest.warns(TaskWarning) as caught:
            notes = validate_tasks(factory, [_bank_task(actions)], source="tasks.json")
        assert [str(w.message) for w in caught] == notes and len(notes) == 1
        assert notes[0].startswith("tasks.json: tasks[0].actions[0]: task 't1'")
        assert fragment in notes[0]
    replayed = replay(
        factory,
        [
            Action(name="withdraw"),
            Action(name="deposit", arguments={"account": "a1", "amount": 1}),
        ],
    )
    assert [(i, name) for i, name, _ in failed_actions(replayed)] == [(0, "withdraw")]
    assert replayed.state["accounts"]["a1"]["balance"] == STATE["accounts"]["a1"]["balance"] + 1
    with pytest.raises(ConfigError, match="duplicate task id 't1'"):
        validate_tasks(factory, [_bank_task([]), _bank_task([])])
    with pytest.raises(ConfigError, match="for environment 'shop'"):
        validate_tasks(factory, [_bank_task([]).model_copy(update={"env": "shop"})])


def test_score_episode_compares_hashes_and_outputs() -> None:
    factory = EnvFactory.from_state(Bank, STATE)
    task = _bank_task(
        [{"name": "deposit", "arguments": {"account": "a1", "amount": 1}}],
        outputs=["11,000 Dollars"],
    )
    env = factory()
    env.call("login", {"owner": "ann"})
    env.call("deposit", {"account": "a1", "amount": 1})
    score = score_episode(factory, task, env, ["Done: your balance is 11000 dollars."])
    assert score.reward == 1.0 and score.success and score.hash_match
    assert score.diff == () and score.violations == () and score.missing_outputs == ()
    assert score.expected_hash == score.actual_hash == env.state_hash()

    unsaid = score_episode(factory, task, env, ["Done."])
    assert unsaid.reward == 0.0 and unsaid.hash_match
    assert unsaid.missing_outputs == ("11,000 Dollars",)

    wrong = factory()
    wrong.call("deposit", {"account": "b1", "amount": 1})
    bad = score_episode(factory, task, wrong, ["11000 dollars"])
    assert bad.reward == 0.0 and not bad.hash_match
    assert {(r.key, r.field) for r in bad.diff} == {("a1", "balance"), ("b1", "balance")}
    assert [v.rule for v in bad.violations] == ["login-first"]
    assert json.loads(json.dumps(bad.to_dict()))["diff"][0]["table"] == "accounts"


def test_missing_outputs_ignores_case_and_commas() -> None:
    assert missing_outputs(["1,234.5", "Yes"], ["it is 1234.5", "YES"]) == []
    assert missing_outputs(["abc"], ["a", "bc"]) == ["abc"]


def test_actions_accept_kwargs_or_arguments() -> None:
    assert Action.model_validate({"name": "x", "kwargs": {"a": 1}}).arguments == {"a": 1}
    assert Action.model_validate({"name": "x", "arguments": {"a": 1}}).arguments == {"a": 1}
    with pytest.raises(ValueError, match="extra"):
        Action.model_validate({"name": "x", "other": 1})


def test_load_env_tasks_reports_file_and_field(tmp_path: Any) -> None:
    path = tmp_path / "tasks.json"
    path.write_text(
        json.dumps({"tasks": [{"id": "a", "instruction": "x", "actions": [{"name": 3}]}]})
    )
    with pytest.raises(ConfigError) as info:
        envs.load_env_tasks(path, suite="s", env="bank")
    assert info.value.source == str(path)
    assert info.value.field is not None and info.value.field.startswith("tasks[0].actions.0.name")
    path.write_text("{oops")
    with pytest.raises(ConfigError, match="invalid JSON"):
        envs.load_env_tasks(path)
    with pytest.raises(ConfigError, match="no such task file"):
        envs.load_env_tasks(tmp_path / "missing.json")
    tasks = envs.load_env_tasks([{"id": "a", "instruction": "x"}], suite="s", env="bank")
    assert tasks[0].suite == "s" and tasks[0].actions == () and tasks[0].shards == ()


def test_exported_names_are_all_public_and_importable() -> None:
    public = {n for n in dir(envs) if not n.startswith("_")} - {"annotations"}
    modules = {n for n in public if type(getattr(envs, n)).__name__ == "module"}
    assert set(envs.__all__) == public - modules
    for name in envs.__all__:
        assert getattr(envs, name) is not None


class _Leg(TypedDict):
    """A flight.

    Attributes:
        number: The flight number.
        date: The date.
    """

    number: str
    date: NotRequired[str]


class _Undescribed(TypedDict):
    """No attributes described."""

    number: str


def test_a_typed_dict_parameter_becomes_a_nested_object_schema() -> None:
    def plan(self: object, legs: list[_Leg], first: _Leg | None = None) -> str:
        """Plan a trip.

        Args:
            legs: The flights.
            first: The first flight.
        """
        return ""

    _, schema = function_schema(plan, name="plan", skip_first=True)
    item = schema["properties"]["legs"]["items"]
    assert item == {
        "type": "object",
        "properties": {
            "number": {"type": "string", "description": "The flight number."},
            "date": {"type": "string", "description": "The date."},
        },
        "required": ["number"],
    }
    assert schema["properties"]["first"]["anyOf"][0] == item
    assert check_value({"legs": [{"number": "A1", "extra": 1}]}, schema) == []
    assert check_value({"legs": [{"date": "x"}]}, schema) == ["legs[0]: missing field 'number'"]

    def bad(self: object, leg: _Undescribed) -> str:
        """Bad.

        Args:
            leg: A flight.
        """
        return ""

    with pytest.raises(ConfigError, match="field 'number' is not described in 'Attributes:'"):
        function_schema(bad, name="bad", skip_first=True)
