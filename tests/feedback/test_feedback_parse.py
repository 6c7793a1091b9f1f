"""Reading verdicts, scores, critiques and signals from what a rater model wrote."""

from __future__ import annotations

import math

import pytest

from simulacra.feedback._parse import (
    parse_critique,
    parse_scores,
    parse_signals,
    parse_verdict,
    parse_verdict_logprobs,
    parse_verdict_text,
    rationale_of,
)
from simulacra.llm import Completion, TokenLogprob


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A is better.\nVerdict: A", "A"),
        ("Verdict: b", "B"),
        ("Both are fine.\nVerdict: tie", "tie"),
        ("**Verdict:** **A**", "A"),
        ("Verdict: Response B", "B"),
        ("verdict = [A]", "A"),
        ("First I thought Verdict: A, but on reflection\nVerdict: B", "B"),
        ("[[B]]", "B"),
        ("Verdict: neither", "tie"),
        ("I prefer the first one.", None),
        ("Verdict: maybe", None),
        ("", None),
    ],
)
def test_verdict_from_text(text: str, expected: str | None) -> None:
    assert parse_verdict_text(text) == expected


def test_rationale_is_the_text_before_the_verdict_line() -> None:
    assert rationale_of("B misses the unit.\n\nVerdict: A") == "B misses the unit."
    assert rationale_of("no verdict here") == "no verdict here"


def _tokens(
    *pieces: str, top: dict[int, list[tuple[str, float]]] | None = None
) -> tuple[TokenLogprob, ...]:
    top = top or {}
    return tuple(
        TokenLogprob(token=p, logprob=-0.1, top=tuple(top.get(i, ()))) for i, p in enumerate(pieces)
    )


def test_logprobs_weigh_the_alternatives_of_the_verdict_token() -> None:
    tokens = _tokens(
        "B",
        " is",
        " better",
        ".\n",
        "Verdict",
        ":",
        " B",
        top={6: [(" B", math.log(0.6)), (" A", math.log(0.3)), (" tie", math.log(0.1))]},
    )
    found = parse_verdict_logprobs(tokens)
    assert found is not None
    assert found.label == "B"
    assert found.confidence == pytest.approx(0.6 / (0.6 + 0.3 + 0.1) * 1.0, rel=1e-6)
    assert set(found.probabilities) == {"A", "B", "tie"}


def test_logprobs_can_overrule_the_sampled_token() -> None:
    # the sampled token was " A" but the model put more mass on " B"
    tokens = (
        TokenLogprob(token="Verdict", logprob=-0.01),
        TokenLogprob(token=":", logprob=-0.01),
        TokenLogprob(
            token=" A", logprob=math.log(0.4), top=((" B", math.log(0.55)), (" A", math.log(0.4)))
        ),
    )
    found = parse_verdict_logprobs(tokens)
    assert found is not None and found.label == "B"
    assert found.confidence == pytest.approx(0.55 / 0.95)


def test_logprobs_without_a_verdict_slot_fall_back_to_the_text() -> None:
    completion = Completion(text="Verdict: A", logprobs=_tokens("I", " like", " it"))
    assert parse_verdict_logprobs(completion.logprobs or ()) is None
    assert parse_verdict(completion) == ("A", None, "text")
    with_slot = Completion(
        text="Verdict: B",
        logprobs=_tokens("Verdict", ":", " B", top={2: [(" B", -0.2), (" A", -2.0)]}),
    )
    label, confidence, how = parse_verdict(with_slot) or ("", None, "")
    assert (label, how) == ("B", "logprobs") and confidence is not None and confidence > 0.5
    assert parse_verdict(Completion(text="no idea")) is None


def test_scores_by_dimension() -> None:
    text = "Helpfulness: 4\n- **correctness**: 5/5\nClarity - 3 out of 5\npersonalisation: 9\nEfficiency: N"
    names = ["helpfulness", "correctness", "clarity", "personalisation", "efficiency"]
    assert parse_scores(text, names) == {"helpfulness": 4, "correctness": 5, "clarity": 3}
    assert parse_scores("user_satisfaction: 2", ["user satisfaction"]) == {"user satisfaction": 2}
    assert parse_scores("Satisfaction: 3.5", ["satisfaction"]) == {}


def test_critique_sections() -> None:
    text = (
        "Strengths:\n- Gives the number at once.\n- Shows the working.\n"
        "Weaknesses:\n- Ignores the user's unit\n  preference.\n"
        "Suggestion: Ask which unit the user wants before answering."
    )
    critique = parse_critique(text)
    assert critique is not None
    assert critique.strengths == ["Gives the number at once.", "Shows the working."]
    assert critique.weaknesses == ["Ignores the user's unit preference."]
    assert critique.suggestion == "Ask which unit the user wants before answering."
    assert parse_critique("Strengths:\n- fine") is None  # no suggestion
    assert parse_critique("Suggestion: be nicer") is None  # nothing to base it on


def test_signals_line() -> None:
    allowed = ["rephrase", "correction", "gratitude", "topic_switch"]
    assert parse_signals("Signals: correction, topic switch", allowed) == [
        "correction",
        "topic_switch",
    ]
    assert parse_signals("Signals: none", allowed) == []
    assert parse_signals("I think it is a correction", allowed) is None
    assert parse_signals("Signals: sarcasm", allowed) is None
