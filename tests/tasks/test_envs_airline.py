"""The airline environment over the public development data, read from the shared folder.

The data is not part of the project: these tests read it from ``../shared/data/`` next to
the repository (or from ``$SIMULACRA_TAU_AIRLINE_DIR``) and are skipped when it is absent.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest

from simulacra.tasks._env_tasks import suite_tasks
from simulacra.tasks.envs import (
    AirlineEnv,
    EnvFactory,
    EnvTask,
    check_declared_schema,
    environments,
    failed_actions,
    load_tau_airline,
    replay,
    score_episode,
)

DATA = Path(
    os.environ.get(
        "SIMULACRA_TAU_AIRLINE_DIR",
        Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tau-bench-airline-dev",
    )
)
TASKS_FILE = DATA / "airline_tasks_dev.json"
N_TASKS = len(json.loads(TASKS_FILE.read_text())) if TASKS_FILE.is_file() else 0

pytestmark = pytest.mark.skipif(
    not TASKS_FILE.is_file(),
    reason=f"airline development data not found in {DATA} (set SIMULACRA_TAU_AIRLINE_DIR)",
)

PASSENGER = {"first_name": "Ann", "last_name": "Lee", "dob": "1990-01-01"}


@pytest.fixture(scope="module")
def airline() -> tuple[EnvFactory, list[EnvTask]]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every development ground truth replays cleanly
        return load_tau_airline(DATA)


@pytest.fixture
def factory(airline: tuple[EnvFactory, list[EnvTask]]) -> EnvFactory:
    return airline[0]


@pytest.fixture
def tasks(airline: tuple[EnvFactory, list[EnvTask]]) -> list[EnvTask]:
    return airline[1]


@pytest.fixture
def env(factory: EnvFactory) -> AirlineEnv:
    made = factory()
    assert isinstance(made, AirlineEnv)
    return made


def ok(env: AirlineEnv, name: str, **arguments: Any) -> Any:
    result = env.call(name, arguments)
    assert not result.startswith("Error"), result
    return json.loads(result) if result[:1] in "[{" else result


def rules(env: AirlineEnv) -> list[tuple[str, int | None]]:
    return [(v.rule, v.call_index) for v in env.check_policy()]


# --------------------------------------------------------------------------- loading


def test_loader_reads_the_database_policy_and_tasks(
    factory: EnvFactory, tasks: list[EnvTask], env: AirlineEnv
) -> None:
    assert len(tasks) == N_TASKS == 25
    assert env.instructions == (DATA / "airline_wiki.md").read_text(encoding="utf-8")
    assert {name: len(rows) for name, rows in env.state.items()} == {
        "flights": 300,
        "reservations": 2000,
        "users": 500,
    }
    assert sorted(env.tool_names()) == sorted(
        [
            "book_reservation",
            "calculate",
            "cancel_reservation",
            "get_reservation_details",
            "get_user_details",
            "list_all_airports",
            "search_direct_flight",
            "search_onestop_flight",
            "send_certificate",
            "think",
            "transfer_to_human_agents",
            "update_reservation_baggages",
            "update_reservation_flights",
            "update_reservation_passengers",
        ]
    )
    assert tasks[0].id == "tau-airline-dev-000" and tasks[0].suite == "tau-airline-dev"
    assert tasks[0].private_details == {"user_id": "mia_li_3668"}
    assert sum(len(t.actions) for t in tasks) == 50 and sum(len(t.outputs) for t in tasks) == 7
    # the file's key order is what the agent reads
    user = env.call("get_user_details", {"user_id": "mia_li_3668"})
    assert user.startswith('{"name": {"first_name": "Mia", "last_name": "Li"}, "address": {')


def test_the_registry_makes_it_a_suite(tasks: list[EnvTask]) -> None:
    entry = environments.entry("tau-airline")
    with pytest.raises(ValueError, match="data_dir"):
        entry.validate({})
    suite = suite_tasks(
        "tau-airline", {"data_dir": str(DATA), "suite": "airline-mine", "max_turns": 8}
    )
    assert [t.id for t in suite] == [f"airline-mine-{i:03d}" for i in range(len(tasks))]
    assert suite[0].max_turns == 8 and suite[0].environment == "tau-airline"
    assert suite[0].metadata["instruction"] == tasks[0].instruction


# --------------------------------------------------------------------------- the key test


@pytest.mark.parametrize("index", range(N_TASKS))
def test_every_ground_truth_replays_and_scores_one(
    factory: EnvFactory, tasks: list[EnvTask], index: int
) -> None:
    task = tasks[index]
    env = replay(factory, task.actions, task_id=task.id)
    assert failed_actions(env) == []
    score = score_episode(factory, task, env, list(task.outputs))
    assert score.reward == 1.0 and score.hash_match and score.diff == ()
    noop = score_episode(factory, task, factory(), [])
    if any(call.writes and call.name != "transfer_to_human_agents" for call in env.calls):
        assert noop.reward == 0.0 and not noop.hash_match and noop.diff
    else:
        assert noop.hash_match and noop.reward == (0.0 if task.outputs else 1.0)


def test_the_ground_truths_that_break_a_coded_rule(
    factory: EnvFactory, tasks: list[EnvTask]
) -> None:
    broken = {}
    for task in tasks:
        found = replay(factory, task.actions).check_policy()
        if found:
            broken[task.id] = [v.rule for v in found]
    # task 10 cancels an uninsured economy trip booked two weeks earlier; task 19 moves
    # a DTW-LGA round trip to DTW-JFK: both against the written policy
    assert broken == {
        "tau-airline-dev-010": ["cancellation-allowed"],
        "tau-airline-dev-019": ["same-route"],
    }


def test_required_outputs_are_checked(factory: EnvFactory, tasks: list[EnvTask]) -> None:
    task = next(t for t in tasks if t.outputs == ("23553",))
    env = replay(factory, task.actions)
    assert score_episode(factory, task, env, ["The total is 23,553 dollars."]).reward == 1.0
    missing = score_episode(factory, task, env, ["The total is 23,000."])
    assert missing.reward == 0.0 and missing.missing_outputs == ("23553",)


# --------------------------------------------------------------------------- nested arguments


def test_nested_arguments_have_schemas_and_are_checked(env: AirlineEnv) -> None:
    schema = next(
        t["function"]["parameters"]
        for t in env.tools()
        if t["function"]["name"] == "book_reservation"
    )
    passengers = schema["properties"]["passengers"]
    assert passengers["type"] == "array"
    assert passengers["items"]["type"] == "object"
    assert passengers["items"]["required"] == ["first_name", "last_name", "dob"]
    assert "date of birth" in passengers["items"]["properties"]["dob"]["description"]
    payments = schema["properties"]["payment_methods"]["items"]
    assert payments["properties"]["amount"]["type"] == "number"
    assert schema["properties"]["cabin"]["enum"] == ["basic_economy", "economy", "business"]

    before = env.state_hash()
    result = env.call(
        "book_reservation",
        {
            "user_id": "mia_li_3668",
            "origin": "JFK",
            "destination": "ATL",
            "flight_type": "one_way",
            "cabin": "economy",
            "flights": [{"flight_number": "HAT136"}],
            "passengers": [{"first_name": "Ann", "last_name": "Lee"}, "Bob"],
            "payment_methods": [{"payment_id": "credit_card_4421486", "amount": "152"}],
            "total_baggages": 0,
            "nonfree_baggages": 0,
            "insurance": "no",
        },
    )
    assert result.startswith("Error: invalid arguments for book_reservation")
    assert "flights[0]: missing field 'date'" in result
    assert "passengers[0]: missing field 'dob'" in result
    assert "passengers[1]: expected an object" in result
    assert "payment_methods[0].amount: expected a number" in result
    assert env.calls[-1].error_kind == "bad_arguments" and env.state_hash() == before


def test_a_declared_nested_schema_is_checked_against_the_typed_dicts(env: AirlineEnv) -> None:
    spec = AirlineEnv.tool_specs()["update_reservation_passengers"]
    item = {
        "type": "object",
        "properties": {
            "first_name": {"type": "string"},
            "last_name": {"type": "string"},
            "dob": {"type": "string"},
        },
        "required": ["first_name", "last_name", "dob"],
    }
    declared = {
        "name": "update_reservation_passengers",
        "parameters": {
            "type": "object",
            "properties": {
                "reservation_id": {"type": "string"},
                "passengers": {"type": "array", "items": item},
            },
            "required": ["reservation_id", "passengers"],
        },
    }
    assert check_declared_schema(spec, declared)["function"]["name"] == spec.name
    wrong = json.loads(json.dumps(declared))
    wrong["parameters"]["properties"]["passengers"]["items"]["properties"]["dob"] = {
        "type": "integer"
    }
    del wrong["parameters"]["properties"]["passengers"]["items"]["properties"]["last_name"]
    with pytest.raises(Exception, match=r"passengers\[\]\.dob") as info:
        check_declared_schema(spec, wrong)
    assert "parameter passengers[].'last_name' of the function is not declared" in str(info.value)


# --------------------------------------------------------------------------- behaviour


def test_booking_pays_and_uses_up_a_certificate(env: AirlineEnv) -> None:
    user = env.state["users"]["mia_li_3668"]
    booked = ok(
        env,
        "book_reservation",
        user_id="mia_li_3668",
        origin="JFK",
        destination="ATL",
        flight_type="one_way",
        cabin="economy",
        flights=[{"flight_number": "HAT136", "date": "2024-05-20"}],
        passengers=[PASSENGER],
        payment_methods=[
            {"payment_id": "certificate_4856383", "amount": 100},
            {"payment_id": "credit_card_4421486", "amount": 52},
        ],
        total_baggages=1,
        nonfree_baggages=0,
        insurance="no",
    )
    assert booked["reservation_id"] == "HATHAT" and booked["created_at"] == "2024-05-15T15:00:00"
    assert booked["flights"] == [
        {
            "flight_number": "HAT136",
            "date": "2024-05-20",
            "price": 152,
            "origin": "JFK",
            "destination": "ATL",
        }
    ]
    assert "certificate_4856383" not in user["payment_methods"]
    assert user["reservations"][-1] == "HATHAT"
    assert rules(env) == []
    # a second booking gets the next id; paying too little is refused and changes nothing
    before = env.state_hash()
    refused = env.call(
        "book_reservation",
        dict(
            user_id="mia_li_3668",
            origin="JFK",
            destination="ATL",
            flight_type="one_way",
            cabin="economy",
            flights=[{"flight_number": "HAT136", "date": "2024-05-20"}],
            passengers=[PASSENGER],
            payment_methods=[{"payment_id": "credit_card_4421486", "amount": 100}],
            total_baggages=0,
            nonfree_baggages=0,
            insurance="yes",
        ),
    )
    assert refused == ("Error: payment amount does not add up, total price is 182, but paid 100")
    assert env.state_hash() == before


def test_coded_rules_catch_a_careless_agent(env: AirlineEnv) -> None:
    gold = env.state["users"]["mia_li_3668"]  # gold: 3 free bags per economy passenger
    ok(
        env,
        "book_reservation",
        user_id="mia_li_3668",
        origin="JFK",
        destination="ATL",
        flight_type="one_way",
        cabin="economy",
        flights=[{"flight_number": "HAT136", "date": "2024-05-20"}],
        passengers=[PASSENGER] * 6,
        payment_methods=[
            {"payment_id": "credit_card_4421486", "amount": 500},
            {"payment_id": "credit_card_1955700", "amount": 462},
        ],
        total_baggages=3,
        nonfree_baggages=1,
        insurance="no",
    )
    assert gold["membership"] == "gold"
    assert rules(env) == [("at-most-five-passengers", 0), ("payment-mix", 0), ("bag-allowance", 0)]
    # bags removed, a basic economy trip re-flown, a flown trip cancelled
    ok(
        env,
        "update_reservation_baggages",
        reservation_id="HATHAT",
        total_baggages=1,
        nonfree_baggages=1,
        payment_id="credit_card_4421486",
    )
    ok(
        env,
        "update_reservation_flights",
        reservation_id="T1QOBS",  # basic economy, JFK-MIA on May 26
        cabin="basic_economy",
        flights=[{"flight_number": "HAT060", "date": "2024-05-27"}],
        payment_id="credit_card_9875103",
    )
    ok(env, "cancel_reservation", reservation_id="I6M8JQ")  # a flight of it has landed
    ok(env, "send_certificate", user_id="olivia_jackson_4826", amount=100)  # regular member
    assert rules(env)[3:] == [
        ("no-bag-removal", 1),
        ("basic-economy-flights-fixed", 2),
        ("unflown-trips-only", 3),
        ("compensation-eligibility", 4),
    ]
    # once upgraded in the same episode, the trip may be re-flown
    ok(
        env,
        "update_reservation_flights",
        reservation_id="T1QOBS",
        cabin="economy",
        flights=[{"flight_number": "HAT060", "date": "2024-05-27"}],
        payment_id="credit_card_9875103",
    )
    ok(
        env,
        "update_reservation_flights",
        reservation_id="T1QOBS",
        cabin="economy",
        flights=[{"flight_number": "HAT060", "date": "2024-05-26"}],
        payment_id="credit_card_9875103",
    )
    assert len(rules(env)) == 7
    assert env.state["reservations"]["T1QOBS"]["cabin"] == "basic_economy"  # as stored upstream


def test_a_refused_write_notes_no_violation(env: AirlineEnv) -> None:
    result = env.call(
        "update_reservation_baggages",
        {
            "reservation_id": "I6M8JQ",
            "total_baggages": 0,
            "nonfree_baggages": 0,
            "payment_id": "paypal_0",
        },
    )
    assert result == "Error: payment method not found"
    assert rules(env) == []


def test_lookups_utilities_and_the_stop_tool(env: AirlineEnv) -> None:
    assert env.call("get_reservation_details", {"reservation_id": "NOPE00"}) == (
        "Error: user not found"
    )
    airports = ok(env, "list_all_airports")
    assert len(airports) == 20 and airports["LGA"] == "LaGuardia"
    direct = ok(env, "search_direct_flight", origin="JFK", destination="SEA", date="2024-05-20")
    assert direct and all(f["status"] == "available" and "dates" not in f for f in direct)
    assert ok(env, "calculate", expression="2 * ((350 - 122) + (499 - 127))") == "1200.0"
    assert env.call("think", {"thought": "hm"}) == ""
    assert not env.stopped
    assert ok(env, "transfer_to_human_agents", summary="partly flown") == "Transfer successful"
    assert env.stopped
