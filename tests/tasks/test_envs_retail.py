"""The retail environment over the public development data, read from the shared folder.

The data is not part of the project: these tests read it from ``../shared/data/`` next to
the repository (or from ``$SIMULACRA_TAU_RETAIL_DIR``) and are skipped when it is absent.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simulacra.errors import ConfigError, TaskWarning
from simulacra.runs import load_config
from simulacra.tasks._env_tasks import tau_retail_tasks
from simulacra.tasks.envs import (
    EnvFactory,
    Environment,
    EnvTask,
    RetailEnv,
    environments,
    failed_actions,
    load_tau_retail,
    replay,
    score_episode,
)

DATA = Path(
    os.environ.get(
        "SIMULACRA_TAU_RETAIL_DIR",
        Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tau-bench-retail-dev",
    )
)
TASKS_FILE = DATA / "retail_tasks_dev.json"
N_TASKS = len(json.loads(TASKS_FILE.read_text())) if TASKS_FILE.is_file() else 0

pytestmark = pytest.mark.skipif(
    not TASKS_FILE.is_file(),
    reason=f"retail development data not found in {DATA} (set SIMULACRA_TAU_RETAIL_DIR)",
)


@pytest.fixture(scope="module")
def retail() -> tuple[EnvFactory, list[EnvTask]]:
    return load_tau_retail(DATA)


@pytest.fixture
def factory(retail: tuple[EnvFactory, list[EnvTask]]) -> EnvFactory:
    return retail[0]


@pytest.fixture
def tasks(retail: tuple[EnvFactory, list[EnvTask]]) -> list[EnvTask]:
    return retail[1]


@pytest.fixture
def env(factory: EnvFactory) -> RetailEnv:
    made = factory()
    assert isinstance(made, RetailEnv)
    return made


def ok(env: Environment, name: str, **arguments: Any) -> Any:
    result = env.call(name, arguments)
    assert not result.startswith("Error"), result
    return json.loads(result) if result[:1] in "[{" else result


def fails(env: Environment, name: str, **arguments: Any) -> str:
    result = env.call(name, arguments)
    assert result.startswith("Error: "), result
    assert env.calls[-1].error
    return result


def find_order(env: RetailEnv, test: Callable[[dict[str, Any], dict[str, Any]], bool]) -> str:
    """The first order (by id) for which ``test(order, user)`` holds."""
    for order_id in sorted(env.state["orders"]):
        order = env.state["orders"][order_id]
        if test(order, env.state["users"][order["user_id"]]):
            return order_id
    raise AssertionError("no such order in the data")


def paid_with(order: dict[str, Any]) -> str:
    method: str = order["payment_history"][0]["payment_method_id"]
    return method


def methods(user: dict[str, Any], source: str) -> list[dict[str, Any]]:
    return [m for m in user["payment_methods"].values() if m["source"] == source]


# --------------------------------------------------------------------------- loading


def test_loader_reads_the_database_policy_and_tasks(
    factory: EnvFactory, tasks: list[EnvTask], env: RetailEnv
) -> None:
    assert len(tasks) == N_TASKS == 20
    assert env.instructions == (DATA / "retail_wiki.md").read_text(encoding="utf-8")
    assert {name: len(rows) for name, rows in env.state.items()} == {
        "users": 500,
        "orders": 1000,
        "products": 50,
    }
    assert len(env.tools()) == 16
    assert tasks[0].id == "tau-retail-dev-000" and tasks[0].suite == "tau-retail-dev"
    assert all(t.env == "tau-retail" and t.shards == () for t in tasks)
    assert tasks[0].metadata["user_id"] == "olivia_ito_3591"
    assert factory.initial_hash() == env.state_hash()


def test_private_details_come_from_the_instruction(tasks: list[EnvTask]) -> None:
    assert tasks[0].private_details == {
        "first_name": "Olivia",
        "last_name": "Ito",
        "zip": "80218",
        "order_ids": "#W5442520",
    }
    assert tasks[1].private_details["email"] == "omar.lopez1868@example.com"
    raj = next(t for t in tasks if t.metadata["user_id"] == "raj_lee_3061")
    assert raj.private_details["emails"].count("@") == 4
    emma = next(t for t in tasks if t.metadata["user_id"] == "emma_kovacs_7176")
    assert emma.private_details["order_ids"] == "#W2307204"


def test_registries_know_the_retail_environment(factory: EnvFactory) -> None:
    entry = environments.entry("tau-retail")
    loaded, tasks = entry.value(entry.validate({"data_dir": str(DATA)}))
    assert loaded.env_cls is RetailEnv and loaded.state_json == factory.state_json
    assert [t.id for t in tau_retail_tasks(DATA)] == [t.id for t in tasks]
    with pytest.raises(ValueError, match="data_dir"):
        entry.validate({})


# --------------------------------------------------------------------------- the key test


@pytest.mark.parametrize("index", range(N_TASKS))
def test_every_ground_truth_replays_and_scores_one(
    factory: EnvFactory, tasks: list[EnvTask], index: int
) -> None:
    task = tasks[index]
    env = replay(factory, task.actions, task_id=task.id)
    assert [call.result for call in env.calls if call.error] == []
    score = score_episode(factory, task, env, list(task.outputs))
    assert score.reward == 1.0 and score.hash_match and score.diff == ()
    noop = score_episode(factory, task, factory(), [])
    if any(env.calls[i].writes for i in range(len(env.calls))):
        assert noop.reward == 0.0 and not noop.hash_match and noop.diff
    else:
        assert noop.reward == 1.0


def test_a_wrong_cancellation_scores_zero_with_a_diff(
    factory: EnvFactory, tasks: list[EnvTask], env: RetailEnv
) -> None:
    task = tasks[0]  # cancel #W5442520, no longer needed
    assert task.actions[0].name == "cancel_pending_order"
    ok(env, "find_user_id_by_name_zip", first_name="Olivia", last_name="Ito", zip="80218")
    ok(env, "cancel_pending_order", order_id="#W7941031", reason="no longer needed")
    score = score_episode(factory, task, env, [])
    assert score.reward == 0.0 and not score.hash_match
    changed = {(row.key, row.field) for row in score.diff}
    assert ("#W5442520", "status") in changed and ("#W7941031", "status") in changed
    assert score.violations == ()


def test_the_wrong_cancellation_reason_scores_zero(
    factory: EnvFactory, tasks: list[EnvTask], env: RetailEnv
) -> None:
    ok(env, "cancel_pending_order", order_id="#W5442520", reason="ordered by mistake")
    score = score_episode(factory, tasks[0], env, [])
    assert score.reward == 0.0
    assert [(r.field, r.expected, r.actual) for r in score.diff] == [
        ("cancel_reason", "no longer needed", "ordered by mistake")
    ]


def test_an_authenticated_episode_has_no_policy_violations(
    factory: EnvFactory, tasks: list[EnvTask]
) -> None:
    task = tasks[1]
    env = factory()
    user = ok(env, "find_user_id_by_email", email="Omar.Lopez1868@example.com")
    assert user == "omar_lopez_3107"
    ok(env, "get_user_details", user_id=user)
    ok(env, "get_order_details", order_id="#W7273336")
    for action in task.actions:
        env.call(action.name, action.arguments)
    score = score_episode(factory, task, env, [])
    assert score.reward == 1.0 and score.violations == ()


def test_policy_violations_of_a_careless_agent(env: RetailEnv) -> None:
    ok(env, "cancel_pending_order", order_id="#W5442520", reason="no longer needed")
    ok(env, "find_user_id_by_name_zip", first_name="olivia", last_name="ITO", zip="80218")
    ok(env, "get_order_details", order_id="#W7273336")  # Omar Lopez's order
    ok(env, "find_user_id_by_email", email="omar.lopez1868@example.com")
    assert [(v.rule, v.call_index) for v in env.check_policy()] == [
        ("authenticate-before-write", 0),
        ("own-records-only", 2),
        ("one-user-per-conversation", 3),
    ]


# --------------------------------------------------------------------------- read tools


def test_lookups(env: RetailEnv) -> None:
    assert (
        ok(env, "find_user_id_by_email", email="harper.moore2816@example.com")
        == "harper_moore_3210"
    )
    assert "user not found" in fails(env, "find_user_id_by_email", email="nobody@example.com")
    assert "user not found" in fails(
        env, "find_user_id_by_name_zip", first_name="Olivia", last_name="Ito", zip="00000"
    )
    user = ok(env, "get_user_details", user_id="olivia_ito_3591")
    assert "#W5442520" in user["orders"]
    assert "user not found" in fails(env, "get_user_details", user_id="nobody_1")
    order = ok(env, "get_order_details", order_id="#W5442520")
    assert order["user_id"] == "olivia_ito_3591"
    assert fails(env, "get_order_details", order_id="W5442520") == "Error: order not found"
    types = ok(env, "list_all_product_types")
    assert len(types) == 50 and list(types) == sorted(types)
    product_id = types["T-Shirt"]
    assert ok(env, "get_product_details", product_id=product_id)["name"] == "T-Shirt"
    item_id = next(iter(env.state["products"][product_id]["variants"]))
    assert "product not found" in fails(env, "get_product_details", product_id=item_id)
    assert not any(call.writes for call in env.calls)


def test_utilities(env: RetailEnv) -> None:
    before = env.state_hash()
    assert ok(env, "calculate", expression="(19.99 + 5) * 2") == "49.98"
    assert ok(env, "calculate", expression="-10 / 4") == "-2.5"
    assert ok(env, "calculate", expression="2 ** 10 / 3") == "341.33"
    assert fails(env, "calculate", expression="1 / 0") == "Error: division by zero"
    assert fails(env, "calculate", expression="__import__('os')") == (
        "Error: invalid characters in expression"
    )
    assert "too large" in fails(env, "calculate", expression="9 ** 9 ** 9")
    assert fails(env, "calculate", expression="(1 +").startswith("Error: '(' was never closed")
    assert env.call("think", {"thought": "hmm"}) == ""
    assert not env.stopped
    assert ok(env, "transfer_to_human_agents", summary="wants a coupon") == "Transfer successful"
    assert env.stopped and env.state_hash() == before


# --------------------------------------------------------------------------- cancel


def test_cancel_refunds_a_gift_card_at_once(env: RetailEnv) -> None:
    order_id = find_order(
        env, lambda o, u: o["status"] == "pending" and paid_with(o).startswith("gift_card")
    )
    order = env.state["orders"][order_id]
    user = env.state["users"][order["user_id"]]
    card = user["payment_methods"][paid_with(order)]
    balance, total = card["balance"], order["payment_history"][0]["amount"]
    result = ok(env, "cancel_pending_order", order_id=order_id, reason="ordered by mistake")
    assert result["status"] == "cancelled" and result["cancel_reason"] == "ordered by mistake"
    assert result["payment_history"][-1] == {
        "transaction_type": "refund",
        "amount": total,
        "payment_method_id": paid_with(order),
    }
    assert card["balance"] == round(balance + total, 2)
    assert fails(env, "cancel_pending_order", order_id=order_id, reason="no longer needed") == (
        "Error: non-pending order cannot be cancelled"
    )


def test_cancel_checks_status_and_reason(env: RetailEnv) -> None:
    processed = find_order(env, lambda o, u: o["status"] == "processed")
    assert fails(env, "cancel_pending_order", order_id=processed, reason="no longer needed") == (
        "Error: non-pending order cannot be cancelled"
    )
    pending = find_order(env, lambda o, u: o["status"] == "pending")
    assert fails(env, "cancel_pending_order", order_id=pending, reason="too pricey") == (
        "Error: invalid reason"
    )
    # the agent is shown the two reasons, as the benchmark's schema shows them
    schema = next(t for t in env.tools() if t["function"]["name"] == "cancel_pending_order")
    reason = schema["function"]["parameters"]["properties"]["reason"]
    assert reason["enum"] == ["no longer needed", "ordered by mistake"]
    assert env.calls[-1].error_kind == "tool_error"


# --------------------------------------------------------------------------- modify


def test_modify_payment_moves_the_charge(env: RetailEnv) -> None:
    order_id = find_order(
        env,
        lambda o, u: (
            o["status"] == "pending"
            and paid_with(o).startswith("credit_card")
            and any(
                m["balance"] >= o["payment_history"][0]["amount"] for m in methods(u, "gift_card")
            )
        ),
    )
    order = env.state["orders"][order_id]
    user = env.state["users"][order["user_id"]]
    total = order["payment_history"][0]["amount"]
    card = next(m for m in methods(user, "gift_card") if m["balance"] >= total)
    balance = card["balance"]
    assert "should be different from the current one" in fails(
        env, "modify_pending_order_payment", order_id=order_id, payment_method_id=paid_with(order)
    )
    result = ok(
        env, "modify_pending_order_payment", order_id=order_id, payment_method_id=card["id"]
    )
    assert result["status"] == "pending"
    assert result["payment_history"][1:] == [
        {"transaction_type": "payment", "amount": total, "payment_method_id": card["id"]},
        {"transaction_type": "refund", "amount": total, "payment_method_id": paid_with(order)},
    ]
    assert card["balance"] == round(balance - total, 2)
    # a second change is refused: the history no longer holds exactly one payment
    assert "exactly one payment" in fails(
        env, "modify_pending_order_payment", order_id=order_id, payment_method_id=paid_with(order)
    )
    # cancelling then refunds every entry of the history, each to its own method
    ok(env, "cancel_pending_order", order_id=order_id, reason="no longer needed")
    history = env.state["orders"][order_id]["payment_history"]
    assert [(e["transaction_type"], e["payment_method_id"]) for e in history[3:]] == [
        ("refund", paid_with(order)),
        ("refund", card["id"]),
        ("refund", paid_with(order)),
    ]
    assert card["balance"] == balance


def test_modify_payment_needs_enough_gift_card_balance_and_own_methods(env: RetailEnv) -> None:
    order_id = find_order(
        env,
        lambda o, u: (
            o["status"] == "pending"
            and not paid_with(o).startswith("gift_card")
            and any(
                m["balance"] < o["payment_history"][0]["amount"] for m in methods(u, "gift_card")
            )
        ),
    )
    user = env.state["users"][env.state["orders"][order_id]["user_id"]]
    poor = next(
        m
        for m in methods(user, "gift_card")
        if m["balance"] < env.state["orders"][order_id]["payment_history"][0]["amount"]
    )
    before = env.state_hash()
    assert "insufficient gift card balance" in fails(
        env, "modify_pending_order_payment", order_id=order_id, payment_method_id=poor["id"]
    )
    assert "payment method not found" in fails(
        env, "modify_pending_order_payment", order_id=order_id, payment_method_id="paypal_0"
    )
    assert env.state_hash() == before


def test_modify_items_replaces_items_and_settles_the_difference(
    env: RetailEnv, tasks: list[EnvTask]
) -> None:
    action = next(t for t in tasks if t.metadata["user_id"] == "fatima_anderson_2157").actions[0]
    args = action.arguments
    order = env.state["orders"][args["order_id"]]
    old = next(i for i in order["items"] if i["item_id"] == args["item_ids"][0])
    old_price = old["price"]
    variant = env.state["products"][old["product_id"]]["variants"][args["new_item_ids"][0]]
    result = ok(env, action.name, **args)
    assert result["status"] == "pending (item modified)"
    new = next(i for i in result["items"] if i["item_id"] == variant["item_id"])
    assert new["price"] == variant["price"] and new["options"] == variant["options"]
    diff = variant["price"] - old_price  # as computed, not rounded
    entry = result["payment_history"][-1]
    assert entry == {
        "transaction_type": "payment" if diff > 0 else "refund",
        "amount": abs(diff),
        "payment_method_id": args["payment_method_id"],
    }
    # only once, and no cancel or other change afterwards
    assert fails(env, action.name, **args) == "Error: non-pending order cannot be modified"
    assert fails(
        env, "cancel_pending_order", order_id=args["order_id"], reason="no longer needed"
    ) == ("Error: non-pending order cannot be cancelled")


def test_modify_items_validates_every_pair(env: RetailEnv) -> None:
    order_id = find_order(
        env,
        lambda o, u: (
            o["status"] == "pending"
            and len({i["item_id"] for i in o["items"]}) == len(o["items"]) >= 2
        ),
    )
    order = env.state["orders"][order_id]
    first, second = order["items"][0], order["items"][1]
    method = paid_with(order)
    products = env.state["products"]
    other_variant = next(
        v["item_id"]
        for v in products[first["product_id"]]["variants"].values()
        if v["item_id"] != first["item_id"] and v["available"]
    )
    foreign = next(
        v["item_id"]
        for p in products.values()
        if p["product_id"] != first["product_id"]
        for v in p["variants"].values()
    )

    def attempt(item_ids: list[str], new_item_ids: list[str]) -> str:
        return fails(
            env,
            "modify_pending_order_items",
            order_id=order_id,
            item_ids=item_ids,
            new_item_ids=new_item_ids,
            payment_method_id=method,
        )

    assert attempt([first["item_id"]], [foreign]) == (
        f"Error: new item {foreign} not found or available"
    )
    assert attempt([first["item_id"], second["item_id"]], [other_variant]) == (
        "Error: the number of items to be exchanged should match"
    )
    assert attempt(["0000000000"], [other_variant]) == "Error: 0000000000 not found"
    assert attempt([first["item_id"]] * 2, [other_variant] * 2) == (
        f"Error: {first['item_id']} not found"
    )
    assert "payment method not found" in fails(
        env,
        "modify_pending_order_items",
        order_id=order_id,
        item_ids=[first["item_id"]],
        new_item_ids=[other_variant],
        payment_method_id="gift_card_0",
    )
    assert env.state["orders"][order_id]["status"] == "pending"
    assert all(not call.ok for call in env.calls)


def test_modify_items_can_replace_each_unit_of_a_repeated_item(env: RetailEnv) -> None:
    order_id = find_order(
        env,
        lambda o, u: (
            o["status"] == "pending" and len({i["item_id"] for i in o["items"]}) < len(o["items"])
        ),
    )
    order = env.state["orders"][order_id]
    ids = [i["item_id"] for i in order["items"]]
    repeated = dict(next(i for i in order["items"] if ids.count(i["item_id"]) > 1))
    variants = env.state["products"][repeated["product_id"]]["variants"].values()
    others = [v for v in variants if v["available"] and v["item_id"] != repeated["item_id"]]
    assert len(others) >= 2
    result = ok(
        env,
        "modify_pending_order_items",
        order_id=order_id,
        item_ids=[repeated["item_id"]] * 2,
        new_item_ids=[others[0]["item_id"], others[-1]["item_id"]],
        payment_method_id=paid_with(order),
    )
    new_ids = [i["item_id"] for i in result["items"]]
    assert repeated["item_id"] not in new_ids
    assert others[0]["item_id"] in new_ids and others[-1]["item_id"] in new_ids
    assert len(new_ids) == len(ids)


def test_modify_items_refuses_unavailable_items(env: RetailEnv) -> None:
    def has_unavailable_sibling(order: dict[str, Any], user: dict[str, Any]) -> bool:
        if order["status"] != "pending":
            return False
        item = order["items"][0]
        variants = env.state["products"][item["product_id"]]["variants"].values()
        return any(not v["available"] and v["item_id"] != item["item_id"] for v in variants)

    order_id = find_order(env, has_unavailable_sibling)
    item = env.state["orders"][order_id]["items"][0]
    unavailable = next(
        v["item_id"]
        for v in env.state["products"][item["product_id"]]["variants"].values()
        if not v["available"] and v["item_id"] != item["item_id"]
    )
    assert "not found or available" in fails(
        env,
        "modify_pending_order_items",
        order_id=order_id,
        item_ids=[item["item_id"]],
        new_item_ids=[unavailable],
        payment_method_id=paid_with(env.state["orders"][order_id]),
    )


def test_modify_address_of_order_and_user(env: RetailEnv) -> None:
    address = {
        "address1": "1 Main St",
        "address2": "",
        "city": "Springfield",
        "state": "IL",
        "country": "USA",
        "zip": "62704",
    }
    order_id = find_order(env, lambda o, u: o["status"] == "pending")
    assert (
        ok(env, "modify_pending_order_address", order_id=order_id, **address)["address"] == address
    )
    delivered = find_order(env, lambda o, u: o["status"] == "delivered")
    assert fails(env, "modify_pending_order_address", order_id=delivered, **address) == (
        "Error: non-pending order cannot be modified"
    )
    user_id = env.state["orders"][order_id]["user_id"]
    assert ok(env, "modify_user_address", user_id=user_id, **address)["address"] == address
    assert "missing required argument 'zip'" in fails(
        env,
        "modify_user_address",
        user_id=user_id,
        **{k: v for k, v in address.items() if k != "zip"},
    )


# --------------------------------------------------------------------------- delivered


def test_return_records_the_request(env: RetailEnv) -> None:
    order_id = find_order(env, lambda o, u: o["status"] == "delivered" and len(o["items"]) >= 2)
    order = env.state["orders"][order_id]
    items = [order["items"][1]["item_id"], order["items"][0]["item_id"]]
    history = list(order["payment_history"])
    result = ok(
        env,
        "return_delivered_order_items",
        order_id=order_id,
        item_ids=items,
        payment_method_id=paid_with(order),
    )
    assert result["status"] == "return requested"
    assert result["return_items"] == sorted(items)
    assert result["return_payment_method_id"] == paid_with(order)
    assert result["payment_history"] == history
    assert "non-delivered order cannot be returned" in fails(
        env,
        "return_delivered_order_items",
        order_id=order_id,
        item_ids=items[:1],
        payment_method_id=paid_with(order),
    )


def test_a_refund_goes_to_the_original_method_or_a_gift_card(env: RetailEnv) -> None:
    order_id = find_order(
        env,
        lambda o, u: (
            o["status"] == "delivered"
            and any(
                m["id"] != paid_with(o) for m in methods(u, "credit_card") + methods(u, "paypal")
            )
        ),
    )
    order = env.state["orders"][order_id]
    user = env.state["users"][order["user_id"]]
    other = next(
        m["id"]
        for m in methods(user, "credit_card") + methods(user, "paypal")
        if m["id"] != paid_with(order)
    )
    assert "either the original payment method or a gift card" in fails(
        env,
        "return_delivered_order_items",
        order_id=order_id,
        item_ids=[order["items"][0]["item_id"]],
        payment_method_id=other,
    )
    pending = find_order(env, lambda o, u: o["status"] == "pending")
    assert "non-delivered order cannot be returned" in fails(
        env,
        "return_delivered_order_items",
        order_id=pending,
        item_ids=[env.state["orders"][pending]["items"][0]["item_id"]],
        payment_method_id=paid_with(env.state["orders"][pending]),
    )


def test_exchange_records_items_and_price_difference(env: RetailEnv, tasks: list[EnvTask]) -> None:
    action = tasks[1].actions[0]
    assert action.name == "exchange_delivered_order_items"
    args = action.arguments
    order = env.state["orders"][args["order_id"]]
    old_total = sum(i["price"] for i in order["items"] if i["item_id"] in args["item_ids"])
    products = env.state["products"]
    new_total = sum(
        p["variants"][new]["price"]
        for new in args["new_item_ids"]
        for p in products.values()
        if new in p["variants"]
    )
    result = ok(env, action.name, **args)
    assert result["status"] == "exchange requested"
    assert result["exchange_items"] == sorted(args["item_ids"])
    assert result["exchange_new_items"] == sorted(args["new_item_ids"])
    assert result["exchange_payment_method_id"] == args["payment_method_id"]
    assert result["exchange_price_difference"] == round(new_total - old_total, 2)
    assert [i["item_id"] for i in result["items"]] == [i["item_id"] for i in order["items"]]


def _split_dir(tmp_path: Path, tasks: list[dict[str, Any]], name: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    for data_file in (
        "retail_db_users.json",
        "retail_db_orders.json",
        "retail_db_products.json",
        "retail_wiki.md",
    ):
        (tmp_path / data_file).symlink_to(DATA / data_file)
    (tmp_path / name).write_text(json.dumps(tasks))
    return tmp_path


def test_a_failing_ground_truth_action_is_kept_and_warned_about(tmp_path: Path) -> None:
    real = json.loads(TASKS_FILE.read_text())[0]  # cancel #W5442520
    lookups = [
        {"name": "find_user_id_by_email", "kwargs": {"email": "nobody@example.com"}},
        {"name": "get_order_details", "kwargs": {"order_id": "#W0000000"}},
        {"name": "refund_everything", "kwargs": {}},
    ]
    task = dict(real, actions=lookups + real["actions"])
    root = _split_dir(tmp_path, [task], "retail_tasks_mine.json")
    with pytest.warns(TaskWarning) as caught:
        factory, tasks = load_tau_retail(root, tasks_file="retail_tasks_mine.json")
    texts = [str(w.message) for w in caught]
    assert len(texts) == 3
    assert all("task 'tau-retail-mine-000'" in text for text in texts)
    assert "actions[0]" in texts[0] and texts[0].endswith("Error: user not found")
    assert "actions[1]" in texts[1] and texts[1].endswith("Error: order not found")
    assert texts[2].endswith("Unknown action refund_everything")
    # the replay goes on past them: the cancellation is the expected state
    env = replay(factory, tasks[0].actions)
    assert [i for i, _, _ in failed_actions(env)] == [0, 1, 2]
    assert env.state["orders"]["#W5442520"]["status"] == "cancelled"
    agent = factory()
    agent.call("cancel_pending_order", real["actions"][0]["kwargs"])
    score = score_episode(factory, tasks[0], agent, [])
    assert score.reward == 1.0 and len(score.replay_errors) == 3
    assert score.replay_errors[0] == "action 0 (find_user_id_by_email): Error: user not found"
    # without validation nothing is replayed at load, and scoring still works
    _, unchecked = load_tau_retail(root, tasks_file="retail_tasks_mine.json", validate=False)
    assert score_episode(factory, unchecked[0], factory(), []).reward == 0.0


def test_any_split_and_suite_name_through_the_config(tmp_path: Path) -> None:
    tasks = json.loads(TASKS_FILE.read_text())[:3]
    _split_dir(tmp_path / "data", tasks, "retail_tasks_test.json")
    config = tmp_path / "run.yaml"
    config.write_text(
        "name: split\ntasks:\n  tau_retail: {data_dir: data, tasks_file: retail_tasks_test.json}\n"
    )
    loaded = load_config(config).resolve_tasks()
    assert [t.id for t in loaded] == [f"tau-retail-test-{i:03d}" for i in range(3)]
    assert {t.suite for t in loaded} == {"tau-retail-test"}
    config.write_text(
        "name: split\n"
        "tasks:\n"
        "  suite:\n"
        "    - {name: tau-retail, data_dir: data, tasks_file: retail_tasks_test.json,\n"
        "       suite: my-retail}\n"
    )
    loaded = load_config(config).resolve_tasks()
    assert [t.id for t in loaded] == [f"my-retail-{i:03d}" for i in range(3)]
    assert loaded[0].metadata["environment"]["options"]["suite"] == "my-retail"
    config.write_text(
        "name: split\ntasks:\n  tau_retail: {data_dir: data, tasks_file: nope.json}\n"
    )
    with pytest.raises(ConfigError, match=r"nope\.json"):
        load_config(config).resolve_tasks()


def test_a_missing_data_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="data directory not found"):
        load_tau_retail(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="no such data file"):
        load_tau_retail(tmp_path)
