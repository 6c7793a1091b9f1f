"""Statistics over plain data: metrics with confidence intervals, agreement, trust.

Everything here is a pure function of lists, arrays and dicts, and needs no model.
Results are frozen dataclasses with ``to_dict()`` for JSON. Modules:

- bootstrap: :class:`Estimate`, :func:`bootstrap`, :func:`cluster_bootstrap`
- shares over few clusters: :func:`wilson_bounds`, :func:`few_tasks_warning`,
  :data:`MIN_TASKS`
- task metrics: :func:`success_rate`, :func:`pass_hat_k`, :func:`aptitude`,
  :func:`unreliability`, :func:`multi_turn_drop`, :func:`breakdown`,
  :func:`success_by_turn`
- agreement: :func:`percent_agreement`, :func:`cohen_kappa`, :func:`fleiss_kappa`,
  :func:`fleiss_kappa_counts`, :func:`krippendorff_alpha`
- preferences: :func:`win_rate`, :func:`length_controlled_win_rate`,
  :func:`position_bias`, :func:`swap_consistency`, :func:`length_preference`
- prediction-powered inference: :func:`classical_mean`, :func:`ppi_mean`,
  :func:`stratified_ppi_mean`
- rankings: :func:`spearman`, :func:`kendall`, :func:`rank_correlation`

Importing this package imports numpy (scipy only where a function needs it); the
top-level ``simulacra`` package does not import it.
"""

from simulacra.stats._agreement import (
    cohen_kappa,
    fleiss_kappa,
    fleiss_kappa_counts,
    krippendorff_alpha,
    percent_agreement,
)
from simulacra.stats._bootstrap import Estimate, bootstrap, cluster_bootstrap
from simulacra.stats._common import jsonable
from simulacra.stats._metrics import (
    SuccessByTurn,
    aptitude,
    breakdown,
    multi_turn_drop,
    pass_hat_k,
    success_by_turn,
    success_rate,
    unreliability,
)
from simulacra.stats._ppi import (
    MIN_HUMAN_LABELS,
    PPIResult,
    classical_mean,
    ppi_mean,
    stratified_ppi_mean,
)
from simulacra.stats._preference import (
    VERDICT_SCORE,
    LengthControlledWinRate,
    SwapConsistency,
    length_controlled_win_rate,
    length_preference,
    position_bias,
    swap_consistency,
    win_rate,
)
from simulacra.stats._proportion import MIN_TASKS, few_tasks_warning, wilson_bounds
from simulacra.stats._rank import kendall, rank_correlation, spearman

__all__ = [
    "MIN_HUMAN_LABELS",
    "MIN_TASKS",
    "VERDICT_SCORE",
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
    "jsonable",
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
]
