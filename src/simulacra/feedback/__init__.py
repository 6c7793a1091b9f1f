"""Simulated raters: the feedback humans would give on conversations with an AI system.

- pairwise preferences: :class:`LLMPairRater` (a prompted model), :class:`LearnedRater`
  (a Bradley–Terry model on sentence embeddings, no LLM), :class:`FixedRater` (a
  scripted rule), pooled into a crowd by :class:`RaterPool` (rater draw, order
  randomisation, both-orders judging, label noise),
- rubric ratings and critiques: :class:`RubricRater`, :class:`SatisfactionRater`,
  :class:`CritiqueRater`,
- the judge of judged tasks: :class:`ChecklistJudge` (must-haves, yes or no with reasons,
  order-controlled), set by the run config's ``judge:`` (:class:`CheckJudgeConfig`),
  diagnosed by :func:`checklist_report`; it also rules on an environment task's
  assertions about the conversation (``judge_assertions``, :func:`assertion_verdicts`),

- implicit signals in user turns: :func:`label_turns`, :func:`classify_turns`,
- run directories: :func:`judge_run` writes ``feedback.jsonl`` and
  ``feedback_summary.json``; :func:`compare_runs` judges one run against another.

Names load on first use, so importing this package (and the ``simulacra`` command) stays
fast; numpy is imported only by what needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulacra._lazy import lazy_exports

_EXPORTS = {
    # items
    "PairItem": "simulacra.feedback._items",
    "ResponseItem": "simulacra.feedback._items",
    # templates
    "Template": "simulacra.feedback._templates",
    "templates": "simulacra.feedback._templates",
    # pairwise
    "FixedRater": "simulacra.feedback._pairwise",
    "LLMPairRater": "simulacra.feedback._pairwise",
    "OrderVerdict": "simulacra.feedback._pairwise",
    "PairJudgement": "simulacra.feedback._pairwise",
    "PairRater": "simulacra.feedback._pairwise",
    "RaterPool": "simulacra.feedback._pairwise",
    # parsing
    "parse_verdict": "simulacra.feedback._parse",
    "parse_verdict_logprobs": "simulacra.feedback._parse",
    "parse_verdict_text": "simulacra.feedback._parse",
    # judged tasks
    "CheckJudgeConfig": "simulacra.feedback._checklist",
    "ChecklistJudge": "simulacra.feedback._checklist",
    "Judged": "simulacra.feedback._checklist",
    "abstention": "simulacra.feedback._checklist",
    "assertion_verdicts": "simulacra.feedback._checklist",
    "check_result": "simulacra.feedback._checklist",
    "parse_checklist": "simulacra.feedback._checklist",
    "checklist_report": "simulacra.feedback._diagnostics",
    # rubric
    "DEFAULT_DIMENSIONS": "simulacra.feedback._rubric",
    "Critique": "simulacra.feedback._rubric",
    "CritiqueRater": "simulacra.feedback._rubric",
    "Dimension": "simulacra.feedback._rubric",
    "RubricRater": "simulacra.feedback._rubric",
    "RubricScore": "simulacra.feedback._rubric",
    "SatisfactionRater": "simulacra.feedback._rubric",
    # implicit
    "SIGNALS": "simulacra.feedback._implicit",
    "ImplicitRules": "simulacra.feedback._implicit",
    "TurnSignals": "simulacra.feedback._implicit",
    "aggregate_signals": "simulacra.feedback._implicit",
    "classify_turns": "simulacra.feedback._implicit",
    "label_turns": "simulacra.feedback._implicit",
    # learned
    "HashingEmbedder": "simulacra.feedback._embed",
    "MiniLMEmbedder": "simulacra.feedback._embed",
    "make_embedder": "simulacra.feedback._embed",
    "LabelledPair": "simulacra.feedback._learned",
    "LearnedRater": "simulacra.feedback._learned",
    "fit_learned_rater": "simulacra.feedback._learned",
    "split_pairs": "simulacra.feedback._learned",
    "synthetic_labelled_pairs": "simulacra.feedback._learned",
    "synthetic_pairs": "simulacra.feedback._synthetic",
    # config, runs
    "RaterConfig": "simulacra.feedback._config",
    "RatersConfig": "simulacra.feedback._config",
    "load_raters_config": "simulacra.feedback._config",
    "parse_raters_config": "simulacra.feedback._config",
    "ComparisonResult": "simulacra.feedback._judge",
    "JudgeResult": "simulacra.feedback._judge",
    "acompare_runs": "simulacra.feedback._judge",
    "ajudge_run": "simulacra.feedback._judge",
    "compare_runs": "simulacra.feedback._judge",
    "judge_run": "simulacra.feedback._judge",
    "read_comparison": "simulacra.feedback._judge",
    "summarize_judgements": "simulacra.feedback._judge",
    "model_identity": "simulacra.feedback._kinds",
    "FixedRaterOptions": "simulacra.feedback._kinds",
    "LLMRaterOptions": "simulacra.feedback._kinds",
    "LearnedRaterOptions": "simulacra.feedback._kinds",
    "PoolMember": "simulacra.feedback._kinds",
    "RaterContext": "simulacra.feedback._kinds",
    "RaterOptions": "simulacra.feedback._kinds",
    "rater_kinds": "simulacra.feedback._kinds",
    "Critic": "simulacra.feedback._kinds",
    "CritiqueConfig": "simulacra.feedback._config",
    "JudgeOptions": "simulacra.feedback._kinds",
    "LLMCritiqueOptions": "simulacra.feedback._kinds",
    "LLMRubricOptions": "simulacra.feedback._kinds",
    "Rubric": "simulacra.feedback._kinds",
    "RubricConfig": "simulacra.feedback._config",
    "RubricParts": "simulacra.feedback._kinds",
    "Satisfaction": "simulacra.feedback._kinds",
    "critique_kinds": "simulacra.feedback._kinds",
    "rubric_kinds": "simulacra.feedback._kinds",
    "read_feedback": "simulacra.feedback._store",
    # diagnostics of pairwise judgements (what feedback_summary.json holds)
    "agreement_report": "simulacra.feedback._diagnostics",
    "position_report": "simulacra.feedback._diagnostics",
    "verbosity_report": "simulacra.feedback._diagnostics",
    "win_rates": "simulacra.feedback._diagnostics",
}

__all__ = [
    "DEFAULT_DIMENSIONS",
    "SIGNALS",
    "CheckJudgeConfig",
    "ChecklistJudge",
    "ComparisonResult",
    "Critic",
    "Critique",
    "CritiqueConfig",
    "CritiqueRater",
    "Dimension",
    "FixedRater",
    "FixedRaterOptions",
    "HashingEmbedder",
    "ImplicitRules",
    "JudgeOptions",
    "JudgeResult",
    "Judged",
    "LLMCritiqueOptions",
    "LLMPairRater",
    "LLMRaterOptions",
    "LLMRubricOptions",
    "LabelledPair",
    "LearnedRater",
    "LearnedRaterOptions",
    "MiniLMEmbedder",
    "OrderVerdict",
    "PairItem",
    "PairJudgement",
    "PairRater",
    "PoolMember",
    "RaterConfig",
    "RaterContext",
    "RaterOptions",
    "RaterPool",
    "RatersConfig",
    "ResponseItem",
    "Rubric",
    "RubricConfig",
    "RubricParts",
    "RubricRater",
    "RubricScore",
    "Satisfaction",
    "SatisfactionRater",
    "Template",
    "TurnSignals",
    "abstention",
    "acompare_runs",
    "aggregate_signals",
    "agreement_report",
    "ajudge_run",
    "assertion_verdicts",
    "check_result",
    "checklist_report",
    "classify_turns",
    "compare_runs",
    "critique_kinds",
    "fit_learned_rater",
    "judge_run",
    "label_turns",
    "load_raters_config",
    "make_embedder",
    "model_identity",
    "parse_checklist",
    "parse_raters_config",
    "parse_verdict",
    "parse_verdict_logprobs",
    "parse_verdict_text",
    "position_report",
    "rater_kinds",
    "read_comparison",
    "read_feedback",
    "rubric_kinds",
    "split_pairs",
    "summarize_judgements",
    "synthetic_labelled_pairs",
    "synthetic_pairs",
    "templates",
    "verbosity_report",
    "win_rates",
]

if TYPE_CHECKING:
    from simulacra.feedback._checklist import (
        CheckJudgeConfig,
        ChecklistJudge,
        Judged,
        abstention,
        assertion_verdicts,
        check_result,
        parse_checklist,
    )
    from simulacra.feedback._config import (
        CritiqueConfig,
        RaterConfig,
        RatersConfig,
        RubricConfig,
        load_raters_config,
        parse_raters_config,
    )
    from simulacra.feedback._diagnostics import (
        agreement_report,
        checklist_report,
        position_report,
        verbosity_report,
        win_rates,
    )
    from simulacra.feedback._embed import HashingEmbedder, MiniLMEmbedder, make_embedder
    from simulacra.feedback._implicit import (
        SIGNALS,
        ImplicitRules,
        TurnSignals,
        aggregate_signals,
        classify_turns,
        label_turns,
    )
    from simulacra.feedback._items import PairItem, ResponseItem
    from simulacra.feedback._judge import (
        ComparisonResult,
        JudgeResult,
        acompare_runs,
        ajudge_run,
        compare_runs,
        judge_run,
        read_comparison,
        summarize_judgements,
    )
    from simulacra.feedback._kinds import (
        Critic,
        FixedRaterOptions,
        JudgeOptions,
        LearnedRaterOptions,
        LLMCritiqueOptions,
        LLMRaterOptions,
        LLMRubricOptions,
        PoolMember,
        RaterContext,
        RaterOptions,
        Rubric,
        RubricParts,
        Satisfaction,
        critique_kinds,
        model_identity,
        rater_kinds,
        rubric_kinds,
    )
    from simulacra.feedback._learned import (
        LabelledPair,
        LearnedRater,
        fit_learned_rater,
        split_pairs,
        synthetic_labelled_pairs,
    )
    from simulacra.feedback._pairwise import (
        FixedRater,
        LLMPairRater,
        OrderVerdict,
        PairJudgement,
        PairRater,
        RaterPool,
    )
    from simulacra.feedback._parse import (
        parse_verdict,
        parse_verdict_logprobs,
        parse_verdict_text,
    )
    from simulacra.feedback._rubric import (
        DEFAULT_DIMENSIONS,
        Critique,
        CritiqueRater,
        Dimension,
        RubricRater,
        RubricScore,
        SatisfactionRater,
    )
    from simulacra.feedback._store import read_feedback
    from simulacra.feedback._synthetic import synthetic_pairs
    from simulacra.feedback._templates import Template, templates

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
del lazy_exports  # the package's helper, not part of what it offers
