"""Trust: how far simulated people can be believed, and how to use them without bias.

- rater fidelity: :func:`calibrate` measures synthetic raters against human labels
  (agreement, leave-one-out agreement, kappa and alpha, bias, system ranking);
- unbiased estimates: :func:`estimate` combines a few human labels with many synthetic
  ones by prediction-powered inference;
- what to label: :func:`select_items` picks the items where raters disagree most, and
  :func:`ingest_annotations` reads the filled sheet back;
- user realism: :func:`user_fidelity` compares a run's simulated users with real
  conversations (the measures themselves are in :mod:`simulacra.trust._realism`);
- user profiles: :func:`extract_profiles` turns real conversations into profiles for the
  role-play user.

Names load on first use, so importing this package (and the command line) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulacra._lazy import lazy_exports

_EXPORTS = {
    "Label": "simulacra.trust._labels",
    "LabelSet": "simulacra.trust._labels",
    "read_labels": "simulacra.trust._labels",
    "CalibrationReport": "simulacra.trust._calibrate",
    "RaterFidelity": "simulacra.trust._calibrate",
    "SegmentFidelity": "simulacra.trust._calibrate",
    "SystemRanking": "simulacra.trust._calibrate",
    "calibrate": "simulacra.trust._calibrate",
    "HumanSyntheticEstimate": "simulacra.trust._estimate",
    "estimate": "simulacra.trust._estimate",
    "required_human_items": "simulacra.trust._estimate",
    "Selection": "simulacra.trust._select",
    "annotation_rows": "simulacra.trust._select",
    "ingest_annotations": "simulacra.trust._select",
    "rank_items": "simulacra.trust._select",
    "select_items": "simulacra.trust._select",
    "vote_entropy": "simulacra.trust._select",
    "ProfileExtraction": "simulacra.trust._profiles",
    "extract_profiles": "simulacra.trust._profiles",
    "profiles_from_file": "simulacra.trust._profiles",
    "split_corpus": "simulacra.trust._profiles",
    "write_corpus": "simulacra.trust._profiles",
    "Corpus": "simulacra.trust._corpus",
    "read_conversations": "simulacra.trust._corpus",
    "run_corpus": "simulacra.trust._corpus",
    "user_fidelity": "simulacra.trust._fidelity",
    "write_fidelity": "simulacra.trust._fidelity",
    "opener_shares": "simulacra.trust._fidelity",
    "RealismIntervals": "simulacra.trust._realism",
    "bootstrap_realism": "simulacra.trust._realism",
    "RealismComparison": "simulacra.trust._realism",
    "compare_realism": "simulacra.trust._realism",
    "realism_features": "simulacra.trust._realism",
    "realism_index": "simulacra.trust._realism",
    "feature_similarity": "simulacra.trust._realism",
    "DIMENSIONS": "simulacra.trust._realism",
    "TaskConversation": "simulacra.trust._realism",
}

__all__ = [
    "DIMENSIONS",
    "CalibrationReport",
    "Corpus",
    "HumanSyntheticEstimate",
    "Label",
    "LabelSet",
    "ProfileExtraction",
    "RaterFidelity",
    "RealismComparison",
    "RealismIntervals",
    "SegmentFidelity",
    "Selection",
    "SystemRanking",
    "TaskConversation",
    "annotation_rows",
    "bootstrap_realism",
    "calibrate",
    "compare_realism",
    "estimate",
    "extract_profiles",
    "feature_similarity",
    "ingest_annotations",
    "opener_shares",
    "profiles_from_file",
    "rank_items",
    "read_conversations",
    "read_labels",
    "realism_features",
    "realism_index",
    "required_human_items",
    "run_corpus",
    "select_items",
    "split_corpus",
    "user_fidelity",
    "vote_entropy",
    "write_corpus",
    "write_fidelity",
]

if TYPE_CHECKING:
    from simulacra.trust._calibrate import (
        CalibrationReport,
        RaterFidelity,
        SegmentFidelity,
        SystemRanking,
        calibrate,
    )
    from simulacra.trust._corpus import Corpus, read_conversations, run_corpus
    from simulacra.trust._estimate import HumanSyntheticEstimate, estimate, required_human_items
    from simulacra.trust._fidelity import opener_shares, user_fidelity, write_fidelity
    from simulacra.trust._labels import Label, LabelSet, read_labels
    from simulacra.trust._profiles import (
        ProfileExtraction,
        extract_profiles,
        profiles_from_file,
        split_corpus,
        write_corpus,
    )
    from simulacra.trust._realism import (
        DIMENSIONS,
        RealismComparison,
        RealismIntervals,
        TaskConversation,
        bootstrap_realism,
        compare_realism,
        feature_similarity,
        realism_features,
        realism_index,
    )
    from simulacra.trust._select import (
        Selection,
        annotation_rows,
        ingest_annotations,
        rank_items,
        select_items,
        vote_entropy,
    )

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
del lazy_exports  # the package's helper, not part of what it offers
