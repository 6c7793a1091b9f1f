"""Unbiased estimates from human + synthetic labels: a hand-computed case, the refusals,
and coverage and unbiasedness by seeded simulation through the same code path."""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest

from simulacra.errors import ConfigError
from simulacra.trust import estimate, read_labels, required_human_items
from simulacra.trust._labels import Label, LabelSet

FIXTURES = Path(__file__).parent / "fixtures"
Z95 = NormalDist().inv_cdf(0.975)


def pairwise(
    item: str, annotator: str, value: str | None, *, selected_by: str | None = None
) -> Label:
    return Label(
        item_id=item, annotator=annotator, kind="pairwise", value=value, selected_by=selected_by
    )


def label_set(labels: list[Label]) -> LabelSet:
    return LabelSet(labels=labels, kind="pairwise", source="<test>")


def verdict(win: int) -> str:
    return "A" if win else "B"


def hand_case() -> tuple[LabelSet, LabelSet]:
    """24 human-labelled items (14 won by A) and 10 more with synthetic labels only.

    The rater gets items 0-11 right (A), calls items 12-13 B (humans: A), items 14-16 A
    (humans: B), items 17-23 right (B), and says A on 7 of the 10 extra items.
    """
    y = [1] * 14 + [0] * 10
    f_n = [1] * 12 + [0] * 2 + [1] * 3 + [0] * 7
    f_extra = [1] * 7 + [0] * 3
    human = label_set([pairwise(f"i{k}", "h", verdict(v)) for k, v in enumerate(y)])
    synthetic = label_set(
        [pairwise(f"i{k}", "r", verdict(v)) for k, v in enumerate(f_n)]
        + [pairwise(f"j{k}", "r", verdict(v)) for k, v in enumerate(f_extra)]
    )
    return human, synthetic


def test_ppi_by_hand() -> None:
    human, synthetic = hand_case()
    result = estimate(human, synthetic, method="ppi")
    r = result.result
    # PPI = mean of the extra synthetic labels + mean(Y - Y_hat) = 0.7 + (14 - 15) / 24.
    assert r.estimate.value == pytest.approx(0.7 - 1 / 24)
    # Rectifier: two +1, three -1, nineteen 0; mean -1/24; variance (ddof 1)
    #   (5 - 24 * (1/24)^2) / 23.
    # Synthetic labels pooled: 22 of 34 are A; variance 34 * (22/34)(12/34) / 33.
    variance = ((5 - 1 / 24) / 23) / 24 + ((22 * 12 / 34) / 33) / 10
    half = Z95 * math.sqrt(variance)
    value = 0.7 - 1 / 24
    assert (r.estimate.low, r.estimate.high) == pytest.approx((value - half, value + half))
    assert r.classical.value == pytest.approx(14 / 24)
    assert r.synthetic_only.value == pytest.approx(22 / 34)
    # Effective human labels: Var(Y) / Var(estimate), Var(Y) = 24 * (14/24)(10/24) / 23.
    assert r.effective_n == pytest.approx(((140 / 24) / 23) / variance)
    assert (result.n_human_items, result.n_synthetic_items, r.n_unlabelled) == (24, 34, 10)
    assert result.target.startswith("win rate of A")
    assert result.design == "random sample"
    json.dumps(result.to_dict(), allow_nan=False)


def test_several_annotators_per_item_are_averaged() -> None:
    human, synthetic = hand_case()
    # A second annotator on item 0 says B: that item's human value becomes 1/2.
    extra = label_set([*human.labels, pairwise("i0", "h2", "B")])
    result = estimate(extra, synthetic, method="ppi")
    assert result.result.classical.value == pytest.approx((14 - 0.5) / 24)
    assert result.n_human_labels == 25


def test_abstentions_get_the_middle_and_unknown_designs_are_refused() -> None:
    human, synthetic = hand_case()
    # The rater abstains on extra item j0 (was A): its value becomes 1/2.
    labels = list(synthetic.labels)
    labels[24] = pairwise("j0", "r", None)
    result = estimate(human, label_set(labels), method="ppi")
    assert result.imputed == 1
    assert result.result.estimate.value == pytest.approx((6 + 0.5) / 10 - 1 / 24)
    # Items chosen for disagreement without stratum sizes: their weight is unknown.
    marked = label_set(
        [
            *human.labels,
            *(pairwise(f"j{k}", "h", "A", selected_by="disagreement") for k in range(3)),
        ]
    )
    with pytest.raises(ConfigError, match="chosen for disagreement but carries no stratum_size"):
        estimate(marked, synthetic, method="ppi")
    # Random items of such a selection were drawn from outside the chosen ones.
    drawn = label_set(
        [pairwise(x.item_id, "h", str(x.value), selected_by="random") for x in human.labels]
    )
    with pytest.raises(ConfigError, match="drawn at random by a selection but carries no"):
        estimate(drawn, synthetic, method="ppi")


def test_refuses_a_human_set_too_small_for_the_interval() -> None:
    human, synthetic = hand_case()
    fewer = label_set(list(human.labels[:19]))
    with pytest.raises(ConfigError, match=r"too small for a 95% interval: n=19 .* at least 20"):
        estimate(fewer, synthetic)
    with pytest.raises(ConfigError, match=r"too small for a 99% interval: n=24 .* at least 100"):
        estimate(human, synthetic, level=0.99)
    assert (required_human_items(0.9), required_human_items(0.95)) == (10, 20)
    assert required_human_items(0.99) == 100
    # All human labels the same: the interval would have no width.
    same = label_set([pairwise(f"i{k}", "h", "A") for k in range(20)])
    with pytest.raises(ConfigError, match="same value"):
        estimate(same, synthetic)
    # 2 of 20 items won by A: only 2 expected on the rarer side (need 10).
    rare = label_set([pairwise(f"i{k}", "h", "A" if k < 2 else "B") for k in range(20)])
    with pytest.raises(ConfigError, match=r"only 2\.0 are expected on the rarer side \(need 10"):
        estimate(rare, synthetic)
    # 9 of 20 on the rarer side: the old rule of 5 let this through, 10 does not.
    nine = label_set([pairwise(f"i{k}", "h", "A" if k < 11 else "B") for k in range(20)])
    with pytest.raises(ConfigError, match=r"only 9\.0 are expected"):
        estimate(nine, synthetic)


def test_other_refusals() -> None:
    human, synthetic = hand_case()
    only_labelled = label_set([x for x in synthetic.labels if x.item_id.startswith("i")])
    with pytest.raises(ConfigError, match="every one of the 24 synthetic items"):
        estimate(human, only_labelled)
    with pytest.raises(ConfigError, match="no rater 'nobody'"):
        estimate(human, synthetic, rater="nobody")
    unknown = label_set([*human.labels, pairwise("zzz", "h", "A")])
    with pytest.raises(ConfigError, match="unknown item id 'zzz'"):
        estimate(unknown, synthetic)
    with pytest.raises(ConfigError, match="method"):
        estimate(human, synthetic, method="mean")  # type: ignore[arg-type]


def test_fixture_files() -> None:
    result = estimate(
        read_labels(FIXTURES / "human_labels.csv"),
        read_labels(FIXTURES / "feedback.jsonl", role="synthetic"),
        rater="judge-large",
    )
    r = result.result
    assert result.rater == "judge-large"
    assert result.imputed == 1  # judge-large abstained on i11
    assert r.n == 20 and r.n_unlabelled == 10
    assert r.estimate.low < r.estimate.value < r.estimate.high
    assert 0.0 <= r.lam <= 1.0


def simulate(rng: np.random.Generator, n: int, big_n: int) -> tuple[LabelSet, LabelSet]:
    """Items won by A with probability 0.3; a rater biased toward A.

    The rater says A with probability 0.9 when people prefer A and 0.3 when they prefer
    B: its synthetic win rate is 0.3 * 0.9 + 0.7 * 0.3 = 0.48, against a truth of 0.3.
    """
    total = n + big_n
    truth = rng.random(total) < 0.3
    says_a = np.where(truth, rng.random(total) < 0.9, rng.random(total) < 0.3)
    human = [pairwise(f"i{k}", "h", verdict(int(truth[k]))) for k in range(n)]
    synthetic = [pairwise(f"i{k}", "r", verdict(int(says_a[k]))) for k in range(total)]
    return label_set(human), label_set(synthetic)


def test_coverage_and_unbiasedness_by_simulation() -> None:
    rng = np.random.default_rng(2024)
    covered = 0
    estimates = []
    synthetic_only = []
    for _ in range(1000):
        human, synthetic = simulate(rng, 120, 240)
        r = estimate(human, synthetic).result
        covered += r.estimate.low <= 0.3 <= r.estimate.high
        estimates.append(r.estimate.value)
        synthetic_only.append(r.synthetic_only.value)
    assert 0.93 <= covered / 1000 <= 0.97
    # Unbiased: the mean estimate is within 3 standard errors of the truth ...
    spread = float(np.std(estimates)) / math.sqrt(1000)
    assert abs(float(np.mean(estimates)) - 0.3) < 3 * spread
    # ... while the rater alone is off by its bias (0.48 - 0.3 on these items).
    # (The synthetic-only mean pools the 360 synthetic labels: all biased by +0.18.)
    assert float(np.mean(synthetic_only)) == pytest.approx(0.48, abs=0.01)


def test_an_informative_rater_saves_labels() -> None:
    rng = np.random.default_rng(7)
    n, big_n = 200, 2000
    truth = rng.random(n + big_n) < 0.5
    agrees = rng.random(n + big_n) < 0.8
    says_a = np.where(agrees, truth, ~truth)
    human = label_set([pairwise(f"i{k}", "h", verdict(int(truth[k]))) for k in range(n)])
    synthetic = label_set(
        [pairwise(f"i{k}", "r", verdict(int(says_a[k]))) for k in range(n + big_n)]
    )
    r = estimate(human, synthetic).result
    assert r.labels_saved > 0 and r.effective_n > n
    assert r.estimate.width < r.classical.width


def designed(item: str, value: str, stratum: str, size: int, *, annotator: str = "h") -> Label:
    return Label(
        item_id=item,
        annotator=annotator,
        kind="pairwise",
        value=value,
        selected_by="disagreement" if stratum == "top" else "random",
        stratum=stratum,
        stratum_size=size,
    )


def stratified_case() -> tuple[list[Label], LabelSet]:
    """The hand case as the random stratum of a selection, plus 4 items chosen on purpose
    (k0-k3, humans A, A, B, A; the rater says B on all four)."""
    human, synthetic = hand_case()
    top = [designed(f"k{i}", v, "top", 4) for i, v in enumerate("AABA")]
    rest = [designed(x.item_id, str(x.value), "rest", 34) for x in human.labels]
    extra = [pairwise(f"k{i}", "r", "B") for i in range(4)]
    return top + rest, label_set([*synthetic.labels, *extra])


def test_a_selection_is_estimated_as_a_stratified_design() -> None:
    from simulacra.stats import stratified_ppi_mean

    labels, synthetic = stratified_case()
    result = estimate(label_set(labels), synthetic, method="ppi")
    assert result.design == "stratified" and result.n_top == 4
    y = [1.0] * 14 + [0.0] * 10
    f_n = [1.0] * 12 + [0.0] * 2 + [1.0] * 3 + [0.0] * 7
    expected = stratified_ppi_mean(
        [1.0, 1.0, 0.0, 1.0], y, f_n, [1.0] * 7 + [0.0] * 3, method="ppi"
    )
    assert result.result.estimate == expected.estimate
    # The rater's mistakes on the chosen items (it says B, people mostly A) do not leak
    # into the rest: the estimate is 4/38 * 0.75 + 34/38 * (0.7 - 1/24).
    assert result.result.estimate.value == pytest.approx(4 / 38 * 0.75 + 34 / 38 * (0.7 - 1 / 24))
    assert result.result.synthetic_only.value == pytest.approx(22 / 38)


def test_designs_that_cannot_be_accounted_for_are_refused() -> None:
    labels, synthetic = stratified_case()
    # A chosen item left unlabelled: the top stratum is no longer complete.
    with pytest.raises(ConfigError, match="top stratum has 4 items but only 3"):
        estimate(label_set(labels[1:]), synthetic)
    # The synthetic file has more items than when the selection was made.
    bigger = label_set([*synthetic.labels, pairwise("new", "r", "A")])
    with pytest.raises(ConfigError, match=r"drawn from 34 items .* the synthetic file has 35"):
        estimate(label_set(labels), bigger)
    # Mixed with labels of unknown design.
    with pytest.raises(ConfigError, match="mixed with labels of unknown design"):
        estimate(label_set([*labels, pairwise("j5", "h", "A")]), synthetic)
    # A selection without enough random items.
    few = [x for x in labels if x.stratum == "top" or x.item_id in {f"i{k}" for k in range(5)}]
    with pytest.raises(ConfigError, match="only 5 drawn at random"):
        estimate(label_set(few), synthetic)
    odd = [designed("k0", "A", "middle", 4), *labels[1:]]
    with pytest.raises(ConfigError, match="unknown stratum 'middle'"):
        estimate(label_set(odd), synthetic)
