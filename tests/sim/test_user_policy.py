"""The default user's policy and voice: what it takes for an answer, the acts it has,
what the voice sees, stock openers, casing and length. Scripted models only."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from simulacra.llm import ChatParams, Message, ScriptedModel
from simulacra.people import Persona, WritingStyle, builtin_personas
from simulacra.sim.users import (
    CANNED_OPENERS,
    LLMUser,
    LLMUserOptions,
    UserContext,
    apply_style,
    check_turn,
    cut_at_sentence,
    length_target,
    simulator_entry,
)
from simulacra.sim.users._llm_user import _REPEATED, LLMSimulatorOptions
from simulacra.tasks import Fact, Task, suite_tasks
from simulacra.tasks._env_tasks import as_task
from simulacra.tasks.envs import EnvTask
from simulacra.trust import opener_shares
from user_helpers import PLAIN, echo_plan

PANCAKES = next(t for t in suite_tasks("everyday") if t.id == "pancakes-scale")


def assistant(text: str) -> Message:
    return Message(role="assistant", content=text)


def user(text: str) -> Message:
    return Message(role="user", content=text)


async def _revealed_everything(u: LLMUser) -> list[Message]:
    transcript: list[Message] = []
    opening = await u.next_turn(transcript)
    transcript += [user(opening.text), assistant("How many people does it serve now?")]
    first = await u.next_turn(transcript)
    transcript += [user(first.text), assistant("And how many are you cooking for?")]
    second = await u.next_turn(transcript)
    assert {first.act, second.act} == {"reveal"}
    return [*transcript, user(second.text)]


async def test_echoing_the_users_own_figures_is_not_an_answer() -> None:
    """The demo's case: the assistant repeats 10 people and 300 g without the 750 g."""
    u = LLMUser(persona=PLAIN, task=PANCAKES, model=ScriptedModel(echo_plan), seed=1)
    transcript = await _revealed_everything(u)
    echo = "Okay! So you are cooking for 10 people, and the recipe uses 300 g of flour for 4."
    turn = await u.next_turn([*transcript, assistant(echo)])
    assert not turn.stop and turn.act == "push"
    assert "thanks" not in turn.text.lower()
    transcript += [assistant(echo), user(turn.text)]
    done = await u.next_turn([*transcript, assistant("You need 750 g of flour.")])
    assert done.stop and done.stop_reason == "satisfied"


def test_gives_answer_knows_what_the_user_said() -> None:
    said = "I'm cooking for 10 people. The recipe makes 4 and uses 300 g of flour."
    assert not PANCAKES.gives_answer("For 10 people with 300 g, right?", said=said)
    assert not PANCAKES.gives_answer("10 people and 300 g, got it.", said=said)
    assert not PANCAKES.gives_answer("Would 750 g work for you?", said=said)  # only asks
    assert PANCAKES.gives_answer("Use 750 g of flour for 10 people.", said=said)
    assert PANCAKES.gives_answer("10 people and 300 g, got it.")  # the loop's old reading
    weekday = next(t for t in suite_tasks("everyday") if t.id == "appointment-weekday")
    told = "What day of the week is my dentist appointment? It is on 15 July 2026."
    assert not weekday.gives_answer("Which day is the appointment on?", said=told)
    assert not weekday.gives_answer("Your dentist appointment is on 15 July 2026.", said=told)
    assert weekday.gives_answer("That is a Wednesday.", said=told)


async def test_the_voice_sees_the_assistants_last_reply() -> None:
    model = ScriptedModel(echo_plan)
    u = LLMUser(persona=PLAIN, task=PANCAKES, model=model, seed=1)
    await u.next_turn([])
    await u.next_turn([user("hi"), assistant("Could you tell me how many it serves today?")])
    prompt = model.calls[-1][0]
    assert "Could you tell me how many it serves today?" in prompt[-1].content
    assert prompt[-1].content.rstrip().endswith(PANCAKES.facts[0].text)


async def test_a_yes_no_question_gets_an_answer() -> None:
    u = LLMUser(persona=PLAIN, task=PANCAKES, model=ScriptedModel(echo_plan), seed=4)
    transcript = await _revealed_everything(u)
    turn = await u.next_turn([*transcript, assistant("Shall I work it out in grams?")])
    assert turn.act == "answer" and turn.text.lower().startswith(("yes", "yeah", "sure"))


CODE = next(t for t in suite_tasks("code") if t.id == "clean-phone-number")
RIGHT = CODE.reference
NAIVE = "```python\ndef clean_phone(raw):\n    return ''.join(c for c in raw if c.isdigit())\n```"
TWEAKED = NAIVE.replace("c for c", "ch for ch").replace("c.isdigit", "ch.isdigit")


async def test_a_draft_missing_a_requirement_gets_an_edit_request_then_a_revision() -> None:
    from simulacra.sim.users import sharded_view

    task = sharded_view(CODE)
    u = LLMUser(persona=PLAIN, task=task, model=ScriptedModel(echo_plan), seed=2)
    opening = await u.next_turn([])
    transcript = [user(opening.text), assistant(NAIVE)]
    edit = await u.next_turn(transcript)
    assert edit.act == "edit" and edit.meta["fact"] in [f.text for f in task.facts]
    # a revision is very like the draft before it, but it is not a repeat
    transcript += [user(edit.text), assistant(TWEAKED)]
    again = await u.next_turn(transcript)
    assert again.act == "edit" and u.unhelpful == 0
    assert not again.text.startswith(tuple(_REPEATED))


async def test_a_finished_draft_is_approved_or_objected_to() -> None:
    task = CODE.model_copy(update={"facts": []})
    good = LLMUser(persona=PLAIN, task=task, model=ScriptedModel(echo_plan), seed=2)
    opening = await good.next_turn([])
    approved = await good.next_turn([user(opening.text), assistant(RIGHT)])
    assert approved.act == "approve" and approved.stop and approved.stop_reason == "satisfied"
    bad = LLMUser(persona=PLAIN, task=task, model=ScriptedModel(echo_plan), seed=2)
    opening = await bad.next_turn([])
    objected = await bad.next_turn([user(opening.text), assistant(NAIVE)])
    assert objected.act == "object" and not objected.stop


def test_example_words_and_key_phrases_are_guarded() -> None:
    from simulacra.sim.users._llm_user import _SHOT_MARKERS

    problem = check_turn(
        "how long do i boil the eggs for the bill?",
        planned="Can you help me split a restaurant bill?",
        fact=None,
        hidden=[],
        previous=[],
        context="Can you help me split a restaurant bill with a tip?",
        examples=_SHOT_MARKERS,
    )
    assert problem is not None and problem[0] == "example_leak"
    assert (
        check_turn(
            "I have a dozen eggs, how many cakes can I bake?",
            planned="I have a dozen eggs, how many cakes can I bake?",
            fact=None,
            hidden=[],
            previous=[],
            context="cakes and eggs",
            examples=_SHOT_MARKERS,
        )
        is None
    )
    vegetarian = Fact(text="Everyone at the dinner is vegetarian.")
    leak = check_turn(
        "need a dinner menu, we're all vegetarian btw",
        planned="I need a dinner menu for six friends.",
        fact=None,
        hidden=[vegetarian],
        previous=[],
    )
    assert leak is not None and leak[0] == "leak"
    dropped = check_turn(
        "ok and it's for a dinner",
        planned=vegetarian.text,
        fact=vegetarian,
        hidden=[],
        previous=[],
    )
    assert dropped is not None and dropped[0] == "dropped_fact"
    assert (
        check_turn(
            "oh and everyone there is a vegetarian",
            planned=vegetarian.text,
            fact=vegetarian,
            hidden=[],
            previous=[],
        )
        is None
    )


async def test_no_stock_opener_opens_more_than_5_percent_of_turns() -> None:
    """A run of unhelpful and premature assistants, where stock openers are most used."""
    replies = [
        "Just use 300 g.",
        "Pancakes are lovely.",
        "What else?",
        "Try 500 g.",
        "Pancakes are lovely.",
    ]
    turns: list[str] = []
    tasks = suite_tasks("everyday")[:8]
    for persona in builtin_personas():
        for task in tasks:
            u = LLMUser(persona=persona, task=task, model=ScriptedModel(echo_plan), seed=3)
            transcript: list[Message] = []
            for reply in replies:
                turn = await u.next_turn(transcript)
                turns.append(turn.text)
                if turn.stop:
                    break
                transcript += [user(turn.text), assistant(reply)]
    shares = opener_shares(turns, canned=CANNED_OPENERS)
    assert len(turns) > 300
    worst = max(shares["canned"].items(), key=lambda item: item[1])
    assert worst[1] <= 0.05, worst


def test_casing_is_restored_as_well_as_lowered() -> None:
    rng = random.Random(3)
    persona = Persona(
        name="x",
        background="y",
        typo_rate=0.0,
        style=WritingStyle(lowercase_rate=0.1, end_punctuation_rate=1.0, greeting_rate=0.0),
    )
    outputs = [apply_style("how much flour do i need?", persona, rng) for _ in range(1000)]
    lower = sum(o[0].islower() for o in outputs) / len(outputs)
    assert 0.07 < lower < 0.13
    assert any(o.startswith("How much flour do I need") for o in outputs)


def test_cuts_fall_at_sentence_ends() -> None:
    text = "I ran 6.2 miles this morning. It took me an hour. How far is that in km?"
    assert cut_at_sentence(text, 7) == "I ran 6.2 miles this morning."
    assert cut_at_sentence(text, 11) == "I ran 6.2 miles this morning. It took me an hour."
    assert cut_at_sentence(text, 40) == text
    long = "I need the flour for ten people, and the recipe says 300 g for four, so what now"
    assert cut_at_sentence(long, 3) == "I need the flour for ten people"


def test_turn_lengths_have_the_human_spread() -> None:
    """Pooled human turns (MultiWOZ and Taskmaster samples): log-sd 0.65, 17% of turns
    at five words or fewer; targets across the built-in population come close."""
    rng = random.Random(0)
    targets = [length_target(p, rng) for p in builtin_personas() for _ in range(400)]
    logs = [math.log(t) for t in targets]
    short = sum(t <= 5 for t in targets) / len(targets)
    assert 0.1 < short < 0.35
    assert 0.6 < statistics.pstdev(logs) < 0.95
    assert 6 <= statistics.median(targets) <= 11


def _env_task(instruction: str, env: str) -> Task:
    return as_task(
        EnvTask(id="t1", suite="s", env=env, instruction=instruction, actions=(), outputs=()),
        environment="shop",
    )


def test_full_instruction_is_an_option_and_the_default_for_tau_retail() -> None:
    entry = simulator_entry("llm")[0]
    instruction = (
        "Your name is Yusuf Rossi and your zip code is 19122. You want to exchange a keyboard."
    )
    shop = _env_task(instruction, "shop")
    retail = shop.model_copy(update={"environment": "tau-retail"})

    def built(task: Task, option: str) -> LLMUser:
        made = entry.build(
            UserContext(
                persona=PLAIN,
                task=task,
                model=ScriptedModel(echo_plan),
                seed=0,
                options=LLMSimulatorOptions(instruction=option),
            )
        )
        assert isinstance(made, LLMUser)
        return made

    assert built(retail, "auto").instruction == instruction
    assert built(shop, "auto").instruction is None
    assert built(shop, "full").instruction == instruction
    assert built(retail, "facts").instruction is None
    assert instruction in built(retail, "auto")._system()


def test_an_instruction_without_any_identity_fails_loudly() -> None:
    from simulacra.errors import ConfigError

    with pytest.raises(ConfigError, match="names no identity"):
        _env_task("You want to return something you bought.", "shop")
    task = _env_task("You are Yusuf Rossi in 19122. You want to exchange a keyboard.", "shop")
    assert {f.text for f in task.facts} >= {"My zip code is 19122.", "My first name is Yusuf."}


async def test_regenerations_are_bounded_by_options() -> None:
    drifting = ScriptedModel(
        ["Sure, here is the answer.", "Let me know if you need more."], cycle=True
    )
    u = LLMUser(
        persona=PLAIN,
        task=PANCAKES,
        model=drifting,
        seed=1,
        options=LLMUserOptions(max_regenerations=4),
    )
    turn = await u.next_turn([])
    assert len(turn.guard_events) == 5 and turn.meta["user_calls"] == 5


async def test_stock_acts_are_said_in_the_policys_words_without_a_model_call() -> None:
    """A give-up, a push, an acceptance: no model voices them (a small model says "good
    idea" for a give-up and "I'm glad you found it helpful" for thanks)."""
    from simulacra.sim.users._llm_user import _ACCEPT, _GIVE_UP

    model = ScriptedModel(["good idea"])
    impatient = PLAIN.model_copy(update={"patience": 0})
    u = LLMUser(persona=impatient, task=PANCAKES, model=model, seed=1)
    u.my_turns.append("how much flour do i need?")
    turn = await u.next_turn([assistant("Pancakes are a lovely breakfast.")])
    assert turn.act == "gave_up" and turn.meta["user_calls"] == 0 and not model.calls
    assert turn.text.rstrip(".!") in {g.rstrip(".!") for g in _GIVE_UP}
    satisfied = LLMUser(persona=PLAIN, task=PANCAKES, model=model, seed=2)
    satisfied.revealed = {0, 1}
    satisfied.followed_up = True
    satisfied.my_turns.append("how much flour do i need?")
    done = await satisfied.next_turn([assistant("For 10 people you need 750 g of flour.")])
    assert done.act == "satisfied" and done.meta["user_calls"] == 0 and not model.calls
    assert done.text.rstrip(".!") in {a.rstrip(".!") for a in _ACCEPT}


def test_a_stock_opener_is_counted_on_whole_words_only() -> None:
    turns = [
        "Looks good to me",
        "Look, I need it by 10.",
        "Yesterday it worked",
        "Yes.",
        "yes please",
    ]
    shares = opener_shares(turns, canned=["Look,", "Yes."])
    assert shares["canned"] == {"Look,": 0.2, "Yes.": 0.4}


async def test_a_service_user_is_shown_an_offer_answered_not_a_draft_edited() -> None:
    """The voice's third example is a draft edit for most tasks; a booking user copied its
    manner ("can you make it more concise?"), so a service user sees an offer answered,
    and the words of either example are guarded."""
    from simulacra.sim.users._llm_user import _SHOT_MARKERS

    booking = next(t for t in suite_tasks("bookings") if t.id == "bookings.italian-centre")
    seen: list[list[Message]] = []

    def voice(messages: list[Message], params: ChatParams) -> str:
        seen.append(messages)
        return echo_plan(messages, params)

    for task in (booking, PANCAKES):
        await LLMUser(persona=PLAIN, task=task, model=ScriptedModel(voice), seed=1).next_turn([])
    service, other = (" ".join(m.content for m in prompt) for prompt in seen)
    assert "less formal" not in service and "bike be ready by" in service
    assert "less formal" in other and "bike" not in other
    for leaked in ["can you make it sound more formal?", "will the bike be ready by fri?"]:
        problem = check_turn(
            leaked,
            planned="I'll need the reference number.",
            fact=None,
            hidden=[],
            previous=[],
            context=booking.goal,
            examples=_SHOT_MARKERS,
        )
        assert problem is not None and problem[0] == "example_leak", leaked


@pytest.mark.parametrize(
    ("question", "asked", "span"),
    [
        ("Do you prefer oat milk or any other milk?", "Can I get a latte with oat milk?", "oat milk"),
        ("What milk would you like?", "Can I get a latte with oat milk?", "oat milk"),
        ("Would you like whipped cream on that?", "A mocha, but no whipped cream.", "no whipped cream"),
        ("Hot or iced?", "One iced americano, please.", "iced"),
        ("What size would you like?", "Can I get a latte with oat milk?", None),
        ("What time would you like to leave?", "I need a train to London on Friday.", None),
    ],
)  # fmt: skip
def test_what_a_question_asks_of_the_users_own_request(
    question: str, asked: str, span: str | None
) -> None:
    from simulacra.sim.users._llm_user import asked_about

    assert asked_about(question, asked) == span


def test_a_confirmation_restates_the_request_and_keeps_its_negation() -> None:
    from simulacra.sim.users._llm_user import _YES, confirmation

    rng = random.Random(0)
    said = {confirmation("no whipped cream", yes_no=True, rng=rng) for _ in range(30)}
    assert said and all(s.startswith("No whipped cream") for s in said)
    yes = {confirmation("double espresso", yes_no=True, rng=rng) for _ in range(30)}
    assert all(s.startswith(("Yes, double espresso", "Yeah, double espresso")) for s in yes)
    # a yes/no question about one word of the request ("Shall I book the table?")
    assert {confirmation("table", yes_no=True, rng=rng) for _ in range(20)} <= set(_YES)
    assert confirmation("oat milk", yes_no=False, rng=rng)[0].isupper()


async def test_asked_about_what_they_ordered_a_customer_says_it_again() -> None:
    """The embedded barista asked "Do you prefer oat milk or any other milk?" of a latte
    with oat milk; the customer said "no idea". A person restates it, without a model
    call, whether or not details are left to give; asked what the order does not say,
    they give the next detail as before."""
    coffee = {t.id: t for t in suite_tasks("coffee")}
    model = ScriptedModel(echo_plan)
    terse = PLAIN.model_copy(update={"verbosity": 0.0})  # one thing a turn
    u = LLMUser(persona=terse, task=coffee["coffee.oat-latte"], model=model, seed=1)
    opening = await u.next_turn([])
    assert "large" not in opening.text.lower()
    calls = len(model.calls)
    asked = "Sure! Can you tell me if you prefer oat milk or any other milk?"
    turn = await u.next_turn([user(opening.text), assistant(asked)])
    assert turn.act == "confirm" and "oat milk" in turn.text.lower()
    assert len(model.calls) == calls and not turn.stop
    size = await u.next_turn(
        [user(opening.text), assistant(asked), user(turn.text), assistant("What size?")]
    )
    assert size.act == "reveal" and "large" in size.text.lower()
    mocha = LLMUser(persona=PLAIN, task=coffee["coffee.mocha-no-cream"], model=model, seed=1)
    mocha.revealed = {0}
    mocha.my_turns.append("A mocha, but no whipped cream, with 2% milk.")
    cream = await mocha.next_turn([assistant("Would you like whipped cream on top?")])
    assert cream.act == "confirm" and cream.text.lower().startswith("no whipped cream")
    americano = LLMUser(persona=PLAIN, task=coffee["coffee.iced-americano"], model=model, seed=1)
    americano.revealed = {0}
    americano.my_turns.append("One iced americano, no sugar, just a little milk.")
    iced = await americano.next_turn([assistant("Would you like that hot or iced?")])
    assert iced.act == "confirm" and "iced" in iced.text.lower()  # not "Yes, please."


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("What would you like to drink?", True),
        ("How can I assist you today?", True),
        ("What kind of coffee are you looking for?", True),
        ("What type of mocha would you like to make?", True),
        ("Can you please provide me with your order or any other details?", True),
        ("What size would you like?", False),
        ("What time would you like to leave?", False),
        ("Which area would you like?", False),
        ("Would you like a receipt?", False),
    ],
)
def test_what_counts_as_asking_what_the_user_wants(question: str, wanted: bool) -> None:
    from simulacra.sim.users._llm_user import asks_what_wanted

    assert asks_what_wanted(question) is wanted


async def test_asked_what_they_want_a_user_says_the_request_again() -> None:
    """The embedded barista lost the order and asked "What would you like to drink?";
    the customer said "No preference.". A person says the order again, with the details
    given so far, and the next one if any is left."""
    latte = next(t for t in suite_tasks("coffee") if t.id == "coffee.oat-latte")
    terse = PLAIN.model_copy(update={"verbosity": 0.0})
    u = LLMUser(persona=terse, task=latte, model=ScriptedModel(echo_plan), seed=1)
    opening = await u.next_turn([])
    transcript = [user(opening.text), assistant("Hi! What would you like to drink?")]
    again = await u.next_turn(transcript)
    assert again.act == "restate" and "oat milk" in again.text and "large" in again.text
    assert u.revealed == {0}  # the size, said along with it
    transcript += [user(again.text), assistant("Sure. So what can I get for you?")]
    last = await u.next_turn(transcript)
    assert last.act == "restate" and "latte with oat milk" in last.text and not last.stop
    # asked a second time, the user says so, and counts the assistant unhelpful
    assert last.text.startswith(("Like I said,", "As I said,", "Again:"))
    assert u.unhelpful == 1 and last.text != again.text
    # said in the user's own words, with no model call: a voice writing only "You already
    # said that." would drop the order itself
    assert again.meta["user_calls"] == 0 and last.meta["user_calls"] == 0


async def test_a_user_asked_twice_does_not_say_the_same_no_preference_twice() -> None:
    from simulacra.sim.users._llm_user import _NO_PREFERENCE

    latte = next(t for t in suite_tasks("coffee") if t.id == "coffee.oat-latte")
    said = []
    for seed in range(8):
        u = LLMUser(persona=PLAIN, task=latte, model=ScriptedModel(echo_plan), seed=seed)
        u.revealed = {0}
        u.my_turns.append("A large latte with oat milk, please.")
        transcript: list[Message] = []
        for question in ("Which cup would you like?", "And which lid do you want?"):
            transcript.append(assistant(question))
            turn = await u.next_turn(transcript)
            transcript.append(user(turn.text))
        first, second = u.my_turns[1:]
        assert {first, second} <= set(_NO_PREFERENCE) and first != second
        said.append(first)
    assert len(set(said)) > 1


async def test_a_second_request_said_again_once_is_not_held_against_the_assistant() -> None:
    hotel = next(t for t in suite_tasks("bookings") if t.id == "bookings.hotel-north-parking")
    u = LLMUser(persona=PLAIN, task=hotel, model=ScriptedModel(echo_plan), seed=1)
    u.revealed, u.request, u.restated = {0, 1, 2, 3}, 3, {None}  # the hotel was said again
    u.my_turns.append("I'll also need a taxi from the hotel to the station on Monday morning.")
    turn = await u.next_turn([assistant("Sorry, what can I help you with?")])
    assert turn.act == "restate" and "taxi" in turn.text and "09:30" in turn.text
    assert not turn.text.startswith(("Like I said,", "As I said,", "Again:"))
    assert u.unhelpful == 0
