"""Callables for the Ray tests, imported by path in the worker processes (as a user's
own targets are): they note which process played them, so a test can kill one."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from targets_for_tests import calculator

MARKS = "SIMULACRA_RAY_TEST_MARKS"
"""The folder where each playing process leaves a file named by its pid."""


def mark() -> None:
    """Leave this process's pid in ``$MARKS``."""
    folder = os.environ.get(MARKS)
    if folder:
        Path(folder, str(os.getpid())).touch()


def marked_calculator(messages: list[dict[str, Any]]) -> str:
    """``calculator``, slowed a little, marking the process that plays it."""
    mark()
    time.sleep(0.05)
    return calculator(messages)


def judge_everything(messages: list[Any], params: Any) -> str:
    """A judge model that answers the pairwise and rubric prompts in their forms (and
    marks the process that answers)."""
    mark()
    prompt = messages[-1].content
    if "Verdict:" in prompt:
        return "A reads better.\nVerdict: A" if len(prompt) % 2 else "B is clearer.\nVerdict: B"
    if "Rate the assistant on each dimension" in prompt:
        return "helpfulness: 4\ncorrectness: 5\nclarity: 3\npersonalisation: 2\nefficiency: 4"
    if "Satisfaction:" in prompt:
        return "Got what I needed.\nSatisfaction: 4"
    return "?"
