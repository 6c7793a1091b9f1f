"""The role-play user: profiles, both policies, the stop token, guards and styling."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from simulacra.errors import ConfigError
from simulacra.llm import ChatParams, Message, ScriptedModel
from simulacra.people import Profile, builtin_profiles, load_profiles, sample_profiles
from simulacra.runs import RunConfig, arun, parse_config
from simulacra.sim.users import (
    GAVE_UP,
    SATISFIED,
    RoleplaySimulatorOptions,
    RoleplayUser,
    profile_for,
    sharded_view,
    simulator_entry,
)
from simulacra.sim.users._guards import mentions
from simulacra.tasks import suite_tasks

TASK = sharded_view(next(t for t in suite_tasks("everyday") if t.id == "pancakes-scale"))
PLAIN_STYLE = {
    "lowercase_rate": 0.0,
    "end_punctuation_rate": 1.0,
    "greeting_rate": 0.0,
    "formality": 0.5,
}


def profile(**changes: object) -> Profile:
    """A plain, predictable person: no typos, no greeting, no thanks, no follow-ups."""
    data: dict[str, object] = {
        "name": "tester",
        "background": "a test person",
        "typo_rate": 0.0,
        "cooperativeness": 1.0,
        "style": PLAIN_STYLE,
        "interaction": {
            "politeness_rate": 0.0,
            "follow_up_rate": 0.0,
            "closing_rate": 1.0,
            "opening_facts": 0.0,
        },
        "closings": ["Cheers, that's all I needed."],
        "acknowledgements": ["Yep."],
    }
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}  # type: ignore[dict-item]
        else:
            data[key] = value
    return Profile.model_validate(data)


def echo(messages: list[Message], params: ChatParams) -> str:
    """Says exactly what the code policy asked for (the first line of the request)."""
    match = re.search(r"^Say \(\d+ words\): (.*)$", messages[-1].content, re.M)
    assert match, messages[-1].content
    return match.group(1)


def assistant(text: str) -> Message:
    return Message(role="assistant", content=text)


async def converse(user: RoleplayUser, replies: list[str]) -> list[tuple[str, str, bool]]:
    """(act, text, stop) of each user turn against the given assistant replies."""
    transcript: list[Message] = []
    said = []
    for reply in [*replies, ""]:
        turn = await user.next_turn(transcript)
        said.append((turn.act, turn.text, turn.stop))
        if turn.stop:
            break
        transcript += [Message(role="user", content=turn.text), assistant(reply)]
    return said


# -- profiles -----------------------------------------------------------------------------


def test_builtin_profiles_load_and_become_personas_with_their_habits() -> None:
    profiles = builtin_profiles()
    assert len(profiles) >= 5 and len({p.name for p in profiles}) == len(profiles)
    terse = next(p for p in profiles if p.name == "hurried-parent")
    persona = terse.persona("someone")
    assert persona.name == "someone" and persona.style == terse.style
    # the persona's verbosity gives the profile's median length through the styling code
    assert (
        persona.verbosity
        < 0.35
        < next(p for p in profiles if p.name == "chatty-newcomer").persona().verbosity
    )


def test_a_profile_with_an_unknown_field_or_a_bad_rate_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "profiles.yaml"
    bad.write_text("profiles:\n  - name: x\n    background: y\n    moood: grumpy\n")
    with pytest.raises(ConfigError, match=r"profiles.yaml.*profile 1 \(x\)"):
        load_profiles(bad)
    bad.write_text("- name: x\n  background: y\n  interaction: {closing_rate: 1.5}\n")
    with pytest.raises(ConfigError, match="closing_rate"):
        load_profiles(bad)
    bad.write_text("- !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_profiles(bad)


def test_a_population_is_drawn_by_weight_reproducibly_and_people_differ() -> None:
    common = profile(name="common", weight=0.8)
    rare = profile(name="rare", weight=0.2)
    people = sample_profiles([common, rare], 2000, seed=3)
    assert people == sample_profiles([common, rare], 2000, seed=3)
    assert people != sample_profiles([common, rare], 2000, seed=4)
    share = Counter(p.name.rsplit("-", 1)[0] for p in people)["common"] / len(people)
    assert abs(share - 0.8) < 0.03  # binomial sd 0.009
    medians = [p.length.median_words for p in people]
    assert len(set(medians)) > 1000  # each person redrawn ...
    assert abs(sorted(medians)[len(medians) // 2] - 9.0) < 0.5  # ... around the profile's
    exact = sample_profiles([common], 5, seed=0, concentration=0)
    assert {p.length.median_words for p in exact} == {9.0}


# -- registry and options -----------------------------------------------------------------


def _config(tmp_path: Path, options: dict[str, object]) -> RunConfig:
    return parse_config(
        {
            "name": "rp",
            "output_dir": str(tmp_path / "runs"),
            "models": {"echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"}},
            "user": {"simulator": "roleplay", "model": "echo", "options": options},
            "target": {"type": "callable", "callable": "targets_for_tests:calculator"},
            "personas": {"builtin": ["busy-nurse", "teen-gamer"]},
            "tasks": {"suite": "everyday", "ids": ["pancakes-scale"]},
            "max_turns": 5,
        },
        base_dir=str(tmp_path),
    )


def test_registered_with_typed_options_where_unknown_keys_and_profiles_are_errors(
    tmp_path: Path,
) -> None:
    spec, entry = simulator_entry("roleplay")
    assert spec.needs_model and entry.options is RoleplaySimulatorOptions
    with pytest.raises(Exception, match="polcy"):
        _config(tmp_path, {"polcy": "free"})
    with pytest.raises(Exception, match=r"unknown profile.*'nobody'"):
        _config(tmp_path, {"profiles": ["nobody"]})
    with pytest.raises(Exception, match=r"missing\.yaml: no such profile file"):
        _config(tmp_path, {"profiles_file": "missing.yaml"})
    (tmp_path / "mine.yaml").write_text(f"[{profile(name='mine').model_dump_json()}]")
    config = _config(tmp_path, {"profiles_file": "mine.yaml", "policy": "free"})
    options = config.user.options
    assert isinstance(options, RoleplaySimulatorOptions)
    assert [p.name for p in options.pool()] == ["mine"]  # resolved against the config's folder


def test_each_episode_draws_its_person_with_the_episode_seed() -> None:
    options = RoleplaySimulatorOptions()
    persona = builtin_profiles()[0].persona()
    drawn = [profile_for(options, persona, seed).name for seed in range(60)]
    assert drawn == [profile_for(options, persona, seed).name for seed in range(60)]
    assert len(set(drawn)) == len(builtin_profiles())
    pinned = RoleplaySimulatorOptions(profiles=["sceptical-expert"], concentration=0)
    assert profile_for(pinned, persona, 5) == next(
        p for p in builtin_profiles() if p.name == "sceptical-expert"
    )


async def test_a_run_with_the_roleplay_user_records_the_profile_and_finishes(
    tmp_path: Path,
) -> None:
    result = await arun(_config(tmp_path, {"profiles": ["relaxed-customer"]}), use_cache=False)
    lines = result.run_dir.joinpath("episodes.jsonl").read_text().splitlines()
    episodes = [json.loads(line) for line in lines]
    assert len(episodes) == 2 and result.summary.errors == 0
    assert {e["extra"]["profile"] for e in episodes} == {"relaxed-customer"}
    assert {e["extra"]["policy"] for e in episodes} == {"code"}
    assert all(e["success"] for e in episodes)  # the person told the calculator enough


# -- the code policy ------------------------------------------------------------------------


async def test_code_policy_opens_reveals_when_asked_and_closes_in_its_own_words() -> None:
    model = ScriptedModel(echo)
    user = RoleplayUser(profile=profile(), task=TASK, model=model, seed=1)
    said = await converse(
        user,
        [
            "How many people is the recipe for, and how much flour does it use?",
            "And how many are you cooking for?",
            "You need 750 g of flour.",
        ],
    )
    acts = [act for act, _, _ in said]
    assert acts == ["open", "reveal", "reveal", SATISFIED]
    assert "300 g" in said[1][1] and "10 people" in said[2][1]
    assert said[-1] == (SATISFIED, "Cheers, that's all I needed.", True)
    assert len(model.calls) == 3  # the closing is the profile's own words: no model call
    assert user.episode_extra() == {"profile": "tester", "policy": "code"}


async def test_a_front_loading_profile_puts_its_details_in_the_first_message() -> None:
    user = RoleplayUser(
        profile=profile(interaction={"opening_facts": 1.0}),
        task=TASK,
        model=ScriptedModel(echo),
        seed=2,
    )
    turn = await user.next_turn([])
    assert "300 g" in turn.text and "10 people" in turn.text
    turn = await user.next_turn([Message(role="user", content=turn.text), assistant("750 g.")])
    assert turn.act == SATISFIED and turn.stop


async def test_a_front_loader_keeps_a_further_request_for_later() -> None:
    """All of the table's details go into the first message, the taxi waits until the
    table is done (people open with one thing at a time)."""
    booking = next(t for t in suite_tasks("bookings") if t.id == "bookings.italian-centre")
    request = next(i for i, f in enumerate(booking.facts) if f.request)
    user = RoleplayUser(
        profile=profile(interaction={"opening_facts": 1.0}),
        task=booking,
        model=ScriptedModel(echo),
        seed=2,
    )
    turn = await user.next_turn([])
    assert all(mentions(fact, turn.text) for fact in booking.facts[:request]), turn.text
    assert not mentions(booking.facts[request], turn.text), turn.text  # no taxi yet
    assert user.revealed == set(range(request))


async def test_a_profile_says_its_own_phrases_at_its_rate() -> None:
    """own_phrases 1: every closing is the profile's; 0: none is (the policy's stock
    closings instead); between, some of each."""
    used = {}
    for rate in (0.0, 0.5, 1.0):
        closings = []
        for seed in range(30):
            person = profile(interaction={"opening_facts": 1.0, "own_phrases": rate})
            user = RoleplayUser(profile=person, task=TASK, model=ScriptedModel(echo), seed=seed)
            said = await converse(user, ["You need 750 g of flour."])
            assert said[-1][0] == SATISFIED and said[-1][1]
            closings.append(said[-1][1] == "Cheers, that's all I needed.")
        used[rate] = sum(closings)
    assert used[0.0] == 0 and used[1.0] == 30 and 5 <= used[0.5] <= 25


async def test_a_person_who_does_not_say_goodbye_leaves_without_a_word() -> None:
    quiet = profile(interaction={"opening_facts": 1.0, "closing_rate": 0.0})
    user = RoleplayUser(profile=quiet, task=TASK, model=ScriptedModel(echo), seed=2)
    said = await converse(user, ["You need 750 g of flour."])
    assert said[-1] == (SATISFIED, "", True)


async def test_only_agreeing_answers_are_said_in_the_persons_own_words() -> None:
    told = profile(interaction={"opening_facts": 1.0})
    user = RoleplayUser(profile=told, task=TASK, model=ScriptedModel(echo), seed=3)
    said = await converse(user, ["Shall I work it out in grams?", "Which brand of flour is it?"])
    assert said[1][1] == "Yep."  # yes/no: the profile's acknowledgement
    assert said[2][0] == "answer" and said[2][1] != "Yep."  # no more to tell: not a yes


async def test_an_unprompted_revealer_brings_the_next_detail_and_must_say_it() -> None:
    eager = profile(interaction={"reveal": "unprompted"})
    said_both = []
    for seed in range(12):
        user = RoleplayUser(profile=eager, task=TASK, model=ScriptedModel(echo), seed=seed)
        turns = await converse(user, ["How many people is it for?"])
        said_both.append("300 g" in turns[1][1] and "10 people" in turns[1][1])
    assert 2 <= sum(said_both) <= 10  # half the time, in this seed range
    # a voice that says the asked-for detail but drops the one it brings along is caught,
    # and the plan (both details) is said instead
    for seed in range(40):
        user = RoleplayUser(profile=eager, task=TASK, model=ScriptedModel(echo), seed=seed)
        await user.next_turn([])
        user.model = ScriptedModel(lambda m, p: "I'm cooking for 10 people.")
        transcript = [Message(role="user", content="flour?"), assistant("How many people?")]
        turn = await user.next_turn(transcript)
        if user.must_say:
            assert {e.guard for e in turn.guard_events} == {"dropped_fact"}
            assert "300 g" in turn.text and "10 people" in turn.text
            break
    else:
        pytest.fail("no seed brought the next detail along")


async def test_a_long_answer_gets_a_request_for_a_shorter_one_once() -> None:
    impatient = profile(interaction={"long_answer": "ask_shorter", "long_answer_words": 20})
    user = RoleplayUser(profile=impatient, task=TASK, model=ScriptedModel(echo), seed=4)
    rambling = "Scaling recipes is an interesting problem that depends on many things " * 4
    said = await converse(user, [rambling + "?", rambling + "How many people?"])
    assert said[1][0] == "ask_shorter"
    assert said[2][0] != "ask_shorter"


async def test_a_drifting_voice_is_regenerated_and_then_replaced_by_the_plan() -> None:
    replies = iter(["Sure, here is the answer: 750 g.", "I need more flour for my pancakes."])
    model = ScriptedModel(lambda m, p: next(replies))
    user = RoleplayUser(profile=profile(), task=TASK, model=model, seed=5)
    turn = await user.next_turn([])
    assert [(e.guard, e.action) for e in turn.guard_events] == [("role_drift", "regenerate")]
    assert turn.text.startswith("I need more flour")
    always = ScriptedModel(lambda m, p: "As an AI, I can help you with that.")
    user = RoleplayUser(profile=profile(), task=TASK, model=always, seed=5)
    turn = await user.next_turn([])
    assert turn.guard_events[-1].action == "fallback"
    assert turn.text == TASK.goal  # the plan, said plainly


async def test_a_voice_that_tells_a_hidden_detail_early_is_caught() -> None:
    replies = iter(
        [
            "I need more flour for pancakes, I'm cooking for 10 people.",
            "I need to scale up my pancake recipe, how much flour?",
        ]
    )
    user = RoleplayUser(
        profile=profile(), task=TASK, model=ScriptedModel(lambda m, p: next(replies)), seed=6
    )
    turn = await user.next_turn([])
    assert [e.guard for e in turn.guard_events] == ["leak"]
    assert "10 people" not in turn.text


async def test_styling_follows_the_profiles_rates() -> None:
    lower = profile(style={**PLAIN_STYLE, "lowercase_rate": 1.0, "end_punctuation_rate": 0.0})
    for seed in range(5):
        user = RoleplayUser(profile=lower, task=TASK, model=ScriptedModel(echo), seed=seed)
        turn = await user.next_turn([])
        assert turn.text == turn.text.lower() and turn.text[-1] not in ".!"


# -- the free policy ------------------------------------------------------------------------


def test_the_free_prompt_shows_the_conversation_from_the_users_side() -> None:
    user = RoleplayUser(
        profile=profile(), task=TASK, model=ScriptedModel(["x"]), seed=0, policy="free"
    )
    prompt = user._free_prompt(
        [Message(role="user", content="hi, flour?"), assistant("How many people?")]
    )
    assert prompt[0].role == "system" and TASK.goal in prompt[0].content
    assert "<done>" in prompt[0].content and "<give up>" in prompt[0].content
    assert [(m.role, m.content) for m in prompt[1:]] == [
        ("assistant", "hi, flour?"),
        ("user", "How many people?"),
    ]


async def test_free_policy_stops_on_its_own_token_satisfied_or_giving_up() -> None:
    replies = iter(["I need to scale my pancake recipe, how much flour?", "perfect, thanks <done>"])
    user = RoleplayUser(
        profile=profile(), task=TASK, model=ScriptedModel(lambda m, p: next(replies)), seed=0,
        policy="free",
    )  # fmt: skip
    said = await converse(user, ["750 g."])
    assert said == [
        ("free", "I need to scale my pancake recipe, how much flour?", False),
        ("free", "Perfect, thanks", True),
    ]
    gives_up = RoleplayUser(
        profile=profile(), task=TASK, model=ScriptedModel(["this is useless <GIVE UP>"]),
        seed=0, policy="free",
    )  # fmt: skip
    turn = await gives_up.next_turn([])
    assert turn.stop and turn.stop_reason == GAVE_UP and turn.text == "This is useless"


async def test_free_policy_guards_role_drift_leaks_and_repetition() -> None:
    replies = iter(
        [
            "How can I help you today?",  # drift
            "flour for pancakes: recipe for 4 uses 300 g, and I'm cooking for 10 people",  # leak
            "how much flour do i need to scale up my pancakes?",
            "how much flour do i need to scale up my pancakes?",  # repetition
            "and the recipe is for 4 people with 300 g of flour",
        ]
    )
    user = RoleplayUser(
        profile=profile(), task=TASK, model=ScriptedModel(lambda m, p: next(replies)), seed=0,
        policy="free",
    )  # fmt: skip
    user.options = type(user.options)(max_regenerations=3)
    first = await user.next_turn([])
    assert [e.guard for e in first.guard_events] == ["role_drift", "leak"]
    assert first.text.lower().startswith("how much flour")
    transcript = [Message(role="user", content=first.text), assistant("Tell me more?")]
    second = await user.next_turn(transcript)
    assert [e.guard for e in second.guard_events] == ["repetition"]
    assert "300 g" in second.text and user.revealed == {0}


async def test_free_policy_falls_back_to_the_code_policy_when_every_candidate_fails() -> None:
    user = RoleplayUser(
        profile=profile(), task=TASK, model=ScriptedModel(lambda m, p: "As an AI, I can't."),
        seed=0, policy="free",
    )  # fmt: skip
    turn = await user.next_turn([])
    assert turn.guard_events[-1].action == "fallback"
    assert turn.act == "open" and turn.text == TASK.goal and not turn.stop


def test_profile_draws_are_independent_of_other_randomness() -> None:
    options = RoleplaySimulatorOptions()
    persona = builtin_profiles()[0].persona()
    before = profile_for(options, persona, 11)
    random.seed(99)
    random.random()
    assert profile_for(options, persona, 11) == before


# -- on the real embedded model -------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["code", "free"])
def test_roleplay_episode_on_the_embedded_model(
    tmp_path: Path, model_cache_dir: Path, policy: str
) -> None:
    """A short episode with the 0.5B model on both sides: the person's turns are their
    own (no role drift after the guards) and the episode ends cleanly."""
    import simulacra
    from simulacra.llm._weights import default_weights
    from simulacra.runs import read_episodes
    from simulacra.sim.users._guards import role_drift

    weights = default_weights(directory=model_cache_dir / "models")
    config = parse_config(
        {
            "name": f"rp-{policy}",
            "seed": 5,
            "output_dir": str(tmp_path),
            "models": {"local": {"backend": "local", "path": str(weights), "n_ctx": 2048}},
            "user": {
                "simulator": "roleplay",
                "model": "local",
                "max_tokens": 40,
                "options": {"policy": policy, "profiles": ["relaxed-customer"]},
            },
            "target": {
                "model": "local",
                "max_tokens": 50,
                "system_prompt": "Answer in one short sentence.",
            },
            "personas": {"builtin": ["busy-nurse"]},
            "tasks": {"suite": "everyday", "ids": ["run-miles-to-km"]},
            "max_turns": 2,
        }
    )
    result = simulacra.run(config)
    (episode,) = read_episodes(result.run_dir)
    assert episode["status"] == "ok", episode["error"]
    assert episode["extra"]["profile"] == "relaxed-customer"
    assert episode["extra"]["policy"] == policy
    user_turns = [m["content"] for m in episode["messages"] if m["role"] == "user"]
    assert user_turns and all(t.strip() for t in user_turns)
    assert all(role_drift(t, t) is None for t in user_turns)
    assert episode["usage"]["user"]["completion_tokens"] > 0


async def test_free_policy_may_leave_without_a_word_but_not_open_without_one() -> None:
    replies = iter(["<done>", "need flour for more pancakes", "<done>"])
    user = RoleplayUser(
        profile=profile(), task=TASK, model=ScriptedModel(lambda m, p: next(replies)), seed=0,
        policy="free",
    )  # fmt: skip
    said = await converse(user, ["750 g."])
    assert said == [("free", "Need flour for more pancakes", False), ("free", "", True)]


def test_an_empty_reply_cleans_to_nothing() -> None:
    from simulacra.sim.users import clean_turn

    assert clean_turn("") == "" and clean_turn("  \n ") == ""


async def test_code_policy_says_a_give_up_in_the_policys_words_without_a_model_call() -> None:
    """As for the default user: a small model voicing "I give up" writes something else."""
    impatient = profile(patience=0)
    model = ScriptedModel(["good idea"], cycle=True)
    user = RoleplayUser(profile=impatient, task=TASK, model=model, seed=1)
    user.my_turns.append("how much flour do i need?")
    calls = len(model.calls)
    turn = await user.next_turn([assistant("Pancakes are a lovely breakfast.")])
    assert turn.act == GAVE_UP and turn.stop
    assert len(model.calls) == calls and "good idea" not in turn.text.lower()


@pytest.mark.parametrize("policy", ["code", "free"])
async def test_an_opening_with_the_detail_and_not_the_order_is_redrawn(policy: str) -> None:
    """A role-play customer opened a double espresso order with "To go, please" (the
    profile puts its details in the first message, so the detail itself is no leak)."""
    espresso = next(t for t in suite_tasks("coffee") if t.id == "coffee.double-espresso")
    replies = iter(["To go, please.", "A double espresso to go, please."])
    user = RoleplayUser(
        profile=profile(interaction={"opening_facts": 1.0}), task=espresso, model=ScriptedModel(lambda m, p: next(replies)),
        seed=0, policy=policy,
    )  # fmt: skip
    turn = await user.next_turn([])
    assert [(e.guard, e.action) for e in turn.guard_events] == [("dropped_goal", "regenerate")]
    assert "espresso" in turn.text.lower()
