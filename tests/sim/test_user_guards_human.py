"""The user's guards against real people: they flag few real user turns (MultiWOZ and
Taskmaster samples in the shared data) and catch the labelled drifting turns."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from simulacra.sim.users._guards import (
    answers_own_question,
    answers_request,
    check_turn,
    dropped_goal,
    echoed,
    guard_rates,
    role_drift,
)
from simulacra.sim.users._llm_user import _SHOT_MARKERS

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
LABELS = Path(__file__).resolve().parents[1] / "fixtures" / "user_turn_labels.jsonl"
CORPORA = ["multiwoz21-dev-sample", "taskmaster4-coffee-sample"]


def _conversations(name: str) -> list[list[tuple[str, str]]]:
    path = SHARED / name / "conversations.jsonl"
    if not path.exists():
        pytest.skip(f"shared data not here: {path}")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [[(t["role"], t["text"]) for t in row["turns"]] for row in rows]


@pytest.mark.parametrize("corpus", CORPORA)
def test_each_guard_flags_at_most_1_percent_of_real_user_turns(corpus: str) -> None:
    rates = guard_rates(_conversations(corpus), examples=_SHOT_MARKERS)
    assert set(rates) == {"role_drift", "example_leak", "echo", "repetition", "any"}
    assert all(rate <= 0.01 for rate in rates.values()), rates


@pytest.mark.parametrize("corpus", CORPORA)
def test_no_real_opening_reads_as_the_answer_to_its_own_request(corpus: str) -> None:
    """Real people open with "Yes, I'm looking for a guesthouse" (3% of MultiWOZ's
    openings) but never with the answer to what they came to ask."""
    openings = [next(t for r, t in c if r == "user") for c in _conversations(corpus)]
    assert len(openings) >= 300
    assert [t for t in openings if answers_request(t)] == []
    assert sum(t.lower().startswith("yes") for t in openings) >= 1  # what it must not flag


@pytest.mark.parametrize(
    "text",
    [
        "Yes there is a good vegetarian restaurant around.",  # the embedded model's openings
        "yrs there is a good vegetarian restaurant nearby",
        "you should call the train at 10:00 to London.",
        "are you looking for a good vegetarian restaurant",
        "Sure, I can find you a guesthouse with wifi.",
    ],
)
def test_an_opening_that_answers_its_own_request_is_role_drift(text: str) -> None:
    problem = check_turn(
        text,
        planned="Is there a good vegetarian restaurant?",
        fact=None,
        hidden=[],
        previous=[],
        opening=True,
    )
    assert problem is not None and problem[0] == "role_drift", problem
    assert (
        check_turn(
            "Is there a good vegetarian restaurant around?",
            planned="Is there a good vegetarian restaurant?",
            fact=None,
            hidden=[],
            previous=[],
            opening=True,
        )
        is None
    )


def _multiwoz_goals() -> list[tuple[str, str, str]]:
    """(first request, its next detail, the real opening) of each MultiWOZ dialogue: the
    emphasised values of the first two goal sentences that have any ("particular hotel
    worth house", "2 people 5 nights saturday"), as the crowd worker was shown them."""
    path = SHARED / "multiwoz21-dev-sample" / "multiwoz21_dev_sample_raw.json"
    if not path.exists():
        pytest.skip(f"shared data not here: {path}")
    span = re.compile(r"<span class='emphasis'>(.*?)</span>")
    out = []
    for dialogue in json.loads(path.read_text(encoding="utf-8")).values():
        sentences = [span.findall(m) for m in dialogue["goal"]["message"] if span.search(m)]
        if len(sentences) >= 2:
            goal, detail = (" ".join(values) for values in sentences[:2])
            out.append((goal, detail, dialogue["log"][0]["text"]))
    return out


def test_the_dropped_goal_check_flags_under_1_percent_of_real_openings() -> None:
    """Real people open vaguely ("I need somewhere to go.") or with a detail and the
    request together; only an opening with a detail of the request and not a word of the
    request itself is flagged."""
    goals = _multiwoz_goals()
    assert len(goals) >= 290
    flagged = [opening for goal, detail, opening in goals if dropped_goal(opening, goal, [detail])]
    assert len(flagged) / len(goals) <= 0.01, flagged


def test_an_opening_with_the_detail_but_not_the_request_drops_the_goal() -> None:
    """The embedded model opened a latte order with "Yes, a large one, please."."""
    goal, details = "Can I get a latte with oat milk?", ["A large one, please."]
    for text in ["Yes, a large one, please.", "large one pls"]:
        assert dropped_goal(text, goal, details), text
        problem = check_turn(
            text,
            planned=f"{goal} {details[0]}",
            fact=None,
            hidden=[],
            previous=[],
            opening=True,
            goal=goal,
            details=details,
        )
        assert problem is not None and problem[0] == "dropped_goal", problem
    for text in ["A large oat latte, please.", "Hi, can I order a coffee?", "Lattes?"]:
        assert not dropped_goal(text, goal, details), text
    # only an opening is held to its goal: later a detail on its own is how people go on
    later = check_turn(
        "Yes, a large one, please.",
        planned=details[0],
        fact=None,
        hidden=[],
        previous=["Can I get a latte with oat milk?"],
        goal=goal,
        details=details,
    )
    assert later is None


def test_a_turn_meant_to_ask_that_answers_instead_is_role_drift() -> None:
    """The embedded model voiced "Do they take card?" as "yes they take card", and "Is
    there an entrance fee?" as "Yes, there is an entrance fee."."""
    cases = [
        ("Any area is fine but cheap would be nice. yes they take card",
         "Any area is fine but cheap would be nice. Do they take card?"),
        ("Yes, there is an entrance fee.", "Is there an entrance fee?"),
    ]  # fmt: skip
    for text, planned in cases:
        assert answers_own_question(text, planned) is not None, text
        problem = check_turn(text, planned=planned, fact=None, hidden=[], previous=[])
        assert problem is not None and problem[0] == "role_drift", problem
    # or states it: "They take card", "yes, entrance fee is $5" (the bookings run's turns)
    for text, planned in [
        ("They take card", "Do they take card?"),
        ("They don't take card", "Do they take card?"),
        ("yes, entrance fee is $5", "Is there an entrance fee?"),
        ("Cool. It has free parking", "Does it have free parking?"),
    ]:
        problem = answers_own_question(text, planned)
        assert problem is not None and problem.startswith("states what it should ask"), text
    # an answer with more after it is still an answer
    for text in [
        "Yes they take card, if that helps",
        "Yes they take card, no need for cash",
        "yes they take card, just so you know",
        "Yes they do, they take all cards please",
    ]:
        assert answers_own_question(text, "Do they take card?") is not None, text
    # still asking (a question word, an inverted question, a request), a bare request,
    # the user's own situation, or never meant to ask: left alone
    for text, planned in [
        ("is there an entrance fee?", "Is there an entrance fee?"),
        ("do they take card", "Do they take card?"),
        ("Is it open on Sunday", "Is it open on Sunday?"),
        ("Open on Sunday", "Is it open on Sunday?"),
        ("it closes at what time", "When does it close?"),
        ("opens when", "When does it open?"),
        ("Has wifi", "Does it have wifi?"),
        ("wifi there", "Is there wifi?"),
        ("Cost for two", "How much for two?"),
        ("tell me whether they take card", "Do they take card?"),
        ("I need to know if they take card", "Do they take card?"),
        ("the address and postcode", "What's the address?"),
        ("We are 10; 300 g serves 4.", "How much flour do I need?"),
        ("Yeah that should work can I please get the address", "Can I get the address?"),
    ]:
        assert answers_own_question(text, planned) is None, text
    assert answers_own_question("Yes, it is for 2 people.", "Yes, it's for 2 people.") is None
    assert role_drift("Based on the message, eating Italian food tonight is a good idea.", "")


@pytest.mark.parametrize("corpus", CORPORA)
def test_real_questions_without_their_question_mark_still_ask(corpus: str) -> None:
    """People drop question marks: a real user turn that asks, its "?" made a full stop
    and checked against itself as the plan, is flagged in under 1% of cases (none of
    MultiWOZ's 703 or Taskmaster's 147)."""
    questions = [t for c in _conversations(corpus) for r, t in c if r == "user" and "?" in t]
    assert len(questions) >= 100
    flagged = [q for q in questions if answers_own_question(q.replace("?", "."), q)]
    assert len(flagged) <= 0.01 * len(questions), flagged


def test_real_people_open_with_sure_and_are_not_flagged() -> None:
    for text in ["Sure, 10 people", "Absolutely, I would love to book a table for two."]:
        assert role_drift(text, text) is None


def test_role_drift_catches_the_labelled_drifting_turns() -> None:
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]
    by_label: dict[str, list[bool]] = {}
    for row in rows:
        by_label.setdefault(row["label"], []).append(role_drift(row["text"], "") is not None)
    assert set(by_label) == {"assistant", "refusal", "solution", "user"}
    for label in ("assistant", "refusal", "solution"):
        hits = by_label[label]
        assert len(hits) >= 10 and sum(hits) / len(hits) >= 0.9, label
    people = by_label["user"]
    assert len(people) >= 30 and sum(people) / len(people) <= 0.05


@pytest.mark.parametrize(
    "text",
    [
        "300g / 10 people = 30g",
        "so 300 g / 10 people = 30 g each",
        "12 * 3 = 36",
        "$300 / 10 = $30 per person",
        "1.5 kg x 4 = 6 kg",
    ],
)
def test_worked_arithmetic_is_caught_with_units_and_nouns_beside_the_figures(text: str) -> None:
    found = role_drift(text, "I need to split the flour for my party")
    assert found is not None and "=" in found


@pytest.mark.parametrize(
    "text",
    ["300 g of flour for 10 people", "2 x large latte please", "a table for 4 at 7:30, 2/3 full"],
)
def test_a_persons_own_figures_without_a_result_are_not_worked_arithmetic(text: str) -> None:
    assert role_drift(text, text) is None


def test_echo_catches_a_user_copying_the_reply_but_not_the_users_own_words_quoted_back() -> None:
    reply = (
        "You can call the hotel to inquire about their parking services. The hotel may "
        "have a website."
    )
    copied = echoed("by calling the hotel to inquire about their parking services", reply)
    assert copied == "the hotel to inquire about"
    # the assistant quoting the user ("2 people, 3 nights starting Friday") is theirs to say
    quoted = "Booked: a room for 2 people, 3 nights starting Friday."
    own = "It's for 2 people, 3 nights starting Friday."
    assert echoed("yes 2 people, 3 nights starting friday", quoted, own) is None
    assert echoed("yes 2 people, 3 nights starting friday", quoted) is not None
    # short shared phrases are how people refer to what was said
    assert echoed("is the hotel near the station?", "The hotel is near the station.") is None


def test_check_turn_names_the_echo_and_lets_a_fresh_turn_through() -> None:
    reply = "Sure! In the north of town you can find a variety of hotel options."
    problem = check_turn(
        "in the north of town you can find a hotel?",
        planned="I'm looking for a cheap hotel in the north.",
        fact=None,
        hidden=[],
        previous=[],
        reply=reply,
    )
    assert problem is not None and problem[0] == "echo" and "north of town" in problem[1]
    fine = check_turn(
        "any cheap ones up north?",
        planned="I'm looking for a cheap hotel in the north.",
        fact=None,
        hidden=[],
        previous=[],
        reply=reply,
    )
    assert fine is None


@pytest.mark.parametrize("corpus", CORPORA)
def test_real_users_close_a_done_service_with_more_than_ok_thanks(corpus: str) -> None:
    """After an assistant turn that asks nothing (the booking or the order done), few real
    last turns are a bare acknowledgement ("ok thanks"): people say they are done. So the
    service user closes so too (``_DONE``), where it used to say "Ok great, cheers."."""
    from simulacra.sim.users._llm_user import _ACCEPT, _DONE
    from simulacra.trust._realism import is_acknowledgement

    closings = []
    for turns in _conversations(corpus):
        said = [(role, text) for role, text in turns if text.strip()]
        last = max(i for i, (role, _) in enumerate(said) if role == "user")
        before = [text for role, text in said[:last] if role == "assistant"]
        if before and "?" not in before[-1]:
            closings.append(said[last][1])
    bare = sum(map(is_acknowledgement, closings)) / len(closings)
    assert len(closings) > 80 and bare < 0.2, bare
    assert not any(map(is_acknowledgement, _DONE))
    assert sum(map(is_acknowledgement, _ACCEPT)) / len(_ACCEPT) > 0.5
