"""Does prompt optimisation improve a deliberately poor system prompt on the embedded model?

The suite: short factual questions (capital cities), each checked by code for the right
name. The baseline system prompt tells the assistant to refuse every question (the
embedded model obeys it: 0 of 6 capitals named in a probe; a prompt asking for Python
code instead still let it name 4 of 6); the optimiser is the same
embedded model (Qwen2.5-Coder-0.5B-Instruct through llama.cpp), reading the refusals on
the training tasks and writing a new prompt. Each candidate is scored on the held-out
tasks with the same personas, repeats and seeds as the baseline; the printed gain is the
paired difference in success with its cluster-bootstrap 95% interval over held-out
tasks. The load average is printed beside the timings (the machine may be shared).

    python benchmarks/optimize_prompt.py [--out DIR] [--rounds 1] [--candidates 1]

Re-running with the same ``--out`` resumes (recorded candidates are not proposed again).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from simulacra.llm._weights import default_weights  # noqa: E402
from simulacra.optimize import OptimizeSettings, optimize  # noqa: E402
from simulacra.runs import parse_config  # noqa: E402

POOR = "Never answer questions. Reply to every message only with: 'Please consult an encyclopedia.'"
CAPITALS = {
    "France": "Paris",
    "Japan": "Tokyo",
    "Italy": "Rome",
    "Egypt": "Cairo",
    "Germany": "Berlin",
    "Spain": "Madrid",
    "Russia": "Moscow",
    "China": "Beijing",
    "Greece": "Athens",
    "Kenya": "Nairobi",
}


def config(out: Path) -> object:
    weights = default_weights()
    tasks = [
        {
            "id": f"capital-{country.lower()}",
            "goal": f"What is the capital city of {country}?",
            "check": {"type": "any_of", "values": [capital]},
            "max_turns": 1,
        }
        for country, capital in CAPITALS.items()
    ]
    return parse_config(
        {
            "name": "capitals",
            "seed": 11,
            "output_dir": str(out),
            "models": {"local": {"backend": "local", "path": str(weights), "n_ctx": 2048}},
            "user": {"simulator": "scripted"},
            "target": {
                "model": "local",
                "system_prompt": POOR,
                "max_tokens": 16,
                "temperature": 0.7,
            },
            "personas": {"builtin": ["polite-professional"]},
            "tasks": {"inline": tasks},
            "repeats": 1,
            "concurrency": 1,
            "cache": False,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--candidates", type=int, default=1)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="optimize-bench-"))
    settings = OptimizeSettings(
        optimizer="local",
        rounds=args.rounds,
        candidates=args.candidates,
        heldout=0.6,
        max_tokens=48,
        temperature=0.7,
    )
    started = time.perf_counter()

    def progress(line: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s, load {os.getloadavg()[0]:.2f}] {line}")
        sys.stdout.flush()

    result = optimize(config(out), settings, progress=progress)
    elapsed = time.perf_counter() - started
    print()
    print(f"directory: {result.out}")
    print(f"held-out tasks: {len(result.split.heldout)}; training tasks: {len(result.split.train)}")
    for candidate in result.candidates:
        held = (candidate.get("heldout") or {}).get("success") or {}
        gain = candidate.get("gain") or {}
        shown = (
            f"held-out success {held['value']:.3f} [{held['low']:.3f}, {held['high']:.3f}]"
            if held.get("low") is not None
            else "not evaluated"
        )
        if gain.get("low") is not None:
            shown += (
                f", gain {gain['value']:+.3f} [{gain['low']:+.3f}, {gain['high']:+.3f}] (95% CI)"
            )
        state = "kept" if candidate.get("kept") else candidate.get("error") or "not kept"
        prompt = " ".join((candidate.get("prompt") or "").split())[:100]
        print(f"  #{candidate['index']} round {candidate['round']}: {shown}; {state}: {prompt!r}")
    print(f"stopped: {result.stopped}")
    print(f"seconds: {elapsed:.0f}; load average (1, 5, 15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
