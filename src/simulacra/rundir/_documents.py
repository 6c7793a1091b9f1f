"""The documents later stages write into a run directory: ``feedback_summary.json``
(what ``simulacra judge`` found) and ``fidelity.json`` (how human the simulated users
are). Like the other records they keep unknown fields, so a reader of an older version
does not drop what a newer one wrote, and they read the files of earlier versions.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from simulacra.rundir._models import (
    SCHEMA_VERSION,
    CritiqueRecord,
    Episode,
    Estimate,
    FeedbackRecord,
    ImplicitRecord,
    JudgementRecord,
    PairwiseRecord,
    RubricRecord,
    Summary,
    _Record,
    upgrade,
)

# --- feedback_summary.json -----------------------------------------------------------------


class LengthControlled(_Record):
    """The win rate at equal length, from a logistic fit on the length difference."""

    win_rate: Estimate | None = None
    beta0: float | None = None
    beta1: Estimate | None = None
    """The slope on the length term (positive: longer replies tend to win)."""
    raw_win_rate: float | None = None
    length_sd: float | None = None
    l2: float | None = None
    converged: bool | None = None
    form: str | None = None
    extrapolates: bool = False
    warning: str | None = None


class RaterWinRate(_Record):
    """The win rate of side A by one rater of a pool."""

    rater: str
    win_rate: Estimate | None = None


class WinRates(_Record):
    """Win rate of side A over items (abstentions left out), and at equal length."""

    items: int = 0
    judged: int = 0
    abstained: int = 0
    wins_a: int | None = None
    wins_b: int | None = None
    ties: int | None = None
    win_rate: Estimate | None = None
    length_controlled: LengthControlled | None = None
    by_rater: list[RaterWinRate] = Field(default_factory=list)
    """Each rater's own win rate, when more than one rater judged."""


class SwapConsistency(_Record):
    """How often a judge keeps its verdict when the two replies swap places."""

    consistency: Estimate | None = None
    first_position: float | None = None
    second_position: float | None = None
    other: float | None = None
    n: int | None = None


class PositionBias(_Record):
    judged_orders: int = 0
    shown_first_a: int = 0
    first_position_win_rate: Estimate | None = None
    """Share of wins going to the reply shown first (0.5: no position bias)."""
    swap_consistency: SwapConsistency | None = None


class VerbosityBias(_Record):
    pairs: int = 0
    pairs_with_correctness: int = 0
    longer_wins: Estimate | None = None
    """Share of wins going to the longer reply when both are equally correct."""
    longer_wins_any_correctness: Estimate | None = None
    length_coefficient: Estimate | None = None


class SelfPreference(_Record):
    raters_sharing_a_model: list[str] = Field(default_factory=list)
    judgements: int = 0
    own_side_win_rate: Estimate | None = None
    other_raters_same_side: float | None = None
    difference: float | None = None
    note: str = ""


class Agreement(_Record):
    """Agreement among raters on the items more than one judged."""

    items: int = 0
    raters: int | None = None
    judgements: int | None = None
    krippendorff_alpha: float | None = None
    percent_agreement: float | None = None
    mean_cohen_kappa: float | None = None
    rater_pairs_with_kappa: int | None = None
    note: str | None = None


class BiasReport(_Record):
    position: PositionBias | None = None
    verbosity: VerbosityBias | None = None
    self_preference: SelfPreference | None = None
    agreement: Agreement | None = None
    agreement_before_noise: Agreement | None = None


class RubricDimensionSummary(_Record):
    """Mean score of one rubric dimension over items, and how many abstained."""

    mean: Estimate | None = None
    scored: int = 0
    abstained: int = 0
    distribution: dict[str, int] = Field(default_factory=dict)
    scale: list[float] = Field(default_factory=list)


class CritiqueCounts(_Record):
    written: int = 0
    abstained: int = 0


class ImplicitSummary(_Record):
    """Implicit-signal counts over user turns, and the share of episodes showing each."""

    episodes: int = 0
    user_turns: int = 0
    signals: dict[str, int] = Field(default_factory=dict)
    episode_share: dict[str, float | None] = Field(default_factory=dict)
    by_episode: dict[str, list[str]] = Field(default_factory=dict)


class HumanAgreement(_Record):
    """Agreement of the pool's item verdicts with human verdicts on the same items."""

    items: int = 0
    labelled: int = 0
    accuracy: float | None = None
    cohen_kappa: float | None = None


class JudgeOptionsUsed(_Record):
    noise: float | None = None
    both_orders: bool | None = None
    judges_per_item: int | None = None
    pairing: list[str] = Field(default_factory=list)
    unit: str | None = None
    seed: int | None = None


class SkippedPair(_Record):
    """An item that could not be made into a pair, and why."""

    item_id: str = ""
    reason: str = ""


class FailedJudgements(_Record):
    count: int = 0
    first: list[str] = Field(default_factory=list)


class FeedbackSummary(_Record):
    """``feedback_summary.json``: counts, win rates per pairing, bias diagnostics, rubric
    means, critique counts, implicit signals and agreement with human labels. A summary
    computed from a run whose judging has not finished has only the sections computed
    from the judgements (no ``run``, ``raters`` or ``options``)."""

    schema_version: int = SCHEMA_VERSION
    run: str = ""
    kinds: list[str] = Field(default_factory=list)
    judgements: dict[str, int] = Field(default_factory=dict)
    target_model: str | None = None
    raters: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """How each rater was set up (model, template, persona...), as configured."""
    options: JudgeOptionsUsed | None = None
    pairwise: dict[str, WinRates] = Field(default_factory=dict)
    """Win rates by pairing (``reference``, ``repeats``, ...)."""
    bias: BiasReport | None = None
    rubric: dict[str, RubricDimensionSummary] = Field(default_factory=dict)
    critique: CritiqueCounts | None = None
    implicit: ImplicitSummary | None = None
    human: HumanAgreement | None = None
    skipped_pairs: list[SkippedPair] = Field(default_factory=list)
    failed_judgements: FailedJudgements | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeedbackSummary:
        return cls.model_validate(upgrade(data))


def _complement(rate: Estimate) -> dict[str, Any]:
    """A share as the other side's: ``1 - x``, the interval's bounds swapped."""
    data = rate.to_dict()
    for key, source in (("value", rate.value), ("low", rate.high), ("high", rate.low)):
        data[key] = None if source is None else 1.0 - source
    return data


class Matching(_Record):
    """How the episodes of two runs were paired (persona × task × mode × repeat)."""

    matched: int = 0
    seeds_match: int = 0
    only_in_a: list[str] = Field(default_factory=list)
    only_in_b: list[str] = Field(default_factory=list)
    not_judgeable_a: int = 0
    not_judgeable_b: int = 0
    skipped: list[SkippedPair] = Field(default_factory=list)


class Comparison(WinRates):
    """``compare_<B>.json`` in run A: the raters' win rate of run A's episodes against
    run B's matched ones (with the length-controlled rate), the bias diagnostics and
    every judgement."""

    schema_version: int = SCHEMA_VERSION
    run_a: str = ""
    run_b: str = ""
    target_models: dict[str, str | None] = Field(default_factory=dict)
    matching: Matching | None = None
    raters: dict[str, dict[str, Any]] = Field(default_factory=dict)
    options: JudgeOptionsUsed | None = None
    bias: BiasReport | None = None
    human: HumanAgreement | None = None
    failed_judgements: FailedJudgements | None = None
    judgements: list[PairwiseRecord] = Field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        return cls.model_validate(upgrade(data))

    def flipped(self) -> Comparison:
        """The same comparison seen from run B: B's wins as A's, rates as ``1 - x``
        (each interval's bounds swapped), and the runs swapped."""
        data = self.to_dict()
        data["run_a"], data["run_b"] = self.run_b, self.run_a
        data["wins_a"], data["wins_b"] = self.wins_b, self.wins_a
        if self.win_rate is not None:
            data["win_rate"] = _complement(self.win_rate)
        if self.length_controlled is not None and self.length_controlled.win_rate is not None:
            data["length_controlled"]["win_rate"] = _complement(self.length_controlled.win_rate)
        return Comparison.from_dict(data)


# --- fidelity.json -------------------------------------------------------------------------


class FeatureFidelity(_Record):
    """One feature of user turns, simulated against human, and their similarity (0–1)."""

    simulated: float | None = None
    human: float | None = None
    similarity: float | None = None


class DimensionFidelity(_Record):
    """A dimension's score (0–100): the mean similarity of its features."""

    score: float | None = None
    features: dict[str, FeatureFidelity] = Field(default_factory=dict)


class DistributionFidelity(_Record):
    """A per-turn or per-conversation quantity compared as distributions."""

    wasserstein: float | None = None
    ks_statistic: float | None = None
    ks_pvalue: float | None = None
    simulated_mean: float | None = None
    human_mean: float | None = None
    simulated_median: float | None = None
    human_median: float | None = None
    n_simulated: int | None = None
    n_human: int | None = None


Interval = list[float | None]
"""A ``[low, high]`` pair (``null`` bounds where no interval could be computed)."""


class FidelityIntervals(_Record):
    """Bootstrap intervals over the run's conversations."""

    confidence: float | None = None
    n_resamples: int | None = None
    method: str | None = None
    index: Interval | None = None
    dimensions: dict[str, Interval] = Field(default_factory=dict)
    values: dict[str, Interval] = Field(default_factory=dict)
    similarity: dict[str, Interval] = Field(default_factory=dict)


class Openers(_Record):
    """How often the commonest openers start a user turn, and each stock phrase does."""

    top: list[tuple[str, float]] = Field(default_factory=list)
    canned: dict[str, float] = Field(default_factory=dict)


class SideCounts(_Record):
    simulated: int = 0
    human: int = 0
    simulated_skipped: int | None = None
    human_skipped: int | None = None


class SizedCeilingFidelity(_Record):
    """What samples of as many real conversations as the run score against the rest of
    the corpus: the ceiling at the run's size, per dimension and per feature."""

    size: int = 0
    index: float | None = None
    dimensions: dict[str, float | None] = Field(default_factory=dict)
    features: dict[str, float | None] = Field(default_factory=dict)
    splits: list[float | None] = Field(default_factory=list)


class FidelityComparison(_Record):
    """The same measures for a second run (``simulacra fidelity --compare``)."""

    run: str = ""
    index: float | None = None
    dimensions: dict[str, DimensionFidelity] = Field(default_factory=dict)
    distributions: dict[str, DistributionFidelity] = Field(default_factory=dict)
    n_conversations: int | None = None
    n_user_turns: int | None = None
    ceiling_at_size: SizedCeilingFidelity | None = None


class Fidelity(_Record):
    """``fidelity.json``: the run's simulated users against a corpus of real ones. The
    ``index`` (0–100) is the mean of the dimension scores; the ``ceiling`` is what two
    halves of the human corpus reach against each other, ``ceiling_at_size`` what real
    samples of the run's size reach against the rest."""

    schema_version: int = SCHEMA_VERSION
    index: float | None = None
    ceiling: float | None = None
    dimensions: dict[str, DimensionFidelity] = Field(default_factory=dict)
    ceiling_dimensions: dict[str, float | None] = Field(default_factory=dict)
    distributions: dict[str, DistributionFidelity] = Field(default_factory=dict)
    human_corpus: str = ""
    run: str = ""
    n_conversations: SideCounts | None = None
    n_user_turns: SideCounts | None = None
    classifier: str | None = None
    """How assistant-likeness of a turn was measured."""
    splits: int | None = None
    seed: int | None = None
    intervals: FidelityIntervals | None = None
    ceiling_splits: list[float | None] = Field(default_factory=list)
    ceiling_at_size: SizedCeilingFidelity | None = None
    """The ceiling at the run's size (older reports: absent)."""
    human_intervals: dict[str, Interval] | None = None
    openers: Openers | None = None
    compare: FidelityComparison | None = None
    notes: list[str] = Field(default_factory=list)

    @field_validator("notes", mode="before")
    @classmethod
    def _notes(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fidelity:
        return cls.model_validate(upgrade(data))


RECORDS: dict[str, type[BaseModel]] = {
    "episode": Episode,
    "feedback": FeedbackRecord,
    "feedback-pairwise": PairwiseRecord,
    "feedback-rubric": RubricRecord,
    "feedback-critique": CritiqueRecord,
    "feedback-implicit": ImplicitRecord,
    "judgement": JudgementRecord,
    "summary": Summary,
    "feedback-summary": FeedbackSummary,
    "fidelity": Fidelity,
    "comparison": Comparison,
}
"""The records with a JSON Schema in ``docs/schema/`` (``<name>.schema.json``)."""


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each record, by name (what ``docs/schema/`` ships)."""
    return {
        name: {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"simulacra/{name}.schema.json",
            **model.model_json_schema(mode="serialization"),
        }
        for name, model in RECORDS.items()
    }
