"""How fast a run directory becomes training data.

Writes a synthetic run of 10,000 episodes (the report's sample episodes, as run
directory records through the run directory's writers) and pairwise judgements of each
persona × task's consecutive repeats, then exports it in every format and prints, per
format: rows, seconds to build the rows, seconds to write JSONL + Parquet + card, and
episodes per second over both.

    python benchmarks/export_speed.py [--episodes 10000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from simulacra._records import KeyedLog  # noqa: E402
from simulacra.export import ExportConfig, build_dataset, write_dataset  # noqa: E402
from simulacra.report._sample_runs import synthetic_run  # noqa: E402
from simulacra.rundir import FEEDBACK, FeedbackRecord, RunDir  # noqa: E402


def judge_repeats(run_dir: Path, *, seed: int = 0) -> int:
    """Pairwise judgements of consecutive repeats of each persona × task (two raters,
    verdicts drawn at random), written as ``feedback.jsonl`` records."""
    rng = random.Random(seed)
    groups = defaultdict(list)
    for episode in RunDir.open(run_dir).episodes():
        if episode.status == "ok":
            groups[(episode.persona.name, episode.task.id)].append(episode)
    log = KeyedLog(run_dir / FEEDBACK, key="key")
    log.open()
    written = 0
    try:
        for group in groups.values():
            group.sort(key=lambda e: e.repeat)
            for a, b in itertools.pairwise(group):
                item = f"repeats:{a.id}:{b.id}"
                for rater in ("r1", "r2"):
                    verdict = rng.choice(["A", "B", "B", "tie"])
                    first = rng.choice("AB")
                    record = FeedbackRecord.model_validate(
                        {
                            "key": f"pairwise|{item}|{rater}",
                            "kind": "pairwise",
                            "item_id": item,
                            "rater": rater,
                            "confidence": round(rng.uniform(0.5, 1), 2),
                            "verdict": verdict,
                            "first_shown": first,
                            "episode_a": a.id,
                            "episode_b": b.id,
                            "pairing": "repeats",
                            "both_orders": False,
                            "orders": [{"first_shown": first, "verdict": verdict}],
                        }
                    )
                    log.append(record.model_dump(mode="json"))
                    written += 1
    finally:
        log.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, default=None, help="keep the files here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = args.keep or Path(scratch)
        run_dir = synthetic_run(base / "run", episodes=args.episodes, seed=1, name="bench")
        judgements = judge_repeats(run_dir)
        print(f"run: {args.episodes:,} episodes, {judgements:,} pairwise judgements")
        print(f"{'format':<7}{'rows':>8}{'build s':>10}{'write s':>10}{'episodes/s':>13}")
        for format in ("sft", "kto", "dpo", "pairs"):
            config = ExportConfig(format=format, span="rest")
            started = time.perf_counter()
            dataset = build_dataset(run_dir, config)
            built = time.perf_counter()
            write_dataset(dataset, base / format, overwrite=True)
            done = time.perf_counter()
            rate = args.episodes / (done - started)
            print(
                f"{format:<7}{len(dataset.rows):>8,}{built - started:>10.2f}"
                f"{done - built:>10.2f}{rate:>13,.0f}"
            )


if __name__ == "__main__":
    main()
