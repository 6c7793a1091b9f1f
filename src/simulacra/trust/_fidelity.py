"""The user-simulator fidelity report of a run directory: ``RUN_DIR/fidelity.json``.

Compares the simulated users of a run (and optionally of a second run) with a corpus of
real user conversations using :func:`simulacra.trust._realism.compare_realism`, and
writes the result atomically. The file's structure::

    {
      "index": 0-100, "ceiling": 0-100,
      "dimensions": {dim: {"score": 0-100,
                           "features": {feature: {"simulated", "human", "similarity"}}}},
      "ceiling_dimensions": {dim: 0-100},
      "distributions": {"words_per_turn": {"wasserstein", "ks_statistic", "ks_pvalue", ...},
                        "characters_per_turn": {...}, "turns_per_conversation": {...}},
      "human_corpus": path, "run": path,
      "n_conversations": {"simulated", "human", "simulated_skipped", "human_skipped"},
      "n_user_turns": {"simulated", "human"},
      "classifier": how assistant-likeness was measured,
      "compare": {"run", "index", "dimensions", "distributions", ...}   # with --compare
    }

Similarities and scores are ``null`` where a feature has nothing to measure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulacra.trust._corpus import read_conversations, run_corpus
from simulacra.trust._io import json_text, write_files_atomic

FIDELITY = "fidelity.json"
CLASSIFIER = (
    "logistic regression on hashed character 3-5-grams and word 1-2-grams, trained on the "
    "corpora's assistant turns against real user turns (human turns scored out of fold)"
)


def user_fidelity(
    run_dir: str | Path,
    human_corpus: str | Path,
    *,
    compare: str | Path | None = None,
    splits: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """The fidelity report of ``run_dir``'s simulated users (see the module docstring)."""
    from simulacra.trust._realism import compare_realism

    human = read_conversations(human_corpus)
    run = run_corpus(run_dir)
    simulated = {"run": run.conversations}
    other = run_corpus(compare) if compare is not None else None
    if other is not None:
        simulated["compare"] = other.conversations
    comparison = compare_realism(human.conversations, simulated, splits=splits, seed=seed).to_dict()
    main = comparison["simulators"]["run"]
    report: dict[str, Any] = {
        "index": main["index"],
        "ceiling": comparison["ceiling"],
        "dimensions": main["dimensions"],
        "ceiling_dimensions": comparison["ceiling_dimensions"],
        "distributions": main["distributions"],
        "human_corpus": str(human_corpus),
        "run": str(run_dir),
        "n_conversations": {
            "simulated": main["n_conversations"],
            "human": comparison["n_human_conversations"],
            "simulated_skipped": run.skipped,
            "human_skipped": human.skipped,
        },
        "n_user_turns": {"simulated": main["n_user_turns"], "human": comparison["n_human_turns"]},
        "classifier": CLASSIFIER,
        "splits": splits,
        "seed": seed,
    }
    if other is not None:
        second = comparison["simulators"]["compare"]
        report["compare"] = {
            "run": str(compare),
            "index": second["index"],
            "dimensions": second["dimensions"],
            "distributions": second["distributions"],
            "n_conversations": second["n_conversations"],
            "n_user_turns": second["n_user_turns"],
        }
    return report


def write_fidelity(
    run_dir: str | Path, report: dict[str, Any], path: str | Path | None = None
) -> Path:
    """Write ``report`` to ``path`` (default ``run_dir/fidelity.json``, where the report
    finds it) atomically; return the path."""
    path = Path(path) if path is not None else Path(run_dir) / FIDELITY
    write_files_atomic({path: json_text(report)})
    return path


__all__ = ["CLASSIFIER", "FIDELITY", "user_fidelity", "write_fidelity"]
