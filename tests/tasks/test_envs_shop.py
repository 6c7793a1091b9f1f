"""The built-in shop environment, its tools and its tasks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from simulacra.errors import ConfigError, TaskWarning
from simulacra.tasks import suite_tasks
from simulacra.tasks.envs import (
    SHOP_POLICY,
    EnvFactory,
    EnvTask,
    ShopEnv,
    environments,
    load_env_tasks,
    load_shop,
    replay,
    score_episode,
    shop_state,
    validate_tasks,
)

TASK_IDS = [task.id for task in load_shop(validate=False)[1]]


@pytest.fixture(scope="module")
def shop() -> tuple[EnvFactory, list[EnvTask]]:
    return load_shop()


@pytest.fixture
def factory(shop: tuple[EnvFactory, list[EnvTask]]) -> EnvFactory:
    return shop[0]


@pytest.fixture
def tasks(shop: tuple[EnvFactory, list[EnvTask]]) -> list[EnvTask]:
    return shop[1]


def _call(env: ShopEnv | Any, name: str, **arguments: Any) -> Any:
    result = env.call(name, arguments)
    assert not result.startswith("Error"), result
    return json.loads(result) if result[:1] in "[{" else result


def _error(env: ShopEnv | Any, name: str, **arguments: Any) -> str:
    result: str = env.call(name, arguments)
    assert result.startswith("Error: "), result
    return result


# --------------------------------------------------------------------------- the suite


def test_the_shop_has_about_ten_tools_and_its_policy(factory: EnvFactory) -> None:
    env = factory()
    assert 10 <= len(env.tools()) <= 12
    assert env.instructions == SHOP_POLICY
    assert factory.name == "shop" and isinstance(env, ShopEnv)


def test_there_are_at_least_25_well_formed_tasks(tasks: list[EnvTask]) -> None:
    assert len(tasks) >= 25
    assert len({t.id for t in tasks}) == len(tasks)
    for task in tasks:
        assert task.suite == "shop" and task.env == "shop"
        assert task.instruction and task.private_details
        assert task.shards and task.shards[0], task.id
    assert sum(1 for t in tasks if t.actions) >= 20
    assert any(t.outputs for t in tasks)
    assert any(len(t.actions) > 1 for t in tasks)


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_replaying_the_ground_truth_scores_one_and_doing_nothing_does_not(
    factory: EnvFactory, tasks: list[EnvTask], task_id: str
) -> None:
    task = next(t for t in tasks if t.id == task_id)
    env = replay(factory, task.actions, task_id=task.id)
    assert not any(call.error for call in env.calls)
    said = [f"Here you go: {out.upper()}" for out in task.outputs]
    assert score_episode(factory, task, env, said).reward == 1.0
    noop = score_episode(factory, task, factory(), [])
    if task.actions or task.outputs:
        assert noop.reward == 0.0
    if task.actions:
        assert not noop.hash_match and noop.diff


def test_a_wrong_action_scores_zero_with_a_diff(factory: EnvFactory, tasks: list[EnvTask]) -> None:
    task = next(t for t in tasks if t.id == "shop-001")
    env = factory()
    _call(env, "find_customer_by_email", email="maya.okafor@example.net")
    _call(env, "cancel_order", order_id="O1001", reason="changed my mind")  # wrong reason
    score = score_episode(factory, task, env, [])
    assert score.reward == 0.0
    assert any(row.table == "refunds" for row in score.diff)
    assert score.violations == ()


def test_a_full_episode_with_authentication_has_no_violations(
    factory: EnvFactory, tasks: list[EnvTask]
) -> None:
    task = next(t for t in tasks if t.id == "shop-023")
    env = factory()
    assert _call(env, "find_customer_by_phone", phone="(555) 0103") == "C003"
    _call(env, "get_order", order_id="O1007")
    for action in task.actions:
        env.call(action.name, action.arguments)
    score = score_episode(factory, task, env, [])
    assert score.reward == 1.0 and score.violations == ()


def test_policy_violations_are_reported(factory: EnvFactory) -> None:
    env = factory()
    _call(env, "cancel_order", order_id="O1001", reason="changed my mind")
    _call(env, "find_customer_by_email", email="MAYA.OKAFOR@example.net")
    _call(env, "get_order", order_id="O1004")  # Luis's order
    _call(env, "find_customer_by_email", email="luis.ferreira@example.net")
    rules = [(v.rule, v.call_index) for v in env.check_policy()]
    assert rules == [
        ("authenticate-before-write", 0),
        ("own-records-only", 2),
        ("one-customer-per-conversation", 3),
    ]


def test_registries_know_the_shop() -> None:
    entry = environments.entry("shop")
    factory, tasks = entry.value(entry.validate({}))
    assert factory.env_cls is ShopEnv and tasks
    assert [t.id for t in suite_tasks("shop")] == [t.id for t in tasks]


# --------------------------------------------------------------------------- tools


def test_lookups(factory: EnvFactory) -> None:
    env = factory()
    assert _call(env, "find_customer_by_email", email=" Kenji.W@example.net ") == "C004"
    assert "no customer" in _error(env, "find_customer_by_email", email="x@example.net")
    assert "no customer" in _error(env, "find_customer_by_phone", phone="000")
    assert _call(env, "get_customer", customer_id="c004")["orders"] == ["O1009", "O1010"]
    assert _call(env, "get_order", order_id="o1009")["total"] == 74.89
    assert "order not found" in _error(env, "get_order", order_id="O9999")
    mugs = _call(env, "search_products", query="MUG")
    assert mugs == [{"product_id": "P100", "name": "Ceramic Mug", "price": 12.5, "in_stock": True}]
    lamp = _call(env, "search_products", query="desk lamp")
    assert lamp[0]["in_stock"] is False
    assert len(_call(env, "search_products", query="")) == len(env.state["products"])


def test_cancel_refunds_restocks_and_credits_store_credit(factory: EnvFactory) -> None:
    env = factory()
    order = _call(env, "cancel_order", order_id="O1005", reason="changed my mind")
    assert order["status"] == "cancelled"
    assert env.state["customers"]["C002"]["store_credit"] == 59.5
    assert env.state["products"]["P109"]["stock"] == 8
    refund = env.state["refunds"]["RF-O1005-1"]
    assert refund["amount"] == 44.5 and refund["method"] == "store_credit"
    assert "only possible for processing orders" in _error(
        env, "cancel_order", order_id="O1005", reason="changed my mind"
    )
    assert "is shipped" in _error(env, "cancel_order", order_id="O1003", reason="changed my mind")
    assert "is not one of" in _error(env, "cancel_order", order_id="O1001", reason="because")


def test_quantity_changes(factory: EnvFactory) -> None:
    env = factory()
    order = _call(env, "update_item_quantity", order_id="O1009", product_id="P104", quantity=3)
    assert order["total"] == 94.87
    assert env.state["customers"]["C004"]["store_credit"] == 20.02
    assert env.state["products"]["P104"]["stock"] == 98
    assert "not enough store credit" in _error(
        env, "update_item_quantity", order_id="O1009", product_id="P111", quantity=2
    )
    assert "only 5 more" in _error(
        env, "update_item_quantity", order_id="O1006", product_id="P103", quantity=7
    )
    assert "already has" in _error(
        env, "update_item_quantity", order_id="O1006", product_id="P103", quantity=1
    )
    assert "cancel the order instead" in _error(
        env, "update_item_quantity", order_id="O1006", product_id="P103", quantity=0
    )
    assert "not in order" in _error(
        env, "update_item_quantity", order_id="O1006", product_id="P100", quantity=1
    )
    assert "negative" in _error(
        env, "update_item_quantity", order_id="O1006", product_id="P103", quantity=-1
    )


def test_returns(factory: EnvFactory) -> None:
    env = factory()
    refund = _call(
        env,
        "request_refund",
        order_id="O1007",
        product_ids=["P101"],
        reason="wrong item",
        method="store_credit",
    )
    assert refund == {
        "refund_id": "RF-O1007-1",
        "order_id": "O1007",
        "kind": "return",
        "items": [{"product_id": "P101", "quantity": 2}],
        "amount": 48.0,
        "method": "store_credit",
        "reason": "wrong item",
    }
    assert env.state["customers"]["C003"]["store_credit"] == 48.0
    assert "already returned" in _error(
        env,
        "request_refund",
        order_id="O1007",
        product_ids=["P101"],
        reason="damaged",
        method="store_credit",
    )
    second = _call(
        env,
        "request_refund",
        order_id="O1007",
        product_ids=["P110"],
        reason="damaged",
        method="original_payment",
    )
    assert second["refund_id"] == "RF-O1007-2"
    assert env.state["orders"]["O1007"]["status"] == "returned"
    assert "delivered orders" in _error(
        env,
        "request_refund",
        order_id="O1001",
        product_ids=["P100"],
        reason="damaged",
        method="store_credit",
    )
    assert "at least one" in _error(
        env,
        "request_refund",
        order_id="O1002",
        product_ids=[],
        reason="damaged",
        method="store_credit",
    )


def test_address_and_email_changes(factory: EnvFactory) -> None:
    env = factory()
    order = _call(
        env,
        "update_shipping_address",
        order_id="O1001",
        street=" 1 Main St ",
        city="Town",
        state="il",
        zip="12345",
    )
    assert order["shipping_address"] == {
        "street": "1 Main St",
        "city": "Town",
        "state": "IL",
        "zip": "12345",
    }
    assert "five digits" in _error(
        env, "update_shipping_address", order_id="O1001", street="x", city="y", state="IL", zip="1"
    )
    assert (
        _call(env, "update_email", customer_id="C001", email="New@Example.org")["email"]
        == "new@example.org"
    )
    assert "not an email" in _error(env, "update_email", customer_id="C001", email="nope")
    assert "already uses" in _error(
        env, "update_email", customer_id="C001", email="kenji.w@example.net"
    )


def test_transfer_stops_the_episode(factory: EnvFactory) -> None:
    env = factory()
    assert not env.stopped
    _call(env, "transfer_to_human", summary="wants a discount")
    assert env.stopped


# --------------------------------------------------------------------------- validation


def test_an_unreachable_expected_state_is_a_config_error(factory: EnvFactory) -> None:
    bad = load_env_tasks(
        [
            {
                "id": "bad-1",
                "instruction": "Cancel my shipped order.",
                "actions": [
                    {
                        "name": "cancel_order",
                        "arguments": {"order_id": "O1003", "reason": "changed my mind"},
                    }
                ],
            }
        ],
        suite="shop",
        env="shop",
    )
    with pytest.raises(ConfigError) as info:
        validate_tasks(factory, bad, strict=True)
    assert "task 'bad-1'" in str(info.value) and "is shipped" in str(info.value)
    assert info.value.field == "tasks[0].actions[0]"
    with pytest.warns(TaskWarning, match="task 'bad-1'.*is shipped"):
        validate_tasks(factory, bad)


def test_the_built_in_data_is_fresh_each_time() -> None:
    state = shop_state()
    state["customers"].clear()
    assert shop_state()["customers"]
