"""Rubric and critique raters are registered kinds: one function and one registration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from simulacra.errors import ConfigError
from simulacra.feedback import (
    CritiqueRater,
    Dimension,
    JudgeOptions,
    RaterContext,
    ResponseItem,
    RubricConfig,
    RubricParts,
    RubricRater,
    RubricScore,
    SatisfactionRater,
    critique_kinds,
    parse_raters_config,
    rubric_kinds,
)
from simulacra.feedback._judge import build_raters
from simulacra.llm import ModelPool

ITEM = ResponseItem(item_id="episode:e1", context="scale a recipe", response="You need 750 g.")


class LengthOptions(JudgeOptions):
    """Scores 5 for a reply of at most ``words`` words, else 1."""

    words: int = 20


@dataclass
class LengthRubric:
    id: str
    words: int

    @property
    def dimensions(self) -> Sequence[Dimension]:
        return [Dimension(name="brevity", description="short enough")]

    async def rate(self, item: ResponseItem, *, seed: int = 0) -> list[RubricScore]:
        words = len(str(item.response).split())
        score = 5 if words <= self.words else 1
        return [RubricScore(item_id=item.item_id, rater=self.id, dimension="brevity", score=score)]


def _length(spec: RubricConfig, options: LengthOptions, context: RaterContext) -> RubricParts:
    return RubricParts(rubric=LengthRubric(id=spec.id, words=options.words))


@pytest.fixture
def length_kind() -> None:
    rubric_kinds.add("length-test", _length, options=LengthOptions)


async def test_a_registered_rubric_kind_rates_through_the_judge_config(length_kind: None) -> None:
    config = parse_raters_config({"rubric": {"kind": "length-test", "id": "short", "words": 2}})
    assert config.rubric is not None and config.kinds() == ["pairwise", "rubric", "implicit"]
    raters = build_raters(config, ModelPool())
    assert raters.rubric is not None and raters.satisfaction is None
    (score,) = await raters.rubric.rate(ITEM)
    assert (score.rater, score.dimension, score.score) == ("short", "brevity", 1)
    record = score.to_record()
    assert record["kind"] == "rubric" and record["key"] == score.key
    # the options are the kind's own: a typo is an error naming the field
    with pytest.raises(ConfigError, match=r"rubric.*wrods"):
        parse_raters_config({"rubric": {"kind": "length-test", "wrods": 2}})


def test_unknown_kinds_are_named_with_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown rubric kind 'nope' \(known: .*llm"):
        parse_raters_config({"rubric": {"kind": "nope"}})
    with pytest.raises(ConfigError, match=r"unknown critique kind 'nope'"):
        parse_raters_config({"critique": {"kind": "nope", "model": "local"}})


def test_the_built_in_kinds_are_prompted_models() -> None:
    config = parse_raters_config(
        {
            "rubric": {"model": "local", "dimensions": ["helpfulness"]},
            "critique": {"model": "local"},
        }
    )
    assert config.rubric is not None and config.rubric.kind == "llm"
    raters = build_raters(config, ModelPool())
    assert isinstance(raters.rubric, RubricRater) and isinstance(raters.critique, CritiqueRater)
    assert isinstance(raters.satisfaction, SatisfactionRater)
    assert [d.name for d in raters.rubric.dimensions] == ["helpfulness"]
    assert "llm" in rubric_kinds and "llm" in critique_kinds
    # the file form stays flat, and the saved fingerprint of an older file matches
    saved = config.fingerprint()
    assert saved["rubric"]["model"] == "local" and saved["rubric"]["kind"] == "llm"
    older = {k: v for k, v in saved["rubric"].items() if k != "kind"}
    assert type(config).saved_fingerprint({**saved, "rubric": older}) == saved
    with pytest.raises(ConfigError, match=r"critique.model"):
        parse_raters_config({"critique": {"model": "missing"}})
