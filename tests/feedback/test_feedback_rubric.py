"""Rubric ratings, persona-conditioned satisfaction and critiques."""

from __future__ import annotations

import pytest

from simulacra.errors import ConfigError, ModelError
from simulacra.feedback import (
    CritiqueRater,
    Dimension,
    ResponseItem,
    RubricRater,
    SatisfactionRater,
)
from simulacra.feedback._rubric import dimensions_from
from simulacra.llm import ScriptedModel

CONVERSATION = [
    {"role": "user", "content": "How much flour for 10 people? 300 g feeds 4."},
    {"role": "assistant", "content": "You need 750 g of flour."},
    {"role": "user", "content": "thanks!"},
]
ITEM = ResponseItem(
    item_id="episode:e1",
    context="The user's goal: scale a recipe",
    response=CONVERSATION,
    persona={
        "name": "busy-nurse",
        "background": "Works twelve-hour shifts.",
        "expertise": "novice",
    },
    episode="e1",
    meta={"goal": "scale a recipe"},
)


async def test_rubric_scores_every_dimension_in_one_call() -> None:
    model = ScriptedModel(
        ["helpfulness: 4\ncorrectness: 5\nclarity: 4\npersonalisation: 2\nefficiency: 5"]
    )
    scores = await RubricRater(model=model).rate(ITEM, seed=9)
    assert [(s.dimension, s.score) for s in scores] == [
        ("helpfulness", 4),
        ("correctness", 5),
        ("clarity", 4),
        ("personalisation", 2),
        ("efficiency", 5),
    ]
    record = scores[0].to_record()
    assert record["kind"] == "rubric" and record["scale"] == [1, 5] and record["episode"] == "e1"
    assert record["confidence"] is None and record["item_id"] == "episode:e1"
    prompt = model.calls[0][0][-1].content
    assert "personalisation: how well the replies fit this user" in prompt
    assert "User: thanks!" in prompt


async def test_missing_dimensions_are_asked_again_then_abstained() -> None:
    model = ScriptedModel(["helpfulness: 3\nclarity: 9", "clarity: 2", "nothing more"])
    rater = RubricRater(
        model=model,
        dimensions=[
            Dimension(name="helpfulness"),
            Dimension(name="clarity"),
            Dimension(name="tone"),
        ],
        max_retries=2,
    )
    scores = {s.dimension: s for s in await rater.rate(ITEM)}
    assert scores["helpfulness"].score == 3 and scores["clarity"].score == 2
    assert scores["tone"].score is None and scores["tone"].error == "no score in the reply"
    assert scores["tone"].to_record()["abstained"] is True
    follow_up = model.calls[1][0][-1].content
    assert "clarity, tone" in follow_up and "helpfulness" not in follow_up


async def test_model_errors_become_abstentions() -> None:
    scores = await RubricRater(model=ScriptedModel([ModelError("down")])).rate(ITEM)
    assert all(s.score is None and "down" in str(s.error) for s in scores)


def test_dimensions_are_configurable() -> None:
    assert [d.name for d in dimensions_from(None)] == [
        "helpfulness",
        "correctness",
        "clarity",
        "personalisation",
        "efficiency",
    ]
    custom = dimensions_from(["clarity", {"warmth": "how kind the replies feel"}])
    assert (
        custom[0].description.startswith("how easy")
        and custom[1].description == "how kind the replies feel"
    )
    with pytest.raises(ConfigError, match="duplicate dimensions: clarity"):
        dimensions_from(["clarity", "clarity"])
    with pytest.raises(ConfigError, match=r"rubric.dimensions\[0\]"):
        dimensions_from([{"a": "x", "b": "y"}])


async def test_satisfaction_is_asked_as_the_persona() -> None:
    model = ScriptedModel(["I got my number fast.\nSatisfaction: 5"])
    score = await SatisfactionRater(model=model).rate(ITEM, seed=2)
    assert (score.dimension, score.score, score.persona) == ("satisfaction", 5, "busy-nurse")
    system, user = model.calls[0][0]
    assert "busy-nurse (novice expertise). Works twelve-hour shifts." in system.content
    assert "You were trying to do this: scale a recipe" in user.content
    no_persona = ResponseItem(item_id="x", context="c", response="r")
    abstained = await SatisfactionRater(model=ScriptedModel([])).rate(no_persona)
    assert abstained.score is None and abstained.error == "the item has no persona"


async def test_unparseable_satisfaction_is_retried_then_abstained() -> None:
    model = ScriptedModel(["Quite happy.", "I'd say four."])
    score = await SatisfactionRater(model=model, max_retries=1).rate(ITEM)
    assert score.score is None and score.attempts == 2 and score.rationale == "Quite happy."


async def test_critique_is_structured() -> None:
    reply = (
        "Strengths:\n- Correct number.\nWeaknesses:\n- No working shown.\n"
        "Suggestion: Show the calculation in one line."
    )
    critique = await CritiqueRater(model=ScriptedModel([reply])).critique(ITEM)
    record = critique.to_record()
    assert record["kind"] == "critique" and record["episode"] == "e1"
    assert record["strengths"] == ["Correct number."]
    assert record["weaknesses"] == ["No working shown."]
    assert record["suggestion"] == "Show the calculation in one line."
    assert record["abstained"] is False


async def test_malformed_critique_is_retried_then_abstained() -> None:
    model = ScriptedModel(["It was fine.", "Really fine."])
    critique = await CritiqueRater(model=model, max_retries=1).critique(ITEM)
    assert critique.suggestion is None and critique.attempts == 2
    assert critique.to_record()["abstained"] is True
