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
      "intervals": {"confidence", "n_resamples", "values", "similarity", "dimensions",
                    "index"},      # bootstrap over the run's conversations (or null)
      "ceiling_splits": [index of each halving], "human_intervals": {feature: [lo, hi]},
      "ceiling_at_size": {"size", "index", "dimensions", "features", "splits"},
                     # real samples of the run's size against the rest of the corpus
      "openers": {"top": [[opener, share], ...], "canned": {phrase: share}},
      "compare": {"run", "index", "dimensions", "distributions", ...}   # with --compare
    }

Similarities and scores are ``null`` where a feature has nothing to measure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulacra.rundir import FIDELITY, Fidelity
from simulacra.trust._corpus import read_conversations, run_corpus
from simulacra.trust._io import json_text, write_files_atomic

CLASSIFIER = (
    "logistic regression on hashed character 3-5-grams and word 1-2-grams, trained on the "
    "human corpus's assistant turns against its user turns (human turns scored out of fold)"
)


def opener_shares(
    turns: Sequence[str], *, words: int = 2, top: int = 5, canned: Sequence[str] = ()
) -> dict[str, Any]:
    """How often the commonest openers (first ``words`` words, lower-cased) start a turn,
    and how often each ``canned`` phrase does."""
    from simulacra.trust._realism import tokens

    if not turns:
        return {"top": [], "canned": {}}
    counts = Counter(" ".join(tokens(turn)[:words]) for turn in turns if tokens(turn))
    lowered = [" ".join(tokens(turn)) + " " for turn in turns]
    shares = {  # whole words: "Look," does not open "Looks good"
        phrase: sum(t.startswith(" ".join(tokens(phrase)) + " ") for t in lowered) / len(turns)
        for phrase in canned
    }
    return {
        "top": [[opener, n / len(turns)] for opener, n in counts.most_common(top)],
        "canned": shares,
    }


def user_fidelity(
    run_dir: str | Path,
    human_corpus: str | Path,
    *,
    compare: str | Path | None = None,
    splits: int = 5,
    seed: int = 0,
    bootstrap: int = 200,
    human_bootstrap: int = 0,
    canned: Sequence[str] | None = None,
) -> Fidelity:
    """The fidelity report of ``run_dir``'s simulated users (see the module docstring).

    ``bootstrap`` resamples of the run's conversations give the intervals (0: none);
    ``human_bootstrap`` resamples of the corpus give the human features' intervals;
    ``canned`` phrases (default: the default user's stock openers) are counted as
    openers of the run's user turns.
    """
    from simulacra.sim.users import CANNED_OPENERS
    from simulacra.trust._realism import compare_realism, user_turns

    canned = CANNED_OPENERS if canned is None else canned
    human = read_conversations(human_corpus)
    run = run_corpus(run_dir)
    simulated = {"run": run.conversations}
    other = run_corpus(compare) if compare is not None else None
    if other is not None:
        simulated["compare"] = other.conversations
    comparison = compare_realism(
        human.conversations,
        simulated,
        splits=splits,
        seed=seed,
        bootstrap=bootstrap,
        human_bootstrap=human_bootstrap,
    ).to_dict()
    run_turns = [t for c in run.conversations for t in user_turns(c)]
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
        "intervals": main["intervals"],
        "ceiling_splits": comparison["ceiling_splits"],
        "ceiling_at_size": main["ceiling_at_size"],
        "human_intervals": comparison["human_intervals"],
        "openers": opener_shares(run_turns, canned=canned),
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
            "ceiling_at_size": second["ceiling_at_size"],
        }
    return Fidelity.from_dict(report)


def write_fidelity(run_dir: str | Path, report: Fidelity, path: str | Path | None = None) -> Path:
    """Write ``report`` to ``path`` (default ``run_dir/fidelity.json``, where the report
    finds it) atomically; return the path."""
    path = Path(path) if path is not None else Path(run_dir) / FIDELITY
    write_files_atomic({path: json_text(report.to_dict())})
    return path


__all__ = ["CLASSIFIER", "opener_shares", "user_fidelity", "write_fidelity"]
