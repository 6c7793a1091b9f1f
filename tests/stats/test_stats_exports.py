"""Pin the public surface of ``simulacra.stats``."""

from __future__ import annotations

import dataclasses
import inspect

import simulacra.stats as stats

EXPECTED = {
    "MIN_HUMAN_LABELS",
    "MIN_TASKS",
    "Estimate",
    "LengthControlledWinRate",
    "PPIResult",
    "SuccessByTurn",
    "SwapConsistency",
    "aptitude",
    "bootstrap",
    "breakdown",
    "classical_mean",
    "cluster_bootstrap",
    "cohen_kappa",
    "few_tasks_warning",
    "fleiss_kappa",
    "fleiss_kappa_counts",
    "kendall",
    "krippendorff_alpha",
    "length_controlled_win_rate",
    "length_preference",
    "multi_turn_drop",
    "pass_hat_k",
    "percent_agreement",
    "position_bias",
    "ppi_mean",
    "rank_correlation",
    "spearman",
    "stratified_ppi_mean",
    "success_by_turn",
    "success_rate",
    "swap_consistency",
    "unreliability",
    "wilson_bounds",
    "win_rate",
}


def test_all_is_the_public_surface() -> None:
    assert set(stats.__all__) == EXPECTED
    public = {name for name in vars(stats) if not name.startswith("_")}
    assert public - set(stats.__all__) == set()
    for name in stats.__all__:
        assert getattr(stats, name) is not None


def test_results_are_frozen_keyword_only_dataclasses_with_to_dict() -> None:
    for name in stats.__all__:
        obj = getattr(stats, name)
        if inspect.isclass(obj):
            assert dataclasses.is_dataclass(obj)
            params = obj.__dataclass_params__  # type: ignore[attr-defined]
            assert params.frozen, name
            assert all(f.kw_only for f in dataclasses.fields(obj)), name
            assert callable(obj.to_dict), name


def test_public_functions_are_documented() -> None:
    for name in stats.__all__:
        obj = getattr(stats, name)
        if callable(obj):
            assert obj.__doc__ and len(obj.__doc__) > 40, name
