"""Rater fidelity measures against hand-computed values."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from simulacra.errors import ConfigError
from simulacra.stats import krippendorff_alpha
from simulacra.trust import calibrate, read_labels
from simulacra.trust._calibrate import POOL, _Item, _loo
from simulacra.trust._labels import Label

FIXTURES = Path(__file__).parent / "fixtures"


def write(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path]:
    """Four items. Humans (modes in brackets):
    x1 A A B [A]; x2 B B [B]; x3 A B [A, B]; x4 tie tie A [tie].
    Rater: x1 A, x2 A, x3 B, x4 tie; lengths (a, b) and the response shown first given.
    """
    humans = [
        ("x1", "h1", "A"), ("x1", "h2", "A"), ("x1", "h3", "B"),
        ("x2", "h1", "B"), ("x2", "h2", "B"),
        ("x3", "h1", "A"), ("x3", "h2", "B"),
        ("x4", "h1", "tie"), ("x4", "h2", "tie"), ("x4", "h3", "A"),
    ]  # fmt: skip
    segment = {"x1": "s1", "x2": "s1", "x3": "s2", "x4": "s2"}
    human = write(
        tmp_path / "human.jsonl",
        [
            {"item_id": i, "annotator_id": a, "preference": p, "segment": segment[i]}
            for i, a, p in humans
        ],
    )
    rater = [
        ("x1", "A", 200, 100, "A"),
        ("x2", "A", 100, 300, "B"),
        ("x3", "B", 100, 100, "A"),
        ("x4", "tie", 50, 80, "A"),
    ]
    synthetic = write(
        tmp_path / "feedback.jsonl",
        [
            {
                "item_id": i,
                "kind": "pairwise",
                "rater": "r",
                "confidence": 0.5,
                "verdict": v,
                "len_a": la,
                "len_b": lb,
                "first_shown": f,
            }
            for i, v, la, lb, f in rater
        ],
    )
    return human, synthetic


def test_agreement_kappa_and_bias_by_hand(small: tuple[Path, Path]) -> None:
    human, synthetic = small
    report = calibrate(
        read_labels(human), read_labels(synthetic, role="synthetic"), resamples=200, seed=1
    )
    r = report.raters["r"]
    assert r.n_items == 4 and set(report.raters) == {"r"}
    # Majority agreement: x1 1, x2 0, x3 1/2 (B is one of the two tied modes), x4 1.
    assert r.majority_agreement.value == pytest.approx(2.5 / 4)
    # Leave-one-out, per item: the held-out human and the rater are both scored against
    # the mode(s) of the remaining humans (a share of tied modes):
    #   x1 (rater A): hold A -> rest {A, B} tied: human 1/2, rater 1/2 (twice);
    #       hold B -> rest {A, A}: human 0, rater 1 -> rater 2/3, humans 1/3
    #   x2 (rater A): hold B -> rest {B}: human 1, rater 0 (twice) -> rater 0, humans 1
    #   x3 (rater B): hold A -> rest {B}: human 0, rater 1; hold B -> rest {A}: 0, 0
    #       -> rater 1/2, humans 0
    #   x4 (rater tie): hold tie -> rest {tie, A}: 1/2, 1/2 (twice); hold A -> rest
    #       {tie, tie}: human 0, rater 1 -> rater 2/3, humans 1/3
    rater_loo = (2 / 3 + 0 + 1 / 2 + 2 / 3) / 4
    human_loo = (1 / 3 + 1 + 0 + 1 / 3) / 4
    assert r.rater_vs_held_out is not None and r.human_vs_held_out is not None
    assert r.rater_vs_held_out.value == pytest.approx(rater_loo)
    assert r.human_vs_held_out.value == pytest.approx(human_loo)
    assert r.held_out_gap is not None
    assert r.held_out_gap.value == pytest.approx(rater_loo - human_loo)
    # Kappa on items with a unique majority (x1, x2, x4): pairs (A,A) (A,B) (tie,tie):
    # p_o = 2/3; rater A 2, tie 1; humans A 1, B 1, tie 1; p_e = (2 + 0 + 1) / 9 = 1/3;
    # kappa = (2/3 - 1/3) / (1 - 1/3) = 1/2.
    assert r.kappa.value == pytest.approx(0.5)
    assert r.alpha.value == pytest.approx(
        krippendorff_alpha([["A", "A", "tie"], ["A", "B", "tie"]])
    )
    # Mean bias: rater scores 1, 1, 0, 0.5; human means 2/3, 0, 1/2, 2/3;
    # differences 1/3, 1, -1/2, -1/6 -> mean 1/6.
    assert r.mean_bias.value == pytest.approx(1 / 6)
    # Longer response wins (x3 has equal lengths and is left out):
    #   rater: x1 A longer, A won 1; x2 B longer, A won 0; x4 B longer, tie 1/2 -> 1/2
    #   humans: x1 2/3; x2 1 - 0 = 1; x4 1 - 2/3 = 1/3 -> 2/3
    assert r.length_preference is not None and r.human_length_preference is not None
    assert r.length_preference.value == pytest.approx(0.5)
    assert r.human_length_preference.value == pytest.approx(2 / 3)
    assert r.length_bias is not None
    assert r.length_bias.value == pytest.approx(0.5 - 2 / 3)
    # First shown wins: x1 (A first, A) 1, x2 (B first, A) 0, x3 (A first, B) 0,
    # x4 (A first, tie) 1/2 -> 3/8.
    assert r.position_preference is not None
    assert r.position_preference.value == pytest.approx(3 / 8)
    # Segments: s1 = x1, x2: agreement (1 + 0)/2, bias (1/3 + 1)/2;
    #           s2 = x3, x4: agreement (1/2 + 1)/2, bias (-1/2 - 1/6)/2.
    seg = {s.segment: s for s in r.segments}
    assert seg["s1"].agreement.value == pytest.approx(0.5)
    assert seg["s1"].bias.value == pytest.approx(2 / 3)
    assert seg["s2"].agreement.value == pytest.approx(0.75)
    assert seg["s2"].bias.value == pytest.approx(-1 / 3)
    assert r.ranking is None  # no system ids
    # The humans' own leave-one-out agreement covers the same four items here.
    assert report.human_vs_held_out is not None
    assert report.human_vs_held_out.value == pytest.approx(human_loo)
    assert report.human_alpha.n == 4
    json.dumps(report.to_dict(), allow_nan=False)


def test_system_ranking_by_hand(tmp_path: Path) -> None:
    # y1 P vs Q: humans A, rater A; y2 Q vs R: humans B, rater B; y3 P vs R: humans A,
    # rater B. Humans: P (1 + 1)/2 = 1, Q (0 + 0)/2 = 0, R (1 + 0)/2 = 1/2 -> P > R > Q.
    # Rater: P (1 + 0)/2 = 1/2, Q 0, R (1 + 1)/2 = 1 -> R > P > Q.
    # Spearman: rank differences 1, 1, 0 -> 1 - 6 * 2 / (3 * 8) = 1/2.
    # Kendall: (P, R) discordant, (P, Q) and (R, Q) concordant -> (2 - 1) / 3.
    items = [("y1", "P", "Q", "A", "A"), ("y2", "Q", "R", "B", "B"), ("y3", "P", "R", "A", "B")]
    human = write(
        tmp_path / "h.jsonl",
        [
            {"item_id": i, "annotator_id": "h", "preference": h, "system_a": a, "system_b": b}
            for i, a, b, h, _ in items
        ],
    )
    synthetic = write(
        tmp_path / "s.jsonl",
        [{"item_id": i, "rater": "r", "verdict": v} for i, _, _, _, v in items],
    )
    report = calibrate(
        read_labels(human), read_labels(synthetic, role="synthetic"), resamples=200, seed=1
    )
    ranking = report.raters["r"].ranking
    assert ranking is not None
    assert ranking.human == pytest.approx({"P": 1.0, "Q": 0.0, "R": 0.5})
    assert ranking.synthetic == pytest.approx({"P": 0.5, "Q": 0.0, "R": 1.0})
    assert ranking.spearman.value == pytest.approx(0.5)
    assert ranking.kendall.value == pytest.approx(1 / 3)
    # Single human labels: no leave-one-out.
    assert report.raters["r"].rater_vs_held_out is None


def test_systems_from_a_run_directory(tmp_path: Path) -> None:
    human = write(
        tmp_path / "h.jsonl",
        [{"item_id": f"z{i}", "annotator_id": "h", "preference": "A"} for i in range(3)],
    )
    synthetic = write(
        tmp_path / "s.jsonl",
        [
            {
                "item_id": f"z{i}",
                "rater": "r",
                "verdict": v,
                "episode_a": f"e{i}a",
                "episode_b": f"e{i}b",
            }
            for i, v in enumerate(["A", "A", "B"])
        ],
    )
    targets = {"e0a": "P", "e0b": "Q", "e1a": "Q", "e1b": "R", "e2a": "P", "e2b": "R"}
    report = calibrate(
        read_labels(human),
        read_labels(synthetic, role="synthetic"),
        episodes=targets,
        resamples=200,
        seed=1,
    )
    ranking = report.raters["r"].ranking
    assert ranking is not None and set(ranking.human) == {"P", "Q", "R"}


def test_fixture_files_pool_and_ordering() -> None:
    report = calibrate(
        read_labels(FIXTURES / "human_labels.csv"),
        read_labels(FIXTURES / "feedback.jsonl", role="synthetic"),
        resamples=200,
        seed=1,
    )
    assert set(report.raters) == {"judge-small", "judge-large", POOL}
    small, large = report.raters["judge-small"], report.raters["judge-large"]
    # The careful judge agrees with people far more often; the small one prefers the
    # longer response and the one shown first.
    assert large.majority_agreement.value > small.majority_agreement.value + 0.3
    assert large.abstentions == 1 and large.n_items == 19
    assert small.position_preference is not None and small.position_preference.value > 0.8
    assert small.length_bias is not None and small.length_bias.value > 0.1
    assert large.ranking is not None and large.ranking.spearman.value == pytest.approx(1.0)
    assert {s.segment for s in small.segments} == {"advice", "coding", "writing"}
    assert report.n_annotators == 4 and report.n_items == 20
    lows = [large.kappa.low, large.kappa.high]
    assert all(math.isfinite(v) for v in lows) and lows[0] <= large.kappa.value <= lows[1]


def test_ratings_use_interval_alpha(tmp_path: Path) -> None:
    human = write(
        tmp_path / "h.jsonl",
        [
            {"item_id": f"q{i}", "annotator_id": a, "rating": s, "scale": [1, 5]}
            for i, (s1, s2) in enumerate([(1, 2), (3, 3), (5, 4), (2, 2), (4, 5)])
            for a, s in (("h1", s1), ("h2", s2))
        ],
    )
    synthetic = write(
        tmp_path / "s.jsonl",
        [
            {
                "item_id": f"q{i}",
                "rater": "r",
                "kind": "rubric",
                "score": s,
                "scale": [1, 5],
                "dimension": "helpful",
            }
            for i, s in enumerate([2, 3, 5, 3, 4])
        ],
    )
    report = calibrate(
        read_labels(human), read_labels(synthetic, role="synthetic"), resamples=200, seed=1
    )
    r = report.raters["r"]
    # Unique human majorities: q1 3, q3 2 (q0, q2, q4 are split): rater 3 and 3.
    assert r.kappa.n == 2
    matrix = np.array([[1, 3, 5, 2, 4], [2, 3, 4, 2, 5]], dtype=object)
    assert report.human_alpha.value == pytest.approx(krippendorff_alpha(matrix, level="interval"))
    # Mean bias: rater 2, 3, 5, 3, 4 vs human means 1.5, 3, 4.5, 2, 4.5 -> 0.4 / 5.
    assert r.mean_bias.value == pytest.approx((0.5 + 0 + 0.5 + 1 - 0.5) / 5)


def test_unknown_items_and_empty_overlap_are_refused(tmp_path: Path) -> None:
    human = write(
        tmp_path / "h.jsonl", [{"item_id": "new", "annotator_id": "h", "preference": "A"}]
    )
    synthetic = write(tmp_path / "s.jsonl", [{"item_id": "old", "rater": "r", "verdict": "A"}])
    with pytest.raises(ConfigError, match=r"h.jsonl: line 1: unknown item id 'new'"):
        calibrate(
            read_labels(human), read_labels(synthetic, role="synthetic"), resamples=200, seed=1
        )
    abstains = write(tmp_path / "a.jsonl", [{"item_id": "new", "rater": "r", "verdict": None}])
    with pytest.raises(ConfigError, match="no item has both"):
        calibrate(
            read_labels(human), read_labels(abstains, role="synthetic"), resamples=200, seed=1
        )


@pytest.mark.parametrize("humans_per_item", [3, 4, 5])
def test_a_rater_that_is_one_more_human_has_no_held_out_gap(humans_per_item: int) -> None:
    # Every item has a true answer (A 50%, B 35%, tie 15%); each person, and the rater,
    # gives it with probability 0.7 and one of the other two labels otherwise. The rater
    # is exchangeable with the people, so its held-out gap must be 0 within its interval.
    rng = np.random.default_rng(humans_per_item)
    labels = ("A", "B", "tie")
    n_items = 4000
    truth = rng.choice(3, size=n_items, p=[0.5, 0.35, 0.15])
    right = rng.random((n_items, humans_per_item + 1)) < 0.7
    other = (truth[:, None] + 1 + rng.integers(2, size=(n_items, humans_per_item + 1))) % 3
    given = np.where(right, truth[:, None], other)
    items = [
        _Item(
            item_id=f"x{i}",
            human=[
                Label(item_id=f"x{i}", annotator=f"h{j}", kind="pairwise", value=labels[g])
                for j, g in enumerate(row[:-1])
            ],
            score=0.0,
            category=labels[row[-1]],
            segment=None,
        )
        for i, row in enumerate(given)
    ]
    rater, humans = _loo(items)
    gap = np.array(rater) - np.array(humans)
    se = gap.std(ddof=1) / math.sqrt(gap.size)
    assert abs(gap.mean()) < 2.5 * se, (gap.mean(), se)
    if humans_per_item != 4:
        return
    # With 4 people per item the definition it replaces (the rater against the single
    # held-out label) shows a gap for the same rater: the test can tell the two apart.
    single = [np.mean([item.category == h.category for h in item.human]) for item in items]
    old_gap = np.array(single) - np.array(humans)
    assert abs(old_gap.mean()) > 4 * old_gap.std(ddof=1) / math.sqrt(gap.size)
