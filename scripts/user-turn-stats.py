"""Real users' turns against the default user's settings: the fit of turn lengths and
how often each guard flags a real turn, per corpus of the common JSONL.

    python scripts/user-turn-stats.py ../shared/data/multiwoz21-dev-sample/conversations.jsonl \
        ../shared/data/taskmaster4-coffee-sample/conversations.jsonl

Prints, per corpus and pooled: user turns, median words, the standard deviation of log
words (the log-normal's sigma), the share of turns of five words or fewer, the share
starting lower-case, and each guard's rate (``simulacra.sim.users._guards.guard_rates``);
then the role-drift guard's recall on the labelled turns of
tests/fixtures/user_turn_labels.jsonl. ``simulacra.sim.users._style`` holds the fitted
median and sigma.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path

from simulacra.sim.users._guards import guard_rates, role_drift
from simulacra.sim.users._llm_user import _SHOT_MARKERS

LABELS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "user_turn_labels.jsonl"


def _read(path: Path) -> list[list[tuple[str, str]]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [[(t["role"], t["text"]) for t in row["turns"]] for row in rows]


def _row(name: str, conversations: list[list[tuple[str, str]]]) -> str:
    turns = [text for c in conversations for role, text in c if role == "user"]
    words = [len(text.split()) for text in turns if text.split()]
    logs = [math.log(n) for n in words]
    lower = sum(t.strip()[:1].islower() for t in turns) / len(turns)
    rates = guard_rates(conversations, examples=_SHOT_MARKERS)
    guards = "  ".join(f"{k} {v:.2%}" for k, v in rates.items())
    return (
        f"{name}: {len(turns)} user turns, median {statistics.median(words):g} words, "
        f"log-sd {statistics.pstdev(logs):.3f}, <=5 words {sum(n <= 5 for n in words) / len(words):.1%}, "
        f"lower-case start {lower:.1%}\n    guards: {guards}"
    )


def main() -> None:
    pooled: list[list[tuple[str, str]]] = []
    for arg in sys.argv[1:]:
        conversations = _read(Path(arg))
        pooled += conversations
        print(_row(Path(arg).parent.name, conversations))
    if len(sys.argv) > 2:
        print(_row("pooled", pooled))
    labelled = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]
    for label in ("assistant", "refusal", "solution", "user"):
        rows = [r for r in labelled if r["label"] == label]
        hits = sum(role_drift(r["text"], "") is not None for r in rows)
        print(f"labelled {label}: role_drift flags {hits}/{len(rows)}")


if __name__ == "__main__":
    main()
