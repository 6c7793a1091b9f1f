"""Pin the public surface of ``simulacra.feedback`` and keep importing it light."""

from __future__ import annotations

import subprocess
import sys

import simulacra.feedback as feedback

EXPECTED = {
    "DEFAULT_DIMENSIONS",
    "SIGNALS",
    "Critique",
    "CritiqueRater",
    "Dimension",
    "FixedRater",
    "FixedRaterOptions",
    "HashingEmbedder",
    "ImplicitRules",
    "JudgeResult",
    "LLMPairRater",
    "LLMRaterOptions",
    "LabelledPair",
    "LearnedRater",
    "LearnedRaterOptions",
    "MiniLMEmbedder",
    "OrderVerdict",
    "PairItem",
    "PairJudgement",
    "PairRater",
    "PoolMember",
    "RaterContext",
    "RaterOptions",
    "RaterPool",
    "RaterSpec",
    "RatersConfig",
    "ResponseItem",
    "RubricRater",
    "RubricScore",
    "SatisfactionRater",
    "Template",
    "TurnSignals",
    "acompare_runs",
    "aggregate_signals",
    "ajudge_run",
    "classify_turns",
    "compare_runs",
    "fit_learned_rater",
    "judge_run",
    "label_turns",
    "load_raters_config",
    "make_embedder",
    "model_identity",
    "parse_raters_config",
    "parse_verdict",
    "parse_verdict_logprobs",
    "parse_verdict_text",
    "rater_kinds",
    "read_feedback",
    "split_pairs",
    "synthetic_labelled_pairs",
    "synthetic_pairs",
    "templates",
}


def test_all_is_the_public_surface() -> None:
    assert set(feedback.__all__) == EXPECTED
    for name in feedback.__all__:
        assert getattr(feedback, name) is not None
    assert set(dir(feedback)) >= EXPECTED


def test_public_callables_are_documented() -> None:
    for name in feedback.__all__:
        obj = getattr(feedback, name)
        if callable(obj) and not isinstance(obj, dict):
            assert obj.__doc__ and len(obj.__doc__.strip()) > 20, name


def test_importing_the_package_and_its_commands_loads_no_numpy() -> None:
    code = (
        "import sys, simulacra.feedback, simulacra.feedback._cli; "
        "heavy = [m for m in ('numpy', 'scipy', 'llama_cpp', 'simulacra.runs') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == ""
