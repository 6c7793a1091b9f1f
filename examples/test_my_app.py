"""An example test file for your own app's function (``examples/my-app.yaml``'s target).

Copy it into your tests and import your function instead of the stand-in below:
``from my_package.bot import reply``. Run it with ``pytest`` (simulacra's plugin is
loaded by itself once simulacra is installed).
"""

import pytest

from simulacra.testing import assert_conversation, assert_run

PANCAKES = {
    "id": "pancakes",
    "goal": "How much flour do I need for pancakes for 10 people?",
    "facts": ["The recipe for 4 people takes 300 g of flour."],
    "reference": "750 g",
    "check": {"type": "numeric", "value": 750},
}


def reply(messages, context):
    """A stand-in for your app: remembers the recipe across turns in ``context.state``."""
    said = messages[-1]["content"]
    if "300 g" in said:
        context.state["grams"] = 300
    if "grams" not in context.state:
        return "Happy to scale it. How much flour does the recipe take, and for how many?"
    return f"You need {context.state['grams'] * 10 // 4} g of flour."


def test_asks_for_the_recipe_then_scales_it(simulacra_run):
    result = simulacra_run(target=reply, personas=["busy-nurse", "teen-gamer"], task=PANCAKES)
    assert_run(result, success_at_least=1.0, max_turns=3, max_errors=0)
    for episode in result.episodes():
        assert_conversation(episode, contains="750 g", stop_reason="satisfied")


def test_an_answer_in_one_turn_when_told_everything(simulacra_run):
    result = simulacra_run(
        target=reply, persona="busy-nurse", task=PANCAKES, turns=["300 g feeds 4; I need 10."]
    )
    (episode,) = result.episodes()
    assert_conversation(episode, contains="750 g", max_turns=1, success=True)


@pytest.mark.simulacra_model
def test_with_the_real_simulated_user(simulacra_run, simulacra_model):
    result = simulacra_run(
        target=reply, persona="busy-nurse", task=PANCAKES, user="llm", model=simulacra_model
    )
    assert_run(result, max_errors=0, max_turns=8)
