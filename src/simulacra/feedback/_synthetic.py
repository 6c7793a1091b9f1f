"""SYNTHETIC FIXTURE: preference pairs with a known ground-truth rule and human-like noise.

Nothing here comes from real people. The pairs exist to train and test the learned
rater (and to show how to use it) where no human-labelled data is at hand. Each pair is
two answers to one of a few dozen everyday questions, assembled from hand-written parts:

- on topic (the question's own points) or off topic (another question's points),
- complete (all three points) or partial (one or two),
- prose or a numbered list (a list is better when the question asks for steps),
- with or without filler sentences and a flattering opener (both make it worse).

Each answer gets a utility from those parts (the ground-truth rule, ``utility``). A
simulated annotator prefers A with probability ``σ(sharpness · (u_A − u_B))`` and says
"tie" half the time when the two utilities are within 0.2, which gives about the
disagreement seen between human annotators on real preference data (AlpacaFarm reports
roughly 65% agreement between humans). ``meta["rule_verdict"]`` is the noise-free verdict.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from simulacra.feedback._items import Verdict


@dataclass(frozen=True, kw_only=True, slots=True)
class _Topic:
    question: str
    points: tuple[str, str, str]
    steps: bool


_TOPICS = (
    _Topic(
        question="How do I make my sourdough bread rise better?",
        points=(
            "Feed your starter a few hours before baking so it is at its most active.",
            "Keep the dough somewhere warm, around 24 to 26 degrees, while it proofs.",
            "Give it enough time: a slow overnight proof in the fridge builds strength and flavour.",
        ),
        steps=False,
    ),
    _Topic(
        question="What are the steps to change a flat tyre on a car?",
        points=(
            "Park on flat ground, turn on the hazard lights and loosen the wheel nuts slightly.",
            "Raise the car with the jack at the marked lifting point and take the wheel off.",
            "Fit the spare, tighten the nuts in a star pattern, lower the car and tighten them fully.",
        ),
        steps=True,
    ),
    _Topic(
        question="How can I sleep better at night?",
        points=(
            "Go to bed and get up at the same time every day, weekends included.",
            "Avoid caffeine after lunch and heavy meals in the last hours before bed.",
            "Keep the bedroom dark, cool and quiet, and leave screens outside of it.",
        ),
        steps=False,
    ),
    _Topic(
        question="How do I set up a Python virtual environment?",
        points=(
            "Run python -m venv .venv in your project folder to create the environment.",
            "Activate it with source .venv/bin/activate, or .venv\\Scripts\\activate on Windows.",
            "Install packages with pip while it is active; they stay inside the project.",
        ),
        steps=True,
    ),
    _Topic(
        question="What should I pack for a three-day hiking trip?",
        points=(
            "Bring a waterproof jacket, warm layers and spare socks, since weather changes fast.",
            "Carry enough water or a filter, plus food with plenty of calories per gram.",
            "Take a map, a headlamp, a first-aid kit and a fully charged phone.",
        ),
        steps=False,
    ),
    _Topic(
        question="How do I repot a houseplant?",
        points=(
            "Choose a pot one size larger with a drainage hole and fresh potting mix.",
            "Water the plant a day before, then ease it out and loosen the circling roots.",
            "Set it at the same depth as before, fill around it with mix and water it well.",
        ),
        steps=True,
    ),
    _Topic(
        question="How can I save money on groceries?",
        points=(
            "Plan the week's meals and shop from a list so you buy only what you need.",
            "Compare unit prices and choose store brands for staples like rice and pasta.",
            "Cook larger batches and freeze portions instead of buying ready meals.",
        ),
        steps=False,
    ),
    _Topic(
        question="What are the steps to back up my phone photos?",
        points=(
            "Turn on the phone's cloud photo backup in its settings and let it finish on wifi.",
            "Also copy the photos to a computer or an external drive now and then.",
            "Check that a few photos open from the backup before deleting anything from the phone.",
        ),
        steps=True,
    ),
    _Topic(
        question="How do I get rid of fruit flies in my kitchen?",
        points=(
            "Remove what attracts them: ripe fruit on the counter, open bins and damp sponges.",
            "Set a trap with a little cider vinegar and a drop of washing-up liquid in a jar.",
            "Clean the sink drain, because the flies often breed in the film inside it.",
        ),
        steps=False,
    ),
    _Topic(
        question="How do I write a good cover letter?",
        points=(
            "Address it to a named person and say which role you are applying for in the first line.",
            "Pick two achievements that match the job ad and give a number for each.",
            "Keep it under one page and end by saying when you are available to talk.",
        ),
        steps=False,
    ),
    _Topic(
        question="What are the steps to bleed a radiator?",
        points=(
            "Turn the heating off and let the radiators cool down first.",
            "Hold a cloth under the valve and open it a quarter turn with a radiator key.",
            "Close it when water starts to come out, then check the boiler pressure.",
        ),
        steps=True,
    ),
    _Topic(
        question="How can I learn a new language faster?",
        points=(
            "Practise a little every day rather than a lot once a week.",
            "Use spaced-repetition flashcards for the most common two thousand words.",
            "Speak from the first week, with a tutor or a language-exchange partner.",
        ),
        steps=False,
    ),
    _Topic(
        question="How do I remove a red wine stain from a carpet?",
        points=(
            "Blot the stain at once with a clean cloth; do not rub it.",
            "Pour a little cold water on it and blot again to lift more of the wine.",
            "Dab on a paste of baking soda and water, let it dry and vacuum it up.",
        ),
        steps=True,
    ),
    _Topic(
        question="What is a good way to start running as a beginner?",
        points=(
            "Alternate one minute of running with two minutes of walking for the first weeks.",
            "Run three times a week with a rest day in between so your legs can adapt.",
            "Go slowly enough that you could still hold a conversation.",
        ),
        steps=False,
    ),
    _Topic(
        question="How do I make a budget spreadsheet?",
        points=(
            "List your monthly income at the top and every regular expense below it.",
            "Add a column for what you actually spent and a formula for the difference.",
            "Review it at the end of each month and adjust the amounts that were off.",
        ),
        steps=True,
    ),
    _Topic(
        question="How can I keep my cut flowers fresh for longer?",
        points=(
            "Cut the stems at an angle under water before putting them in the vase.",
            "Remove any leaves that would sit below the waterline.",
            "Change the water every two days and keep the vase away from fruit and heat.",
        ),
        steps=False,
    ),
    _Topic(
        question="What are the steps to reset my home wifi router?",
        points=(
            "Find the small reset hole on the back of the router.",
            "Hold the button down with a paperclip for about ten seconds until the lights blink.",
            "Wait for it to restart, then log in with the default details printed on its label.",
        ),
        steps=True,
    ),
    _Topic(
        question="How do I stop procrastinating on my assignments?",
        points=(
            "Break the assignment into small tasks you can finish in under thirty minutes.",
            "Work in short timed blocks with your phone in another room.",
            "Start with the easiest task to build momentum, then move to the hard parts.",
        ),
        steps=False,
    ),
    _Topic(
        question="How do I cook rice on the stove?",
        points=(
            "Rinse one cup of rice until the water runs almost clear.",
            "Bring it to the boil with one and a half cups of water and a pinch of salt.",
            "Cover, simmer on the lowest heat for fifteen minutes, then rest it for five.",
        ),
        steps=True,
    ),
    _Topic(
        question="How can I make my laptop battery last longer?",
        points=(
            "Lower the screen brightness and turn on the battery-saver mode.",
            "Close programs and browser tabs you are not using, especially video.",
            "Avoid keeping it at one hundred percent and in hot places for long periods.",
        ),
        steps=False,
    ),
    _Topic(
        question="What are the steps to unclog a bathroom sink?",
        points=(
            "Remove the stopper and pull out hair with a drain hook or a bent wire.",
            "Pour in half a cup of baking soda followed by a cup of vinegar and wait.",
            "Flush with hot water, and use a plunger if the water is still slow.",
        ),
        steps=True,
    ),
    _Topic(
        question="How do I prepare for a job interview?",
        points=(
            "Research the company and be ready to say why you want this particular role.",
            "Prepare short stories about past work that show the skills the job asks for.",
            "Have two or three questions of your own to ask at the end.",
        ),
        steps=False,
    ),
    _Topic(
        question="How do I train my puppy to sit?",
        points=(
            "Hold a treat near its nose and move it slowly up and back over its head.",
            "Say sit as its bottom touches the floor, and give the treat at once.",
            "Repeat in short sessions a few times a day, then slowly phase out the treats.",
        ),
        steps=True,
    ),
    _Topic(
        question="How can I reduce my screen time?",
        points=(
            "Turn off all notifications except calls and messages from people.",
            "Set app time limits and keep the phone out of the bedroom at night.",
            "Replace the habit with something specific, like a book by the sofa.",
        ),
        steps=False,
    ),
)

_FILLER = (
    "I hope this helps you with whatever you are working on.",
    "Let me know if you have any other questions at all, I am always happy to help.",
    "There are many different factors to consider and every situation is unique.",
    "It is always a good idea to do your own research and consult the relevant sources.",
    "Many people find themselves wondering about this, so you are definitely not alone.",
)
_OPENERS = (
    "Great question! ",
    "What a wonderful thing to ask about! ",
    "Absolutely, I would be delighted to help with that! ",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Variant:
    on_topic: bool
    points: int
    as_list: bool
    filler: int
    opener: bool


def utility(variant: _Variant, topic: _Topic) -> float:
    """The ground-truth rule: relevance first, then completeness, format, and brevity."""
    value = 2.5 if variant.on_topic else 0.0
    if variant.on_topic:
        value += 0.9 * variant.points / 3
        if variant.as_list and topic.steps:
            value += 0.5
    value -= 0.35 * variant.filler
    value -= 0.25 * variant.opener
    return value


def _text(variant: _Variant, topic: _Topic, other: _Topic, rng: random.Random) -> str:
    source = topic if variant.on_topic else other
    points = list(source.points[: variant.points])
    filler = rng.sample(_FILLER, variant.filler)
    opener = rng.choice(_OPENERS) if variant.opener else ""
    if variant.as_list:
        body = "\n".join(f"{i}. {p}" for i, p in enumerate(points, start=1))
        text = f"{opener}Here is what to do:\n{body}"
        if filler:
            text += "\n\n" + " ".join(filler)
        return text
    sentences = points + filler
    return opener + " ".join(sentences)


def _variant(rng: random.Random, *, on_topic: bool) -> _Variant:
    return _Variant(
        on_topic=on_topic,
        points=rng.choice((1, 2, 3, 3)),
        as_list=rng.random() < 0.5,
        filler=rng.choice((0, 0, 1, 2, 3)),
        opener=rng.random() < 0.3,
    )


def synthetic_pairs(n: int = 150, *, seed: int = 0, sharpness: float = 2.5) -> list[dict[str, Any]]:
    """SYNTHETIC FIXTURE: ``n`` labelled preference pairs (see the module docstring).

    Each is a dict with ``item_id``, ``context``, ``response_a``, ``response_b``,
    ``verdict`` (the noisy simulated-annotator label) and ``meta`` (``rule_verdict``,
    ``utility_a``, ``utility_b``, ``synthetic: True``). Deterministic in ``seed``.
    """
    rng = random.Random(seed)
    pairs: list[dict[str, Any]] = []
    while len(pairs) < n:
        index = rng.randrange(len(_TOPICS))
        topic = _TOPICS[index]
        other = _TOPICS[(index + rng.randrange(1, len(_TOPICS))) % len(_TOPICS)]
        off_topic_side = rng.choice("AB") if rng.random() < 0.3 else None
        a = _variant(rng, on_topic=off_topic_side != "A")
        b = _variant(rng, on_topic=off_topic_side != "B")
        if a == b:
            continue
        text_a, text_b = _text(a, topic, other, rng), _text(b, topic, other, rng)
        if text_a == text_b:
            continue
        u_a, u_b = utility(a, topic), utility(b, topic)
        difference = u_a - u_b
        rule: Verdict = "tie" if abs(difference) < 1e-9 else ("A" if difference > 0 else "B")
        label: Verdict
        if abs(difference) < 0.2 and rng.random() < 0.5:
            label = "tie"
        else:
            p_a = 1.0 / (1.0 + math.exp(-sharpness * difference))
            label = "A" if rng.random() < p_a else "B"
        pairs.append(
            {
                "item_id": f"synthetic-{len(pairs):03d}",
                "context": topic.question,
                "response_a": text_a,
                "response_b": text_b,
                "verdict": label,
                "meta": {
                    "synthetic": True,
                    "rule_verdict": rule,
                    "utility_a": round(u_a, 4),
                    "utility_b": round(u_b, 4),
                },
            }
        )
    return pairs
