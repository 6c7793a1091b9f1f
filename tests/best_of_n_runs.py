"""Run directories of a best-of-n target and of plain samples, played on scripted models,
with hostile text in the candidates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</script><b>bold</b><script>alert(2)</script>",
]
QUESTION = "How much flour for 10 people, if 4 need 300 g?"
CANDIDATES = [HOSTILE[0], HOSTILE[1] + " You need 750 g of flour: 300 g × 10 / 4.", HOSTILE[2]]
"""The scripted model's replies in turn: the second is the longest, so the chooser
(``fixed: longer``) takes it."""


def _config(root: Path, name: str, target: dict[str, Any]) -> Any:
    from simulacra.runs import parse_config

    return parse_config(
        {
            "name": name,
            "seed": 1,
            "output_dir": str(root),
            "models": {
                "bot": {"backend": "scripted", "replies": CANDIDATES, "cache": False, "cycle": True}
            },
            "user": {"simulator": "scripted", "options": {"turns": [QUESTION]}},
            "target": target,
            "personas": {"builtin": ["busy-nurse", "teen-gamer", "polite-professional"]},
            "tasks": {"suite": "everyday", "ids": ["pancakes-scale"]},
            "modes": ["sharded"],
            "repeats": 2,
        }
    )


def _in_a_thread(function: Any, *args: Any, **kwargs: Any) -> Any:
    # a browser test's driver holds this thread's event loop: runs play on another
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def best_of_n(root: Path, name: str = "best") -> Path:
    from simulacra.runs import run

    target = {"type": "best_of_n", "model": "bot", "n": 3, "chooser": {"fixed": "longer"}}
    return Path(_in_a_thread(run, _config(root, name, target)).run_dir)


def plain(root: Path, name: str = "single") -> Path:
    from simulacra.runs import run

    return Path(_in_a_thread(run, _config(root, name, {"model": "bot"})).run_dir)


def compare(best: Path, single: Path) -> None:
    from simulacra.feedback import compare_runs, parse_raters_config

    raters = parse_raters_config({"pool": [{"id": "longer", "fixed": "longer"}]})
    _in_a_thread(compare_runs, best, single, raters, use_cache=False)
