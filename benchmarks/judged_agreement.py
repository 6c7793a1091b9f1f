"""How far the judge of judged tasks can be trusted, on the embedded model.

Plays a small sample of the writing and tutoring suites with the embedded model as
the assistant and as the judge (the default: the judge runs on the user's model), the
checklist judged in both orders. Then judges the same episodes again with a second
judge configuration (the ``checklist-brief`` template, temperature 0.7, one order,
another seed) and prints, from ``checklist_report``:

- verdict counts (pass, fail, abstain) of each configuration,
- agreement of the two configurations on episode verdicts and on single must-haves
  (percentage and Cohen's kappa),
- position bias: the share of must-haves called met when shown first and when shown
  last (the order is random per episode), and the agreement of the two orders,
- length: the pass rate of the longer half of the answers against the shorter half,
- seconds per episode (the conversation) and per judgement, with the load average.

    python benchmarks/judged_agreement.py [--writing 4] [--tutoring 4] [--mode full]
        [--answer-tokens 200] [--judge-tokens 200] [--max-retries 1]

The embedded model is slow (tens of seconds per call on a busy machine): the default
sample takes some ten minutes. The figures of a sample this small are wide; they say
what the judge does, not how well it would agree with people.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from simulacra.feedback import CheckJudgeConfig, ChecklistJudge, checklist_report  # noqa: E402
from simulacra.llm import Message, ModelConfig, ModelPool  # noqa: E402
from simulacra.llm._weights import default_weights  # noqa: E402
from simulacra.rundir import RunDir  # noqa: E402
from simulacra.runs import arun, parse_config  # noqa: E402
from simulacra.tasks import Task, suite_tasks  # noqa: E402


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def sample(name: str, count: int) -> list[str]:
    tasks = suite_tasks(name)
    step = max(1, len(tasks) // max(1, count))
    return [t.id for t in tasks[::step][:count]]


async def main(args: argparse.Namespace) -> None:
    weights = default_weights()
    local = {"backend": "local", "path": str(weights), "n_ctx": 3072}
    ids = sample("writing", args.writing) + sample("tutoring", args.tutoring)
    out = Path(tempfile.mkdtemp(prefix="judged-"))
    config = parse_config(
        {
            "name": "judged-agreement",
            "seed": 7,
            "output_dir": str(out),
            "models": {"local": local},
            "user": {"model": "local", "max_tokens": 48},
            "target": {"model": "local", "max_tokens": args.answer_tokens},
            "judge": {
                "orders": 2,
                "max_tokens": args.judge_tokens,
                "max_retries": args.max_retries,
            },
            "personas": {"builtin": ["polite-professional"]},
            "tasks": {"suite": ["writing", "tutoring"], "ids": ids},
            "modes": [args.mode],
            "max_turns": args.max_turns,
            "concurrency": 1,
            "cache": False,
        }
    )
    if args.run_dir:  # figures from a run already played (or part of one)
        run_dir = Path(args.run_dir)
        errors = None
    else:
        print(f"{len(ids)} episodes ({args.mode}), load average {load()}", flush=True)
        result = await arun(config)
        run_dir, errors = result.run_dir, result.summary.errors
    episodes = list(RunDir(run_dir).episodes())
    ids = [e.task.id for e in episodes]
    conversation_s = sum(e.duration_s for e in episodes)
    judge_s = sum(e.judgement.duration_s for e in episodes if e.judgement)
    starts = sorted(e.started_at for e in episodes)
    gaps = [b - a for a, b in itertools.pairwise(starts)]  # one after another
    first = [e.judgement.model_dump(mode="json") if e.judgement else {} for e in episodes]
    print(f"{len(episodes)} episodes played, load average {load()}", flush=True)

    tasks: dict[str, Task] = {
        t.id: t for name in ("writing", "tutoring") for t in suite_tasks(name) if t.id in ids
    }
    second_config = CheckJudgeConfig(
        template="checklist-brief",
        temperature=0.7,
        orders=1,
        max_tokens=args.judge_tokens,
        max_retries=args.max_retries,
    )
    pool = ModelPool(use_cache=False)
    model = pool.build(ModelConfig.model_validate(local), seed=11)
    second_judge = ChecklistJudge.from_config(second_config, model, identity="local")
    second: list[dict[str, Any] | None] = []
    started = time.perf_counter()
    for episode in episodes:
        if args.no_second or episode.status != "ok" or episode.judgement is None:
            second.append(None)
            continue
        transcript = [Message(role=m.role, content=m.content) for m in episode.messages]
        answers = [m.content for m in episode.messages if m.role == "assistant" and m.content]
        print(f"second judge: episode {len(second) + 1}, load average {load()}", flush=True)
        judged = await second_judge.judge(
            tasks[episode.task.id], transcript, answer=answers[-1] if answers else "", seed=101
        )
        second.append(judged.record.model_dump(mode="json"))
    second_s = time.perf_counter() - started
    await pool.aclose()

    report = checklist_report(first, second)
    report_second = checklist_report([s for s in second if s is not None])
    judge_calls = sum(e.usage["judge"].calls for e in episodes if "judge" in e.usage)
    figures = {
        "episodes": len(episodes),
        "errors": errors,
        "seconds_per_episode_conversation": round(conversation_s / max(1, len(episodes)), 1),
        "seconds_per_episode_judged_both_orders": round(judge_s / max(1, len(episodes)), 1),
        "seconds_between_episode_starts": [round(g) for g in gaps],
        "seconds_per_second_judgement": round(second_s / max(1, len(episodes)), 1),
        "judge_calls_first": judge_calls,
        "first": {k: report[k] for k in ("passed", "failed", "abstained")},
        "second": {k: report_second[k] for k in ("passed", "failed", "abstained")},
        "agreement": report["agreement"],
        "position_first_judge": report["position"],
        "length_first_judge": report["length"],
        "position_second_judge": report_second["position"],
        "length_second_judge": report_second["length"],
        "load_average": load(),
        "run_dir": str(run_dir),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writing", type=int, default=4)
    parser.add_argument("--tutoring", type=int, default=4)
    parser.add_argument("--mode", default="full", choices=["full", "sharded"])
    parser.add_argument("--max-turns", type=int, default=3)
    parser.add_argument("--answer-tokens", type=int, default=200)
    parser.add_argument("--judge-tokens", type=int, default=200)
    parser.add_argument("--max-retries", type=int, default=1)
    parser.add_argument("--run-dir", help="report on this run directory instead of playing one")
    parser.add_argument("--no-second", action="store_true", help="skip the second judge")
    asyncio.run(main(parser.parse_args()))
