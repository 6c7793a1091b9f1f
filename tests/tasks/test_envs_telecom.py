"""The τ² telecom domain over the public train split, read from the shared folder.

The data is not part of the project: these tests read it from ``../shared/data/`` next to
the repository (or from ``$SIMULACRA_TAU2_TELECOM_DIR``) and are skipped when it is absent.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest

from simulacra.errors import ConfigError, TaskWarning
from simulacra.runs import load_config
from simulacra.tasks import as_task, judged_assertions
from simulacra.tasks.envs import (
    Action,
    AssertionVerdict,
    EnvFactory,
    EnvTask,
    JudgedAssertions,
    PhoneEnv,
    TelecomEnv,
    environments,
    failed_actions,
    load_tau2_telecom,
    replay,
    score_episode,
)
from simulacra.tasks.envs._telecom import sync, task_id

DATA = Path(
    os.environ.get(
        "SIMULACRA_TAU2_TELECOM_DIR",
        Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tau2-telecom-train",
    )
)
TASKS_FILE = DATA / "tasks_train.json"

pytestmark = pytest.mark.skipif(
    not TASKS_FILE.is_file(),
    reason=f"telecom train data not found in {DATA} (set SIMULACRA_TAU2_TELECOM_DIR)",
)

AGENT_TOOLS = {
    "get_customer_by_phone",
    "get_customer_by_id",
    "get_customer_by_name",
    "get_details_by_id",
    "get_bills_for_customer",
    "get_data_usage",
    "suspend_line",
    "resume_line",
    "send_payment_request",
    "enable_roaming",
    "disable_roaming",
    "refuel_data",
    "transfer_to_human_agents",
}
USER_TOOLS = {
    "check_status_bar",
    "check_network_status",
    "check_network_mode_preference",
    "run_speed_test",
    "check_sim_status",
    "check_data_restriction_status",
    "check_apn_settings",
    "check_wifi_status",
    "check_wifi_calling_status",
    "check_vpn_status",
    "check_installed_apps",
    "check_app_status",
    "check_app_permissions",
    "can_send_mms",
    "check_payment_request",
    "set_network_mode_preference",
    "toggle_airplane_mode",
    "reseat_sim_card",
    "toggle_data",
    "toggle_roaming",
    "toggle_data_saver_mode",
    "set_apn_settings",
    "reset_apn_settings",
    "toggle_wifi",
    "toggle_wifi_calling",
    "connect_vpn",
    "disconnect_vpn",
    "grant_app_permission",
    "reboot_device",
    "make_payment",
}
SIM_TASK = "service_issue.airplane_mode_on.unseat_sim_card.PERSONA:None"
NL_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tau2" / "tasks_nl.json"


@pytest.fixture(scope="module")
def telecom() -> tuple[EnvFactory, list[EnvTask]]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every train ground truth replays cleanly
        return load_tau2_telecom(DATA)


@pytest.fixture
def factory(telecom: tuple[EnvFactory, list[EnvTask]]) -> EnvFactory:
    return telecom[0]


@pytest.fixture
def tasks(telecom: tuple[EnvFactory, list[EnvTask]]) -> list[EnvTask]:
    return telecom[1]


def by_id(tasks: list[EnvTask], wanted: str) -> EnvTask:
    return next(t for t in tasks if t.id == wanted)


def started(factory: EnvFactory, task: EnvTask | None = None) -> TelecomEnv:
    env = factory()
    assert isinstance(env, TelecomEnv)
    if task is not None:
        env.start(task)
    return env


def fresh_phone(factory: EnvFactory, *setup: str, **user: Any) -> TelecomEnv:
    """A phone of John Smith's line L1002, with some set-up functions applied."""
    env = started(factory)
    env.phone.set_user_info("John Smith", "555-123-2002")
    for name in setup:
        getattr(env.phone, name)()
    env.call("get_customer_by_phone", {"phone_number": "555-123-2002"})  # brings both in step
    return env


# --------------------------------------------------------------------------- loading


def test_loader_reads_the_databases_policy_and_tasks(
    factory: EnvFactory, tasks: list[EnvTask]
) -> None:
    assert len(tasks) == 74 and {t.suite for t in tasks} == {"tau2-telecom-train"}
    env = started(factory)
    main = (DATA / "main_policy.md").read_text(encoding="utf-8")
    manual = (DATA / "tech_support_manual.md").read_text(encoding="utf-8")
    assert env.instructions == (
        f"<main_policy>\n{main}\n</main_policy>\n<tech_support_policy>\n{manual}\n"
        "</tech_support_policy>"
    )
    assert {t: len(rows) for t, rows in env.state.items()} == {
        "customers": 4,
        "lines": 9,
        "plans": 5,
        "devices": 9,
        "bills": 6,
        "phone": 2,
    }
    assert set(env.tool_names()) == AGENT_TOOLS
    assert env.user_side is env.phone and set(env.phone.tool_names()) == USER_TOOLS
    # the two sides share one state
    assert env.phone.state is env.state
    upstream = json.loads(TASKS_FILE.read_text())
    assert [t.metadata["tau2_id"] for t in tasks] == [u["id"] for u in upstream]
    assert [t.id for t in tasks] == [task_id(u["id"]) for u in upstream]
    assert sum(len(t.actions) for t in tasks) == 354
    assert sum(a.requestor == "user" for t in tasks for a in t.actions) == 272
    first = tasks[0]
    assert first.private_details == {"name": "John Smith", "phone": "555-123-2002"}
    assert first.shards[1:] == ("My name is John Smith.", "My phone number is 555-123-2002.")
    assert "Task instructions:" in first.instruction


def test_the_registry_and_config_routes_make_it_a_suite(tmp_path: Path) -> None:
    assert "tau2-telecom" in environments
    config = tmp_path / "run.yaml"
    config.write_text(f"name: t\ntasks:\n  tau2_telecom: {DATA}\n  ids: ['{SIM_TASK}']\n")
    (task,) = load_config(config).resolve_tasks()
    assert task.environment == "tau2-telecom" and task.max_turns == 30
    assert task.goal.startswith("Hello") or task.goal
    config.write_text(
        "name: t\ntasks:\n  suite:\n"
        f"    - {{name: tau2-telecom, data_dir: {DATA}, suite: my-telecom,\n"
        "       tech_support: tech_support_workflow.md}\n"
    )
    loaded = load_config(config).resolve_tasks()
    assert len(loaded) == 74 and {t.suite for t in loaded} == {"my-telecom"}
    config.write_text(f"name: t\ntasks:\n  tau2_telecom: {tmp_path / 'nowhere'}\n")
    with pytest.raises(ConfigError, match="not found"):
        load_config(config).resolve_tasks()


# --------------------------------------------------------------------------- scoring


def test_every_ground_truth_replays_and_scores_one_and_doing_nothing_scores_zero(
    factory: EnvFactory, tasks: list[EnvTask]
) -> None:
    for task in tasks:
        expected = replay(factory, task.actions, task=task)
        assert failed_actions(expected) == [], task.id
        verdict = score_episode(factory, task, expected, [])
        assert verdict.reward == 1.0, (task.id, verdict.criteria)
        assert verdict.hash_match and verdict.replay_errors == ()
        nothing = started(factory, task)
        idle = score_episode(factory, task, nothing, [])
        assert idle.reward == 0.0, task.id
        # the transfers leave the phone as it was: only their ACTION criterion fails
        transfer = "ACTION" in task.metadata["tau2"]["reward_basis"]
        assert idle.criteria["ENV_ASSERTION"]["passed"] is transfer, task.id


def test_the_reward_is_the_product_of_the_reward_basis(
    factory: EnvFactory, tasks: list[EnvTask]
) -> None:
    transfer = next(t for t in tasks if "ACTION" in t.metadata["tau2"]["reward_basis"])
    assert [a.name for a in transfer.actions] == ["transfer_to_human_agents"]
    # the transfer's summary is not compared (compare_args: [])
    env = started(factory, transfer)
    env.call("transfer_to_human_agents", {"summary": "anything at all"})
    verdict = score_episode(factory, transfer, env, [])
    assert verdict.reward == 1.0 and env.stopped
    # the state is right without a transfer (nothing to fix), but ACTION is in the basis
    silent = started(factory, transfer)
    verdict = score_episode(factory, transfer, silent, [])
    assert verdict.criteria["ENV_ASSERTION"]["passed"] and not verdict.criteria["ACTION"]["passed"]
    assert verdict.reward == 0.0
    # a user action done by the agent's side does not count: toggles belong to the phone
    task = by_id(tasks, SIM_TASK)
    env = started(factory, task)
    env.phone.call("toggle_airplane_mode")
    verdict = score_episode(factory, task, env, [])
    assert verdict.reward == 0.0
    assert verdict.criteria["ENV_ASSERTION"]["checks"][0]["func_name"] == "assert_service_status"
    env.phone.call("reseat_sim_card")
    assert score_episode(factory, task, env, []).reward == 1.0
    # DB is not in this task's basis: an extra lookup-free change still passes
    env.call("enable_roaming", {"customer_id": "C1001", "line_id": "L1001"})
    verdict = score_episode(factory, task, env, [])
    assert verdict.reward == 1.0 and not verdict.hash_match and verdict.diff


def test_a_failing_reference_action_is_kept_and_warned_about(tmp_path: Path) -> None:
    real = json.loads(TASKS_FILE.read_text())[0]
    extra = [
        {"action_id": "x0", "requestor": "assistant", "name": "get_customer_by_id",
         "arguments": {"customer_id": "C9999"}},
        {"action_id": "x1", "requestor": "user", "name": "fly_away", "arguments": {}},
    ]  # fmt: skip
    task = json.loads(json.dumps(real))
    task["evaluation_criteria"]["actions"] = extra + task["evaluation_criteria"]["actions"]
    for name in ("db.toml", "user_db.toml", "main_policy.md", "tech_support_manual.md"):
        (tmp_path / name).symlink_to(DATA / name)
    (tmp_path / "tasks_mine.json").write_text(json.dumps([task]))
    with pytest.warns(TaskWarning) as caught:
        factory, (loaded,) = load_tau2_telecom(tmp_path, tasks_file="tasks_mine.json")
    texts = [str(w.message) for w in caught]
    assert len(texts) == 2 and loaded.suite == "tau2-telecom-mine"
    assert texts[0].endswith("Error: Customer with ID C9999 not found")
    assert "(user:fly_away)" in texts[1] and "unknown tool 'fly_away'" in texts[1]
    expected = replay(factory, loaded.actions, task=loaded)
    verdict = score_episode(factory, loaded, expected, [])
    assert verdict.reward == 1.0 and len(verdict.replay_errors) == 2


def test_a_set_up_function_that_is_not_one_is_a_config_error(tmp_path: Path) -> None:
    task = json.loads(TASKS_FILE.read_text())[0]
    task["initial_state"]["initialization_actions"].append(
        {"env_type": "user", "func_name": "toggle_everything", "arguments": {}}
    )
    for name in ("db.toml", "user_db.toml", "main_policy.md", "tech_support_manual.md"):
        (tmp_path / name).symlink_to(DATA / name)
    (tmp_path / "tasks_bad.json").write_text(json.dumps([task]))
    with pytest.raises(ConfigError, match=r"tasks_bad\.json: \[0\]: .*'toggle_everything'"):
        load_tau2_telecom(tmp_path, tasks_file="tasks_bad.json")
    (tmp_path / "user_db.toml").unlink()
    (tmp_path / "user_db.toml").write_text("[device]\nairplane = true\n")
    with pytest.raises(ConfigError, match=r"user_db\.toml.*unknown device field 'airplane'"):
        load_tau2_telecom(tmp_path, tasks_file="tasks_bad.json")


# --------------------------------------------------------------------------- NL assertions


def data_with(tmp_path: Path, tasks: list[dict[str, Any]]) -> Path:
    """The train data's databases and policies, with ``tasks`` as ``tasks_mine.json``."""
    for name in ("db.toml", "user_db.toml", "main_policy.md", "tech_support_manual.md"):
        (tmp_path / name).symlink_to(DATA / name)
    (tmp_path / "tasks_mine.json").write_text(json.dumps(tasks), encoding="utf-8")
    return tmp_path


def judged(*outcomes: str, error: str | None = None) -> JudgedAssertions:
    texts = NL_TASK["evaluation_criteria"]["nl_assertions"]
    return JudgedAssertions(
        verdicts=tuple(
            AssertionVerdict(assertion=t, outcome=o, reason=f"said {o}", reply="1: ...")  # type: ignore[arg-type]
            for t, o in zip(texts, outcomes, strict=True)
        ),
        error=error,
    )


NL_TASK: dict[str, Any] = json.loads(NL_FIXTURE.read_text(encoding="utf-8"))[0]


def test_nl_assertions_in_the_basis_take_the_judges_verdicts(tmp_path: Path) -> None:
    factory, (task,) = load_tau2_telecom(
        data_with(tmp_path, [NL_TASK]), tasks_file="tasks_mine.json"
    )
    texts = tuple(NL_TASK["evaluation_criteria"]["nl_assertions"])
    options = environments.entry("tau2-telecom").validate({"data_dir": str(tmp_path)})
    assert task.assertions == texts
    assert judged_assertions(as_task(task, options=options)) == texts
    fixed = replay(factory, task.actions, task=task)  # the phone fixed as the reference does
    # no judge: recorded as not judged, and the criterion fails as before
    verdict = score_episode(factory, task, fixed, [])
    nl = verdict.criteria["NL_ASSERTION"]
    assert verdict.reward == 0.0 and nl["passed"] is False and nl["judged"] is False
    assert "no judge was configured" in nl["reason"]
    assert [a["outcome"] for a in nl["assertions"]] == ["not judged"] * 2
    # every assertion met: 1; one not met: 0
    verdict = score_episode(factory, task, fixed, [], judged=judged("met", "met"))
    assert verdict.reward == 1.0 and verdict.criteria["NL_ASSERTION"]["passed"] is True
    item = verdict.criteria["NL_ASSERTION"]["assertions"][0]
    assert item == {
        "assertion": texts[0],
        "outcome": "met",
        "met": True,
        "reason": "said met",
        "reply": "1: ...",
    }
    verdict = score_episode(factory, task, fixed, [], judged=judged("met", "not met"))
    assert verdict.reward == 0.0 and verdict.criteria["NL_ASSERTION"]["passed"] is False
    # an abstention leaves the reward unknown, unless another criterion already failed
    verdict = score_episode(factory, task, fixed, [], judged=judged("met", "abstained", error="x"))
    assert verdict.reward is None and verdict.abstained and not verdict.success
    assert verdict.criteria["NL_ASSERTION"]["passed"] is None
    assert verdict.criteria["NL_ASSERTION"]["error"] == "x"
    untouched = started(factory, task)
    verdict = score_episode(factory, task, untouched, [], judged=judged("met", "abstained"))
    assert verdict.reward == 0.0 and not verdict.criteria["ENV_ASSERTION"]["passed"]
    assert verdict.criteria["NL_ASSERTION"]["passed"] is None


def test_nl_assertions_outside_the_basis_are_not_judged(tmp_path: Path) -> None:
    task = json.loads(json.dumps(NL_TASK))
    task["evaluation_criteria"]["reward_basis"] = ["ENV_ASSERTION"]
    factory, (loaded,) = load_tau2_telecom(
        data_with(tmp_path, [task]), tasks_file="tasks_mine.json"
    )
    assert loaded.assertions == ()
    verdict = score_episode(factory, loaded, replay(factory, loaded.actions, task=loaded), [])
    assert verdict.reward == 1.0
    assert "not in the reward basis" in verdict.criteria["NL_ASSERTION"]["reason"]


@pytest.mark.parametrize(
    ("assertions", "message"),
    [
        (["The agent is polite.", "  "], "an assertion is empty"),
        (["The agent is polite.", "The agent  is polite."], "an assertion is repeated"),
        ([f"The agent says {i}." for i in range(21)], "at most 20 can be judged"),
    ],
)
def test_nl_assertions_that_cannot_be_judged_are_a_config_error(
    tmp_path: Path, assertions: list[str], message: str
) -> None:
    task = json.loads(json.dumps(NL_TASK))
    task["evaluation_criteria"]["nl_assertions"] = assertions
    with pytest.raises(
        ConfigError, match=rf"tasks_mine\.json: \[0\]: bad task \(nl_assertions: {message}"
    ):
        load_tau2_telecom(data_with(tmp_path, [task]), tasks_file="tasks_mine.json")


# --------------------------------------------------------------------------- the phone


def test_airplane_mode_sim_and_the_status_bar(factory: EnvFactory) -> None:
    env = fresh_phone(factory)
    phone = env.phone
    # as the user database has it, until a setting makes the phone search again
    assert phone.call("check_status_bar") == "Status Bar: 📶³ Good | 5G | 📱 Data Enabled | 🔋 80%"
    assert phone.call("toggle_airplane_mode").startswith("Airplane Mode is now ON.\nStatus Bar: ✈️")
    assert phone.device["network_connection_status"] == "no_service"
    assert phone.call("run_speed_test") == "Speed test failed: No Connection."
    phone.call("toggle_airplane_mode")
    phone.unseat_sim_card()
    assert phone.call("check_sim_status") == "No SIM card detected in the phone."
    assert "📵 No Signal" in phone.call("check_status_bar")
    assert phone.call("reseat_sim_card").startswith("SIM card re-seated successfully.")
    assert phone.device["network_connection_status"] == "connected"
    # a locked SIM stays locked: no tool of the user's unlocks it
    phone.lock_sim_card("pin")
    phone.call("reseat_sim_card")
    phone.call("reboot_device")
    assert phone.call("check_sim_status") == "The SIM card is locked with a PIN code."
    assert phone.assert_service_status("no_service")


def test_speed_depends_on_network_mode_vpn_and_data_saver(factory: EnvFactory) -> None:
    env = fresh_phone(factory)
    phone = env.phone
    assert phone.speed() == (220.0, "Excellent")  # 5G mid range 275, good signal x0.8
    assert "Preferred Network Mode set to: 3g_only" in phone.call(
        "set_network_mode_preference", {"mode": "3g_only"}
    )
    assert phone.speed() == (1.5, "Poor")  # 3G mid range 3.0, fair signal x0.5
    assert phone.call("set_network_mode_preference", {"mode": "6g"}).startswith(
        "Failed to set network mode: '6g' is not a valid option"
    )
    phone.call("set_network_mode_preference", {"mode": "4g_5g_preferred"})
    phone.break_vpn()
    phone.turn_data_saver_mode_on()
    assert phone.speed() == (5.5, "Fair")  # 275 x 0.1 x 0.2
    assert "performance" in phone.call("check_vpn_status")
    phone.call("disconnect_vpn")
    phone.call("toggle_data_saver_mode")
    assert phone.call("run_speed_test").startswith("Speed Test Result: 275.00 Mbps (Excellent).")


def test_data_allowance_roaming_and_refuelling_follow_the_carrier(factory: EnvFactory) -> None:
    env = fresh_phone(factory)
    env.set_data_usage("C1001", "L1002", 15.1)  # the plan's 15 GB used up
    env.call("get_data_usage", {"customer_id": "C1001", "line_id": "L1002"})
    assert not env.phone.mobile_data_working()
    refuel = json.loads(
        env.call("refuel_data", {"customer_id": "C1001", "line_id": "L1002", "gb_amount": 2.0})
    )
    assert refuel["charge"] == 4.0 and refuel["new_data_refueling_gb"] == 2.0
    draft = env.state["bills"]["B1003"]
    assert draft["line_items"][-1]["description"] == "Data refueling: 2.0 GB at $2.0/GB"
    assert env.phone.mobile_data_working()
    env.phone.set_user_location(True)
    env.call("disable_roaming", {"customer_id": "C1001", "line_id": "L1002"})
    env.phone.call("toggle_roaming")
    assert not env.phone.mobile_data_working()  # the line does not allow roaming
    assert env.call("enable_roaming", {"customer_id": "C1001", "line_id": "L1002"}) == (
        "Roaming enabled successfully"
    )
    assert env.phone.mobile_data_working()


def test_mms_needs_data_3g_apn_permissions_and_no_mms_over_wifi(factory: EnvFactory) -> None:
    env = fresh_phone(factory)
    phone = env.phone
    assert phone.call("can_send_mms") == "Your messaging app can send MMS messages."
    phone.break_apn_mms_setting()
    phone.remove_app_permission("messaging", "storage")
    phone.set_wifi_calling(True, mms_over_wifi=True)
    assert phone.call("can_send_mms") == "Your messaging app cannot send MMS messages."
    assert "MMSC URL (for picture messages): Not Set" in phone.call("check_apn_settings")
    assert phone.call("reset_apn_settings").startswith("APN settings will reset at reboot.")
    assert phone.device["active_apn_settings"]["mmsc_url"] is None  # until the reboot
    assert "Resetting APN settings..." in phone.call("reboot_device")
    phone.call("toggle_wifi_calling")
    assert phone.call("set_apn_settings", {"apn_settings": {"apn_name": "mine"}}).startswith(
        "Error: apn_name: input should be 'internet' or 'broken'"
    )
    phone.call("set_apn_settings", {"apn_settings": {"apn_name": "internet", "mmsc_url": "x"}})
    assert phone.device["active_apn_settings"]["mms_apn"] == "mms"  # the default fills it
    schema = next(t for t in phone.tools() if t["function"]["name"] == "set_apn_settings")
    fields = schema["function"]["parameters"]["properties"]["apn_settings"]
    assert fields["type"] == "object" and not fields.get("required")
    assert phone.call("check_app_permissions", {"app_name": "messaging"}) == (
        "App 'messaging' has permission for: sms, phone."
    )
    assert phone.call(
        "grant_app_permission", {"app_name": "messaging", "permission": "camera"}
    ).startswith("Error. Permission 'camera' not tracked for app 'messaging'")
    phone.call("grant_app_permission", {"app_name": "messaging", "permission": "storage"})
    assert phone.mms_working()


def test_an_overdue_bill_is_paid_through_the_phone(factory: EnvFactory) -> None:
    env = fresh_phone(factory)
    env.suspend_line_for_overdue_bill("C1001", "L1002", "B1234321", contract_ended=False)
    sync(env.state)  # (done after every call, and after each set-up step of a task)
    env.phone.call("reboot_device")
    assert env.phone.device["network_connection_status"] == "no_service"  # suspended line
    assert env.phone.call("check_payment_request") == "No payment request has been made."
    sent = env.call("send_payment_request", {"customer_id": "C1001", "bill_id": "B1234321"})
    assert sent == "Payment request sent to the customer for bill B1234321"
    assert env.phone.call("check_payment_request") == (
        "You have a payment request for bill B1234321 of 65.0 USD."
    )
    assert env.call(
        "send_payment_request", {"customer_id": "C1001", "bill_id": "B1002"}
    ).startswith("Error: A bill is already awaiting payment")
    env.phone.call("make_payment")
    assert env.state["bills"]["B1234321"]["status"] == "Paid"
    env.call("resume_line", {"customer_id": "C1001", "line_id": "L1002"})
    assert env.phone.device["network_connection_status"] == "no_service"  # until a reboot
    env.phone.call("reboot_device")
    assert env.phone.assert_service_status("connected") and env.check_policy() == []


def test_a_phone_number_as_its_digits_alone_finds_the_customer(factory: EnvFactory) -> None:
    env = started(factory)
    written = json.loads(env.call("get_customer_by_phone", {"phone_number": "555-123-2002"}))
    digits = json.loads(env.call("get_customer_by_phone", {"phone_number": "5551232002"}))
    assert digits == written and digits["customer_id"] == "C1001"
    # a line's number, not only the contact number
    line = json.loads(env.call("get_customer_by_phone", {"phone_number": "5551232005"}))
    assert line["customer_id"] == "C1002"
    # other spellings and partial numbers are still not a match
    for other in ("555 123 2002", "(555) 123-2002", "555123200", "55512320021", ""):
        result = env.call("get_customer_by_phone", {"phone_number": other})
        assert result == f"Error: Customer with phone number {other} not found", other
    assert env.check_policy() == []  # a lookup by the digits identifies the customer


def test_coded_policy_rules_catch_a_careless_agent(factory: EnvFactory) -> None:
    env = started(factory)
    env.call("refuel_data", {"customer_id": "C1002", "line_id": "L1004", "gb_amount": 3.0})
    env.call("get_customer_by_phone", {"phone_number": "555-123-2002"})
    env.call("send_payment_request", {"customer_id": "C1001", "bill_id": "B1002"})
    env.call("resume_line", {"customer_id": "C1001", "line_id": "L1003"})
    env.call("enable_roaming", {"customer_id": "C1002", "line_id": "L1004"})
    found = sorted((v.rule, v.call_index) for v in env.check_policy())
    assert found == [
        ("identify-customer-first", 0),
        ("own-customer-only", 4),
        ("payment-request-for-overdue-bill", 2),
        ("refuel-at-most-2gb", 0),
        ("resume-after-payment", 3),
    ]


# --------------------------------------------------------------------------- requests


@pytest.mark.parametrize(
    ("message", "setup", "expected"),
    [
        ("Please turn airplane mode off.", ("turn_airplane_mode_on",), ["toggle_airplane_mode"]),
        ("Please turn airplane mode off.", (), []),  # it is off already: nothing to flip
        ("Can you enable mobile data?", ("turn_data_off",), ["toggle_data"]),
        ("Now restart your phone, please.", (), ["reboot_device"]),
        ("What does your status bar show?", (), ["check_status_bar"]),
        ("Reset the APN settings, then reboot.", (), ["reset_apn_settings", "reboot_device"]),
        ("Could you run a speed test?", (), ["run_speed_test"]),
        ("Please disconnect your VPN.", (), ["disconnect_vpn"]),
        ("Please call toggle_wifi_calling() now.", (), ["toggle_wifi_calling"]),
        # a sentence that explains asks for nothing
        ("Mobile data works when airplane mode is turned off.", ("turn_airplane_mode_on",), []),
        (
            "I'm sorry to hear about your phone. Wi-Fi can be turned on in your settings.",
            (),
            [],
        ),
        ("Is your Wi-Fi turned on?", (), []),  # a question about a state: no switch flipped
    ],
)
def test_plain_requests_become_phone_calls(
    factory: EnvFactory, message: str, setup: tuple[str, ...], expected: list[str]
) -> None:
    phone = fresh_phone(factory, *setup).phone
    assert [name for name, _ in phone.requested_calls(message)] == expected


def test_requests_with_arguments(factory: EnvFactory) -> None:
    phone = fresh_phone(factory).phone
    assert phone.requested_calls("Please set your network mode preference to 4G/5G.") == [
        ("set_network_mode_preference", {"mode": "4g_5g_preferred"})
    ]
    assert phone.requested_calls(
        'Run grant_app_permission(app_name="messaging", permission="sms") please.'
    ) == [("grant_app_permission", {"app_name": "messaging", "permission": "sms"})]
    asked = phone.requested_calls("Please grant the messaging app the storage permission.")
    assert asked == [("grant_app_permission", {"app_name": "messaging", "permission": "storage"})]
    assert phone.requested_calls("Thanks, I found your account.") == []


def test_a_call_the_phone_did_shows_whether_the_issue_is_resolved(
    factory: EnvFactory, tasks: list[EnvTask]
) -> None:
    task = by_id(tasks, "mobile_data_issue.data_mode_off.data_usage_exceeded.PERSONA:None")
    env = started(factory, task)
    assert env.phone.goal == "mobile_data"
    assert not env.phone.resolved_by("run_speed_test", env.phone.call("run_speed_test"))
    env.phone.call("toggle_data")
    env.call("refuel_data", {"customer_id": "C1001", "line_id": "L1002", "gb_amount": 2.0})
    assert env.phone.resolved_by("run_speed_test", env.phone.call("run_speed_test"))
    assert not env.phone.resolved_by("check_status_bar", env.phone.call("check_status_bar"))
    assert isinstance(env.phone, PhoneEnv) and Action(name="x").requestor == "assistant"
