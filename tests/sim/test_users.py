from __future__ import annotations

import random
import re
import statistics

from simulacra.llm import ChatParams, Message, ScriptedModel
from simulacra.people import Persona, WritingStyle, builtin_personas
from simulacra.sim.users import (
    LLMUser,
    LLMUserOptions,
    add_typos,
    apply_style,
    clean_turn,
    length_target,
)
from simulacra.sim.users._guards import check_turn, mentions
from simulacra.tasks import Fact, suite_tasks

TASK = next(t for t in suite_tasks("everyday") if t.id == "pancakes-scale")
PLAIN = Persona(
    name="plain",
    background="test person",
    typo_rate=0.0,
    patience=2,
    cooperativeness=1.0,
    style=WritingStyle(lowercase_rate=0.0, end_punctuation_rate=1.0, greeting_rate=0.0),
)


def echo_plan(messages: list[Message], params: ChatParams) -> str:
    """A model that says exactly what it was asked to say."""
    match = re.search(r"^Say \(\d+ words\): (.*)$", messages[-1].content, re.S | re.M)
    assert match, messages[-1].content
    return match.group(1)


def assistant(text: str) -> Message:
    return Message(role="assistant", content=text)


async def test_opens_with_goal_then_reveals_facts_one_at_a_time_then_accepts() -> None:
    user = LLMUser(persona=PLAIN, task=TASK, model=ScriptedModel(echo_plan), seed=1)
    opening = await user.next_turn([])
    assert opening.act == "open" and "pancake" in opening.text.lower()
    assert not any(f.mentioned_in(opening.text) for f in TASK.facts)
    transcript = [
        Message(role="user", content=opening.text),
        assistant("How many people does it serve now?"),
    ]
    reveal = await user.next_turn(transcript)
    assert reveal.act == "reveal" and TASK.facts[0].mentioned_in(reveal.text)
    assert not TASK.facts[1].mentioned_in(reveal.text)
    transcript += [
        Message(role="user", content=reveal.text),
        assistant("And how many are you cooking for?"),
    ]
    second = await user.next_turn(transcript)
    assert TASK.facts[1].mentioned_in(second.text)
    transcript += [Message(role="user", content=second.text), assistant("You need 750 g of flour.")]
    last = await user.next_turn(transcript)
    if last.act == "follow_up":  # a curious user asks how, once
        transcript += [
            Message(role="user", content=last.text),
            assistant("300 g for 4 is 75 g a person, so 10 people need 750 g."),
        ]
        last = await user.next_turn(transcript)
    assert last.stop and last.stop_reason == "satisfied"


async def test_premature_answer_is_corrected_with_the_next_fact() -> None:
    user = LLMUser(persona=PLAIN, task=TASK, model=ScriptedModel(echo_plan), seed=1)
    await user.next_turn([])
    turn = await user.next_turn([assistant("Just use 300 g.")])
    assert turn.act == "correct" and TASK.facts[0].mentioned_in(turn.text)


async def test_patience_runs_out_after_unhelpful_replies() -> None:
    user = LLMUser(persona=PLAIN, task=TASK, model=ScriptedModel(echo_plan), seed=2)
    await user.next_turn([])
    acts = []
    transcript: list[Message] = []
    for i in range(6):
        transcript.append(
            assistant(f"Pancakes are a lovely breakfast idea, version {'abcdefgh'[i]}.")
        )
        turn = await user.next_turn(transcript)
        acts.append(turn.act)
        if turn.stop:
            break
    # patience 2: the third unhelpful reply ends it
    assert acts[-1] == "gave_up" and len(acts) == 3
    assert user.frustration > 0.3


async def test_repeated_assistant_reply_raises_frustration_more() -> None:
    a = LLMUser(persona=PLAIN, task=TASK, model=ScriptedModel(echo_plan), seed=3)
    b = LLMUser(persona=PLAIN, task=TASK, model=ScriptedModel(echo_plan), seed=3)
    await a.next_turn([])
    await b.next_turn([])
    await a.next_turn([assistant("Tell me more about it"), assistant("Tell me more about it")])
    await b.next_turn([assistant("Something else entirely"), assistant("Tell me more about it")])
    assert a.frustration > b.frustration


async def test_a_refusal_is_not_a_service_done() -> None:
    """A reply that asks nothing is an order taken, unless it says it cannot help: then
    the customer asks again whether it can be done (no "Ok great, cheers")."""
    from simulacra.sim.users._llm_user import _PUSH_SERVICE

    coffee = next(t for t in suite_tasks("coffee") if t.id == "coffee.double-espresso")
    for refusal, done in (
        ("I'm sorry, but I can't assist with that.", False),
        ("I cannot help with that request.", False),
        ("One double espresso to go, coming right up.", True),
    ):
        user = LLMUser(persona=PLAIN, task=coffee, model=ScriptedModel(echo_plan), seed=2)
        user.revealed = set(range(len(coffee.facts)))
        user.my_turns = [coffee.goal]
        turn = await user.next_turn([assistant(refusal)])
        assert (turn.act == "satisfied") == done, (refusal, turn.act)
        if not done:
            assert turn.act == "push" and turn.text in _PUSH_SERVICE and not turn.stop


async def test_a_customer_confirms_a_read_back_and_closes_a_done_order_in_words() -> None:
    """With everything said: "Is that correct?" gets a yes that it is (not "Sure, go
    on."), "Will that be all?" a yes that it is all, and an order done ("Coming right
    up.") a closing that says so; a figure answered is still accepted with thanks."""
    from simulacra.sim.users._llm_user import _ACCEPT, _DONE, _RIGHT, _THATS_ALL

    coffee = next(t for t in suite_tasks("coffee") if t.id == "coffee.double-espresso")
    seen: dict[str, set[str]] = {"right": set(), "all": set(), "done": set(), "figure": set()}
    for seed in range(12):
        for key, reply in (
            ("right", "One double espresso to go. Is that correct?"),
            ("all", "A double espresso to go. Will that be all for today?"),
            ("done", "One double espresso to go, coming right up."),
        ):
            user = LLMUser(persona=PLAIN, task=coffee, model=ScriptedModel(echo_plan), seed=seed)
            user.revealed = set(range(len(coffee.facts)))
            user.my_turns = [coffee.goal]
            turn = await user.next_turn([assistant(reply)])
            if turn.act == "follow_up":
                continue  # a curious customer asks first (PLAIN's curiosity is 0.1)
            assert turn.stop == (key != "right"), (key, turn)
            seen[key].add(turn.text)
        numeric = LLMUser(persona=PLAIN, task=TASK, model=ScriptedModel(echo_plan), seed=seed)
        numeric.revealed = {0, 1}
        numeric.my_turns = ["How much flour for 10?"]
        turn = await numeric.next_turn([assistant("You need 750 g of flour for 10 people.")])
        if turn.act == "satisfied":
            seen["figure"].add(turn.text)
    assert seen["right"] <= set(_RIGHT) and seen["all"] <= set(_THATS_ALL)
    assert seen["done"] <= set(_DONE) and len(seen["done"]) > 2
    assert seen["figure"] and seen["figure"] <= set(_ACCEPT)


async def test_annoyance_shows_only_when_the_user_is_quite_frustrated() -> None:
    """A user put out a little (frustration 0.6) keeps their tone; a very frustrated one
    sometimes opens with "Ugh." or "Come on." (real users show frustration in well under
    1% of their replies)."""
    from simulacra.sim.users._llm_user import _ANNOYED

    def annoyed(text: str) -> bool:
        return any(text.startswith(a.rstrip(",")) for a in _ANNOYED)

    shown = {}
    for level in (0.6, 1.0):
        texts = []
        for seed in range(40):
            user = LLMUser(persona=PLAIN, task=TASK, model=ScriptedModel(echo_plan), seed=seed)
            await user.next_turn([])
            user.frustration = level
            turn = await user.next_turn([assistant("How many people are you cooking for?")])
            texts.append(turn.text)
        shown[level] = sum(map(annoyed, texts))
    assert shown[0.6] == 0 and shown[1.0] > 0


async def test_guards_regenerate_then_fall_back_and_record_events() -> None:
    drifting = ScriptedModel(
        [
            "Sure! I'd be happy to help you with pancakes.",
            "Certainly, here is the recipe for pancakes.",
            "How can I help you with your pancakes today?",
        ],
        cycle=True,
    )
    user = LLMUser(
        persona=PLAIN,
        task=TASK,
        model=drifting,
        seed=1,
        options=LLMUserOptions(max_regenerations=2),
    )
    turn = await user.next_turn([])
    assert [e.guard for e in turn.guard_events] == ["role_drift"] * 3
    assert [e.action for e in turn.guard_events] == ["regenerate", "regenerate", "fallback"]
    assert turn.text == TASK.goal  # the plain statement
    assert len(drifting.calls) == 3
    seeds = {params.seed for _, params in drifting.calls}
    assert len(seeds) == 3  # each attempt samples differently


async def test_an_endpoint_that_always_answers_as_an_assistant_costs_few_calls() -> None:
    """The same drift twice running ends the turn; after a turn lost to drift, the next
    gets one call only (and a turn that passes restores the full budget)."""
    sure = ScriptedModel(["Sure, here is the answer you asked for."], cycle=True)
    user = LLMUser(persona=PLAIN, task=TASK, model=sure, seed=1)
    first = await user.next_turn([])
    assert [e.action for e in first.guard_events] == ["regenerate", "fallback"]
    assert len(sure.calls) == 2
    transcript = [Message(role="user", content=first.text), assistant("How many people?")]
    for _ in range(2):
        turn = await user.next_turn(transcript)
        assert [e.action for e in turn.guard_events] == ["fallback"]
        transcript += [Message(role="user", content=turn.text), assistant("And then?")]
    assert len(sure.calls) == 4  # 2 + 1 + 1, where it was 3 a turn
    # nothing left to tell: "That's all I know." is the policy's own, no model call
    last = await user.next_turn(transcript)
    assert last.act == "answer" and not last.guard_events and len(sure.calls) == 4
    recovered = LLMUser(persona=PLAIN, task=TASK, model=ScriptedModel(echo_plan), seed=1)
    recovered.budget.drift_streak = 1
    await recovered.next_turn([])
    assert recovered.budget.drift_streak == 0 and recovered._budget() == 2


async def test_a_run_stops_drawing_again_for_a_model_whose_redraws_never_help() -> None:
    """Every episode's user shares the model's record: once REDRAW_PROBES redraws after a
    drift have all drifted too, later episodes' drifting turns cost one call, not two."""
    from simulacra.sim.users._guards import REDRAW_PROBES, redraw_record

    sure = ScriptedModel(["Sure, here is the answer you asked for."], cycle=True)
    calls = []
    for episode in range(REDRAW_PROBES + 4):
        user = LLMUser(persona=PLAIN, task=TASK, model=sure, seed=episode)
        before = len(sure.calls)
        opening = await user.next_turn([])
        calls.append(len(sure.calls) - before)
        assert opening.text == TASK.goal  # the plain planned text, either way
    assert calls == [2] * REDRAW_PROBES + [1] * 4
    record = redraw_record(sure, "role_drift", 1)
    assert (record.tried, record.helped, record.pending) == (REDRAW_PROBES, 0, 0)


async def test_a_model_whose_redraws_often_help_keeps_being_drawn_again() -> None:
    """Drift on the first draw of a turn, a good turn on the second: redrawing pays, so
    it goes on past the probes."""
    from simulacra.sim.users._guards import REDRAW_PROBES, redraw_record

    def drift_then_plan(messages: list[Message], params: ChatParams) -> str:
        first = params.seed is not None and (params.seed - 1) % 7919 == 0
        return "Sure, here is the answer you asked for." if first else echo_plan(messages, params)

    model = ScriptedModel(drift_then_plan)
    for episode in range(REDRAW_PROBES + 4):
        user = LLMUser(persona=PLAIN, task=TASK, model=model, seed=episode * 7919 + 1)
        opening = await user.next_turn([])
        assert [e.action for e in opening.guard_events] == ["regenerate"], episode
        assert opening.meta["user_calls"] == 2
    record = redraw_record(model, "role_drift", 1)
    assert record.tried == REDRAW_PROBES + 4 and record.helped == record.tried


async def test_a_second_redraw_that_never_helps_stops_while_the_first_goes_on() -> None:
    """A voice that leaks every hidden detail: its first redraw passes in every other
    episode, its second never does. After REDRAW_PROBES second redraws the run stops
    making them (the turn falls back to the plan after two calls), but goes on with the
    first redraws, which pay."""
    from simulacra.sim.users._guards import REDRAW_PROBES, redraw_record

    leaky = [  # short (nothing to cut), and different enough not to count as stuck
        "300 g for 4, we're 10.",
        "We are 10; 300 g serves 4.",
        "Ten of us? 4 servings, 300 g.",
    ]

    def voice(messages: list[Message], params: ChatParams) -> str:
        attempt = (params.seed or 0) % 7919
        episode = (params.seed or 0) // 7919
        if attempt == 1 and episode % 2:
            return echo_plan(messages, params)
        return leaky[attempt]

    model = ScriptedModel(voice)
    calls = []
    for episode in range(2 * REDRAW_PROBES + 8):
        user = LLMUser(persona=PLAIN, task=TASK, model=model, seed=episode * 7919)
        opening = await user.next_turn([])
        assert "300 g" not in opening.text  # passed or fell back, never leaked
        calls.append(opening.meta["user_calls"])
    # the even episodes failed their first redraw: the first REDRAW_PROBES of them drew a
    # second time, the later ones did not
    even = calls[::2]
    assert even == [3] * REDRAW_PROBES + [2] * 4
    assert set(calls[1::2]) == {2}  # the first redraw kept being drawn, and passed
    first, second = redraw_record(model, "leak", 1), redraw_record(model, "leak", 2)
    assert (first.tried, first.helped) == (2 * REDRAW_PROBES + 8, REDRAW_PROBES + 4)
    assert (second.tried, second.helped) == (REDRAW_PROBES, 0)


async def test_leak_guard_catches_all_facts_at_once() -> None:
    leaky = ScriptedModel(
        [
            "I need flour, it serves 4 with 300 g and I'm cooking for 10 people.",
            "how much flour for more people?",
        ]
    )
    user = LLMUser(persona=PLAIN, task=TASK, model=leaky, seed=1)
    turn = await user.next_turn([])
    assert turn.guard_events[0].guard == "leak"
    assert turn.text.lower() == "how much flour for more people?"


def test_guard_order_and_cases() -> None:
    facts = TASK.facts
    assert check_turn("", planned="x", fact=None, hidden=[], previous=[])[0] == "empty"  # type: ignore[index]
    assert (
        check_turn(
            "How can I help you today?", planned="I need flour", fact=None, hidden=[], previous=[]
        )[0]
        == "role_drift"
    )  # type: ignore[index]
    assert (
        check_turn("it makes 4", planned=facts[0].text, fact=facts[0], hidden=[], previous=[])[0]
        == "dropped_fact"
    )  # type: ignore[index]
    assert (
        check_turn(
            "how much flour then",
            planned="how much flour do I need",
            fact=None,
            hidden=[],
            previous=["How much flour then?"],
        )[0]
        == "repetition"
    )  # type: ignore[index]
    assert (
        check_turn(
            "what a nice day", planned="how much flour do I need", fact=None, hidden=[], previous=[]
        )[0]
        == "off_plan"
    )  # type: ignore[index]
    assert (
        check_turn(
            "how much flour do i need",
            planned="how much flour do I need",
            fact=None,
            hidden=[Fact(text="serves 4")],
            previous=[],
        )
        is None
    )


def test_clean_turn_strips_wrappers() -> None:
    assert clean_turn('"how much flour?"') == "how much flour?"
    assert clean_turn("User: how much flour?\n\nNote: I kept the numbers.") == "how much flour?"


def test_length_follows_verbosity() -> None:
    rng = random.Random(0)
    terse = Persona(name="t", background="x", verbosity=0.0)
    wordy = Persona(name="w", background="x", verbosity=1.0)
    short = statistics.median(length_target(terse, rng) for _ in range(500))
    long = statistics.median(length_target(wordy, rng) for _ in range(500))
    assert 4 <= short <= 5 and 30 <= long <= 37
    calm = statistics.mean(length_target(wordy, rng) for _ in range(500))
    angry = statistics.mean(length_target(wordy, rng, frustration=1.0) for _ in range(500))
    assert angry < 0.7 * calm


def test_typos_at_the_persona_rate_and_numbers_untouched() -> None:
    rng = random.Random(1)
    text = " ".join(["recipe"] * 2000) + " 300 g"
    styled, count = add_typos(text, 0.1, rng)
    assert 160 <= count <= 240
    assert styled.endswith("300 g")


def test_casing_and_punctuation_rates() -> None:
    rng = random.Random(5)
    persona = Persona(
        name="x", background="y", typo_rate=0.0,
        style=WritingStyle(lowercase_rate=0.3, end_punctuation_rate=0.5, greeting_rate=0.0),
    )  # fmt: skip
    outputs = [apply_style("How much flour do I need.", persona, rng) for _ in range(2000)]
    lower = sum(o[0].islower() for o in outputs) / len(outputs)
    ended = sum(o.endswith(".") for o in outputs) / len(outputs)
    assert 0.26 < lower < 0.34 and 0.45 < ended < 0.55


async def test_default_population_looks_like_real_users() -> None:
    """Short, informal: median words near 17 or below, some lowercase starts, some questions."""
    words, lower, questions = [], 0, 0
    turns = 0
    for persona in builtin_personas():
        for task in suite_tasks("everyday")[:6]:
            user = LLMUser(persona=persona, task=task, model=ScriptedModel(echo_plan), seed=11)
            transcript: list[Message] = []
            for reply in (
                "What exactly do you need?",
                "Could you tell me more?",
                "The answer is 12.",
            ):
                turn = await user.next_turn(transcript)
                words.append(len(turn.text.split()))
                lower += turn.text[:1].islower()
                questions += "?" in turn.text
                turns += 1
                transcript += [Message(role="user", content=turn.text), assistant(reply)]
    assert statistics.median(words) <= 17
    assert 0.08 < lower / turns < 0.5
    assert 0.1 < questions / turns < 0.6


def test_pronoun_flip_is_role_drift() -> None:
    from simulacra.sim.users._guards import role_drift

    planned = "How much would making coffee at home save me in the first year?"
    assert role_drift("Making coffee at home would save you money.", planned)
    assert role_drift("how much would i save making coffee at home?", planned) is None
    assert role_drift("can you tell me what coffee at home saves?", planned) is None
    assert role_drift("You would save about 500 in the first year.", planned)
    # asking the assistant to do something is what users do
    assert role_drift("Could you work out the yearly savings of coffee at home?", planned) is None
    assert (
        role_drift("whats the first-year saving if coffee is made at home, can you check?", planned)
        is None
    )


def test_the_quick_similarity_check_agrees_with_the_full_ratio() -> None:
    import random

    from simulacra.sim.users._guards import similar, similarity

    rng = random.Random(0)
    words = [
        "the",
        "a",
        "flour",
        "people",
        "need",
        "how",
        "much",
        "750",
        "g",
        "sure",
        "thanks",
        "draft",
        "email",
    ]
    for _ in range(2000):
        a = " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        b = " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        threshold = rng.choice([0.5, 0.8, 0.9])
        assert similar(a, b, threshold) == (similarity(a, b) >= threshold), (a, b, threshold)


async def test_a_curious_user_of_a_service_asks_what_comes_next_not_how_it_was_worked_out() -> None:
    """Once a booking is made, a follow-up is about the booking ("Do I need to do anything
    else?"), never a figure's rounding; on a numeric task it is still about the figure."""
    from simulacra.sim.users._llm_user import _FOLLOW_UP, _FOLLOW_UP_SERVICE

    curious = PLAIN.model_copy(
        update={"big_five": PLAIN.big_five.model_copy(update={"openness": 1.0})}
    )
    booking = next(t for t in suite_tasks("bookings") if t.id == "bookings.taxi-station")
    assert booking.metadata["kind"] == "service"
    done = assistant(
        "I have booked a taxi from the Grafton Hotel to the station for 08:15 tomorrow: "
        "a grey Skoda, driver's number 07700 900123."
    )
    asked = {"service": set(), "figure": set()}
    for seed in range(40):
        user = LLMUser(persona=curious, task=booking, model=ScriptedModel(echo_plan), seed=seed)
        user.revealed = set(range(len(booking.facts)))
        user.my_turns = ["Can you book me a taxi to the train station?"]
        turn = await user.next_turn([assistant("Where from?"), done])
        if turn.act == "follow_up":
            asked["service"].add(turn.text)
        numeric = LLMUser(persona=curious, task=TASK, model=ScriptedModel(echo_plan), seed=seed)
        numeric.revealed = {0, 1}
        numeric.my_turns = ["How much flour for 10?"]
        turn = await numeric.next_turn([assistant("You need 750 g of flour for 10 people.")])
        if turn.act == "follow_up":
            asked["figure"].add(turn.text)

    def words(text: str) -> str:
        return " ".join(re.findall(r"[a-z']+", text.lower()))

    assert asked["service"] and asked["figure"]
    assert {words(t) for t in asked["service"]} <= {words(q) for q in _FOLLOW_UP_SERVICE}
    assert {words(t) for t in asked["figure"]} <= {words(q) for q in _FOLLOW_UP}


BOOKING = next(t for t in suite_tasks("bookings") if t.id == "bookings.italian-centre")


async def test_an_unhelpful_customer_asks_what_there_is_never_to_be_told_roughly() -> None:
    """A customer who will not answer a booking question asks what there is ("What would
    you suggest?"); "Just tell me roughly" is for a figure, not a table time."""
    from simulacra.sim.users._llm_user import _DEFLECT, _DEFLECT_SERVICE

    contrary = PLAIN.model_copy(update={"cooperativeness": 0.0, "verbosity": 0.0})
    said = {"service": set(), "figure": set()}
    for seed in range(20):
        booking = LLMUser(persona=contrary, task=BOOKING, model=ScriptedModel(echo_plan), seed=seed)
        await booking.next_turn([])
        turn = await booking.next_turn([assistant("Which day would you like to come in?")])
        said["service"].add((turn.act, turn.text))
        numeric = LLMUser(persona=contrary, task=TASK, model=ScriptedModel(echo_plan), seed=seed)
        await numeric.next_turn([])
        turn = await numeric.next_turn([assistant("Which flour are you using?")])
        said["figure"].add((turn.act, turn.text))
    assert {act for act, _ in said["service"] | said["figure"]} == {"deflect"}
    assert {text for _, text in said["service"]} <= set(_DEFLECT_SERVICE)
    assert {text for _, text in said["figure"]} <= set(_DEFLECT)
    assert len({text for _, text in said["service"]}) > 1


async def test_a_service_user_adds_details_in_order_and_says_goodbye_when_asked() -> None:
    """A short confirmation is the service done (not "So what's the answer?"); the next
    detail comes in the order the user has them; "Anything else?" opens the second request
    (a switch) once the first is done, and ends it when nothing is left to ask."""
    terse = PLAIN.model_copy(update={"verbosity": 0.0})  # one detail a turn
    user = LLMUser(persona=terse, task=BOOKING, model=ScriptedModel(echo_plan), seed=4)
    opening = await user.next_turn([])
    transcript = [Message(role="user", content=opening.text)]
    acts = []
    for reply in [
        "Bella Italia is a nice Italian place in the centre.",
        "Okay.",
        "Booked.",
        "Is there anything else I can help you with?",
        "Okay.",
        "Done. Is there anything else I can help you with?",
    ]:
        transcript.append(assistant(reply))
        turn = await user.next_turn(transcript)
        acts.append(turn.act)
        transcript.append(Message(role="user", content=turn.text))
        if turn.stop:
            break
    told = [m.content for m in transcript if m.role == "user"][1:6]
    for fact, text in zip(BOOKING.facts, told, strict=True):
        assert mentions(fact, text), (fact, text)
    assert acts[:5] == ["add", "add", "add", "switch", "add"] and "push" not in acts
    assert acts[-1] == "satisfied" and turn.stop and turn.meta["user_calls"] == 0


async def test_anything_else_brings_out_the_next_detail_of_any_task() -> None:
    user = LLMUser(persona=PLAIN, task=TASK, model=ScriptedModel(echo_plan), seed=1)
    await user.next_turn([])
    turn = await user.next_turn([assistant("Anything else I should know?")])
    assert turn.act == "reveal" and TASK.facts[0].mentioned_in(turn.text)


def test_a_fact_after_a_stock_opener_continues_its_sentence() -> None:
    from simulacra.sim.users._llm_user import _after

    assert _after("Oh, and ", "A table for 4, please.") == "Oh, and a table for 4, please."
    assert _after("Also, ", "I'm driving.") == "Also, I'm driving."
    assert _after("Hold on, you're missing something. ", "It's 4.") == (
        "Hold on, you're missing something. It's 4."
    )
    assert _after("One more thing: ", "It's 4.") == "One more thing: It's 4."
    assert _after("", "It's 4.") == "It's 4."


async def test_a_talkative_service_user_gives_two_details_at_once_and_must_say_both() -> None:
    talkative = PLAIN.model_copy(update={"verbosity": 1.0})
    user = LLMUser(persona=talkative, task=BOOKING, model=ScriptedModel(echo_plan), seed=4)
    opening = await user.next_turn([])
    assert mentions(BOOKING.facts[0], opening.text) and opening.meta["also"]
    turn = await user.next_turn([assistant("Bella Italia is a nice Italian place in the centre.")])
    assert turn.act == "add"
    assert mentions(BOOKING.facts[1], turn.text) and mentions(BOOKING.facts[2], turn.text)
    # a voice that drops the second detail is regenerated, then the plan is said plainly
    dropping = ScriptedModel(["A table for 4 at 19:30, please."], cycle=True)
    again = LLMUser(persona=talkative, task=BOOKING, model=dropping, seed=4)
    again.my_turns = ["italian in the centre tonight?"]
    again.revealed = {0}
    second = await again.next_turn([assistant("Bella Italia is a nice Italian place.")])
    assert any(e.guard == "dropped_fact" for e in second.guard_events)
    assert mentions(BOOKING.facts[2], second.text)


async def test_a_service_question_the_user_has_no_view_on_gets_no_preference_and_the_next_detail() -> (
    None
):
    from simulacra.sim.users._llm_user import _NO_PREFERENCE

    terse = PLAIN.model_copy(update={"verbosity": 0.0})
    user = LLMUser(persona=terse, task=BOOKING, model=ScriptedModel(echo_plan), seed=5)
    await user.next_turn([])
    turn = await user.next_turn([assistant("Which part of the centre would you like?")])
    assert turn.act == "reveal" and mentions(BOOKING.facts[0], turn.text)
    assert any(turn.text.lower().startswith(p.lower().rstrip(".")) for p in _NO_PREFERENCE)


async def test_with_nothing_left_a_customer_has_no_preference_and_a_learner_knows_no_more() -> None:
    from simulacra.sim.users._llm_user import _NO_PREFERENCE, _NOTHING_MORE

    coffee = next(t for t in suite_tasks("coffee"))
    for task, phrases in ((coffee, _NO_PREFERENCE), (TASK, _NOTHING_MORE)):
        user = LLMUser(persona=PLAIN, task=task, model=ScriptedModel(echo_plan), seed=3)
        user.revealed = set(range(len(task.facts)))
        user.my_turns = [task.goal]
        turn = await user.next_turn([assistant("Which size would you like?")])
        assert turn.act == "answer" and turn.text in phrases, (task.id, turn.text)


TWO_SERVICES = next(t for t in suite_tasks("bookings") if t.id == "bookings.italian-centre")


async def test_a_second_request_waits_until_the_first_is_done_then_the_user_turns_to_it() -> None:
    """The taxi is asked for once the table's details are said, as a switch, not before
    (not bundled with the table, not given to a question about the table), and its own
    detail follows it."""
    talkative = PLAIN.model_copy(update={"verbosity": 1.0})
    user = LLMUser(persona=talkative, task=TWO_SERVICES, model=ScriptedModel(echo_plan), seed=4)
    request = next(i for i, f in enumerate(TWO_SERVICES.facts) if f.request)
    assert user._open() == list(range(request))
    opening = await user.next_turn([])
    transcript = [Message(role="user", content=opening.text)]
    acts = []
    for reply in [
        "Bella Italia is a nice Italian place in the centre.",
        "Booked, your reference is X1.",
        "What time should the taxi come?",
        "Done, a taxi will be there.",
    ]:
        transcript.append(assistant(reply))
        turn = await user.next_turn(transcript)
        acts.append(turn.act)
        transcript.append(Message(role="user", content=turn.text))
        if turn.act == "switch":
            assert mentions(TWO_SERVICES.facts[request], turn.text)
            assert all(i in user.revealed for i in range(request))
        if turn.stop:
            break
    assert "switch" in acts
    before = acts.index("switch")
    assert not any(
        mentions(TWO_SERVICES.facts[request], t.content) for t in transcript[: 2 * before + 1]
    )
    assert mentions(TWO_SERVICES.facts[request + 1], " ".join(m.content for m in transcript))
    assert acts[-1] == "satisfied" and user.request == request


async def test_a_request_the_assistant_cannot_do_is_dropped_and_the_rest_kept() -> None:
    """ "Unfortunately I can't book taxis." lets the taxi go (its detail is never said) and
    ends the conversation: no push, no give-up, the table stands."""
    terse = PLAIN.model_copy(update={"verbosity": 0.0})
    user = LLMUser(persona=terse, task=TWO_SERVICES, model=ScriptedModel(echo_plan), seed=4)
    request = next(i for i, f in enumerate(TWO_SERVICES.facts) if f.request)
    user.my_turns = ["italian food in the centre tonight?"]
    user.revealed = set(range(request))
    switch = await user.next_turn([assistant("Your table is booked, reference X1.")])
    assert switch.act == "switch" and user.request == request
    turn = await user.next_turn(
        [assistant("Unfortunately I can't book taxis. You could call a local firm.")]
    )
    assert turn.act == "drop" and turn.stop and turn.stop_reason == "satisfied"
    assert turn.meta["user_calls"] == 0  # nothing new to say: no model call
    assert request + 1 in user.dropped and not mentions(TWO_SERVICES.facts[request + 1], turn.text)
    # an offer of something else is answered, not dropped
    again = LLMUser(persona=terse, task=TWO_SERVICES, model=ScriptedModel(echo_plan), seed=4)
    again.my_turns, again.revealed, again.request = ["hi"], set(range(request + 1)), request
    answer = await again.next_turn(
        [assistant("Unfortunately none are free at 19:00. Would 19:15 work?")]
    )
    assert answer.act != "drop"


async def test_a_further_request_the_assistant_keeps_failing_is_dropped_not_given_up() -> None:
    from simulacra.sim.users._llm_user import _DROP

    terse = PLAIN.model_copy(update={"verbosity": 0.0, "patience": 0})
    request = next(i for i, f in enumerate(TWO_SERVICES.facts) if f.request)
    user = LLMUser(persona=terse, task=TWO_SERVICES, model=ScriptedModel(echo_plan), seed=4)
    user.my_turns, user.revealed, user.request = ["hi"], set(range(request + 1)), request
    turn = await user.next_turn([assistant("")])
    assert turn.act == "drop" and any(turn.text.startswith(d) for d in _DROP)
    # on the goal itself, the same run of failures is a give-up
    plain = LLMUser(persona=terse, task=TWO_SERVICES, model=ScriptedModel(echo_plan), seed=4)
    plain.my_turns = ["hi"]
    assert (await plain.next_turn([assistant("")])).act == "gave_up"
