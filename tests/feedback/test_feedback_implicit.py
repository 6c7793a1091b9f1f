"""Implicit signals in user turns: the rules on hand-written turns, the classifier, totals."""

from __future__ import annotations

import pytest

from simulacra.feedback import SIGNALS, aggregate_signals, classify_turns, label_turns
from simulacra.feedback._implicit import rule_signals, similarity
from simulacra.llm import ScriptedModel


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def bot(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


@pytest.mark.parametrize(
    ("turn", "expected"),
    [
        ("No, that's wrong. I asked for grams.", {"correction"}),
        ("That is not what I asked for", {"correction"}),
        ("Actually, it's for ten people", {"correction"}),
        ("Thanks, that's exactly what I needed!", {"gratitude"}),
        ("thank you so much", {"gratitude"}),
        ("Ugh, this is useless!!", {"frustration"}),
        ("WHY IS THIS STILL WRONG", {"frustration", "correction"}),
        ("still not the right number", {"frustration"}),
        ("By the way, what's a good oven temperature for bread?", {"topic_switch"}),
        ("Never mind, I'll figure it out myself.", {"abandonment"}),
        ("The recipe uses 300 g of flour for 4 people.", set()),
        ("That was not helpful at all", {"frustration"}),
        ("no thanks, that's wrong", {"correction"}),
    ],
)
def test_rule_markers(turn: str, expected: set[str]) -> None:
    found, _ = rule_signals(turn, previous_user=["How much flour do I need for my pancakes?"])
    assert set(found) == expected


def test_rephrase_is_high_overlap_with_the_previous_user_turn() -> None:
    first = "How much flour do I need for pancakes for ten people?"
    again = "How much flour do I need for ten people's pancakes?"
    assert similarity(first, again) > 0.7
    found, sim = rule_signals(again, previous_user=[first])
    assert "rephrase" in found and sim is not None and sim > 0.5
    other, _ = rule_signals("It is for a birthday.", previous_user=[first])
    assert "rephrase" not in other


def test_topic_switch_by_no_overlap_with_goal_and_earlier_turns() -> None:
    found, _ = rule_signals(
        "Which football club won the championship league title twice recently?",
        previous_user=["How much flour for pancakes?"],
        goal="scale a pancake recipe",
    )
    assert "topic_switch" in found
    related, _ = rule_signals(
        "The pancake recipe card mentions whole milk and butter too somewhere",
        previous_user=["How much flour for pancakes?"],
        goal="scale a pancake recipe",
    )
    assert "topic_switch" not in related


def test_turns_of_an_episode_and_the_gave_up_stop() -> None:
    messages = [
        user("How far was my run in km? I ran 6.2 miles."),
        bot("About 12 km."),
        user("No, that's wrong."),
        bot("Sorry, about 10 km."),
        user("How far was my run in km? I ran 6.2 miles!!"),
    ]
    turns = label_turns(messages, episode="e7", stop_reason="gave_up")
    assert [t.turn for t in turns] == [0, 1, 2]
    assert [t.message for t in turns] == [0, 2, 4]
    assert turns[0].signals == []
    assert turns[1].signals == ["correction"]
    assert turns[2].signals == ["rephrase", "frustration", "abandonment"]
    record = turns[2].to_record()
    assert record["kind"] == "implicit" and record["episode"] == "e7" and record["turn"] == 2
    assert record["signals"] == ["rephrase", "frustration", "abandonment"]
    assert record["item_id"] == "e7" and record["rater"] == "rules" and record["confidence"] is None
    totals = aggregate_signals(turns)
    assert totals["signals"]["rephrase"] == 1 and totals["negative"] == 4
    assert totals["abandoned"] is True and totals["positive"] == 0
    assert set(totals["signals"]) == set(SIGNALS)


def test_a_single_turn_give_up_is_abandonment() -> None:
    [turn] = label_turns([user("help me with taxes")], stop_reason="gave_up")
    assert turn.signals == ["abandonment"]


async def test_the_model_classifier_adds_its_labels() -> None:
    messages = [user("flour for 10?"), bot("750 g"), user("great, and sugar?")]
    turns = label_turns(messages, episode="e1")
    model = ScriptedModel(["Signals: gratitude, topic_switch"])
    labelled = await classify_turns(turns, messages, model, rater="rules+judge")
    assert labelled[0].llm_signals == ()
    assert labelled[1].rule_signals == ("gratitude",)
    assert labelled[1].llm_signals == ("gratitude", "topic_switch")
    assert labelled[1].signals == ["gratitude", "topic_switch"]
    assert labelled[1].rater == "rules+judge"
    prompt = model.calls[0][0][-1].content
    assert "750 g" in prompt and "great, and sugar?" in prompt

    unclear = await classify_turns(turns, messages, ScriptedModel(["hmm"]))
    assert unclear[1].llm_signals is None and unclear[1].error
    assert unclear[1].signals == ["gratitude"]
