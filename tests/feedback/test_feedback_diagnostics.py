"""Bias diagnostics and win rates from pairwise records, on raters with known biases."""

from __future__ import annotations

import pytest

from simulacra.feedback import FixedRater, PairItem, RaterPool
from simulacra.feedback._diagnostics import (
    agreement_report,
    bias_report,
    human_report,
    item_verdicts,
    position_report,
    self_preference_report,
    verbosity_report,
    win_rates,
)


def items(n: int) -> list[PairItem]:
    """A is longer on even items; both sides equally correct throughout."""
    return [
        PairItem(
            item_id=f"i{k}",
            context="c",
            response_a="long answer " * (3 if k % 2 == 0 else 1),
            response_b="long answer " * (1 if k % 2 == 0 else 3),
            meta={"correct_a": True, "correct_b": True},
        )
        for k in range(n)
    ]


async def records_of(pool: RaterPool, n: int = 200) -> list[dict[str, object]]:
    return [j.to_record() for j in await pool.judge_all(items(n), concurrency=32)]


async def test_a_positional_rater_shows_position_bias_and_no_consistency() -> None:
    records = await records_of(RaterPool([FixedRater("first", id="p")], seed=1))
    report = position_report(records)
    assert report["first_position_win_rate"]["value"] == 1.0
    assert report["swap_consistency"] is None
    both = await records_of(RaterPool([FixedRater("first", id="p")], both_orders=True, seed=1), 50)
    report = position_report(both)
    assert report["judged_orders"] == 100 and report["first_position_win_rate"]["value"] == 1.0
    swap = report["swap_consistency"]
    assert swap["consistency"]["value"] == 0.0 and swap["first_position"] == 1.0
    fair = position_report(await records_of(RaterPool([FixedRater("A", id="a")], seed=1)))
    assert fair["first_position_win_rate"]["value"] == pytest.approx(0.5, abs=0.08)


async def test_a_verbose_rater_shows_verbosity_bias() -> None:
    records = await records_of(RaterPool([FixedRater("longer", id="v")], seed=2))
    report = verbosity_report(records)
    assert report["longer_wins"]["value"] == 1.0 and report["pairs_with_correctness"] == 200
    assert report["length_coefficient"]["value"] > 1.0
    unbiased = verbosity_report(await records_of(RaterPool([FixedRater("A", id="a")], seed=2)))
    assert unbiased["longer_wins"]["value"] == pytest.approx(0.5, abs=0.01)
    assert abs(unbiased["length_coefficient"]["value"]) < 0.2


async def test_unequal_correctness_is_left_out_of_the_verbosity_measure() -> None:
    records = await records_of(RaterPool([FixedRater("longer", id="v")], seed=2), 10)
    for record in records[:4]:
        record["correct_b"] = False
    report = verbosity_report(records)
    assert report["longer_wins"]["n"] == 6 and report["longer_wins"]["excluded"] == 4


def test_self_preference_against_raters_on_other_models() -> None:
    records = []
    for k in range(40):
        records.append(
            {
                "kind": "pairwise",
                "item_id": f"i{k}",
                "rater": "same",
                "verdict": "A",
                "raw_verdict": "A",
            }
        )
        records.append(
            {
                "kind": "pairwise",
                "item_id": f"i{k}",
                "rater": "other",
                "verdict": "A" if k % 2 else "B",
                "raw_verdict": "A" if k % 2 else "B",
            }
        )
    sides = {f"i{k}": ("model-x", "model-y") for k in range(40)}
    report = self_preference_report(
        records, rater_models={"same": "model-x", "other": "model-z"}, side_models=sides
    )
    assert report["raters_sharing_a_model"] == ["same"]
    assert report["own_side_win_rate"]["value"] == 1.0
    assert report["other_raters_same_side"] == 0.5 and report["difference"] == 0.5
    both_sides = {f"i{k}": ("model-x", "model-x") for k in range(40)}
    blind = self_preference_report(
        records, rater_models={"same": "model-x"}, side_models=both_sides
    )
    assert blind["own_side_win_rate"] is None and "cannot be told apart" in blind["note"]
    nobody = self_preference_report(records, rater_models={}, side_models=sides)
    assert nobody["raters_sharing_a_model"] == [] and nobody["difference"] is None


async def test_agreement_needs_overlap_and_reflects_noise() -> None:
    single = await records_of(
        RaterPool([FixedRater("A", id="a"), FixedRater("A", id="b")], seed=3), 20
    )
    assert agreement_report(single)["items"] == 0
    same = await records_of(
        RaterPool(
            [FixedRater("longer", id="a"), FixedRater("longer", id="b")], judges_per_item=2, seed=3
        )
    )
    report = agreement_report(same)
    assert report["items"] == 200 and report["krippendorff_alpha"] == pytest.approx(1.0)
    assert report["mean_cohen_kappa"] == pytest.approx(1.0)
    noisy = await records_of(
        RaterPool(
            [FixedRater("longer", id="a"), FixedRater("longer", id="b")],
            judges_per_item=2,
            noise=0.25,
            seed=3,
        )
    )
    after = agreement_report(noisy)
    before = agreement_report(noisy, field="raw_verdict")
    assert before["percent_agreement"] == pytest.approx(1.0)
    # two independent 25% flips: they agree with probability 0.75² + 0.25² = 0.625
    assert after["percent_agreement"] == pytest.approx(0.625, abs=0.08)


def test_win_rates_aggregate_judgements_per_item_and_skip_abstentions() -> None:
    records = [
        {"kind": "pairwise", "item_id": "x", "rater": "a", "verdict": "A", "len_a": 10, "len_b": 5},
        {"kind": "pairwise", "item_id": "x", "rater": "b", "verdict": "B", "len_a": 10, "len_b": 5},
        {"kind": "pairwise", "item_id": "y", "rater": "a", "verdict": "A", "len_a": 3, "len_b": 5},
        {"kind": "pairwise", "item_id": "z", "rater": "a", "verdict": None, "len_a": 3, "len_b": 5},
        {"kind": "rubric", "item_id": "q", "rater": "r", "score": 4},
    ]
    per_item = item_verdicts(records)
    assert {k: v["verdict"] for k, v in per_item.items()} == {"x": "tie", "y": "A"}
    rates = win_rates(records)
    assert rates["items"] == 2 and rates["abstained"] == 1 and rates["judged"] == 4
    assert rates["win_rate"]["value"] == 0.75 and (rates["wins_a"], rates["ties"]) == (1, 1)
    assert rates["length_controlled"]["win_rate"]["value"] is not None
    assert win_rates([])["win_rate"] is None


def test_human_agreement() -> None:
    records = [
        {"kind": "pairwise", "item_id": f"i{k}", "rater": "a", "verdict": "A" if k < 6 else "B"}
        for k in range(10)
    ]
    labels = {f"i{k}": "A" if k < 5 else "B" for k in range(10)}
    report = human_report(records, labels)
    assert report["items"] == 10 and report["accuracy"] == 0.9
    assert report["cohen_kappa"] == pytest.approx(0.8)


async def test_bias_report_has_every_part() -> None:
    records = await records_of(RaterPool([FixedRater("A", id="a")], seed=1), 20)
    report = bias_report(records, rater_models={"a": None}, side_models={})
    assert set(report) == {
        "position",
        "verbosity",
        "self_preference",
        "agreement",
        "agreement_before_noise",
    }
