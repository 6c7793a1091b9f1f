"""Prompt optimisation from simulated users: the target's system prompt revised by an
optimiser model from the conversations it failed, each revision kept only when it is
better on held-out tasks with a confidence interval to show for it.

::

    from simulacra.optimize import OptimizeSettings, optimize
    result = optimize("config.yaml", OptimizeSettings(optimizer="local", rounds=3))
    print(result.best_prompt, result.stopped)

``simulacra optimize CONFIG`` does the same from the command line. Every candidate, its
scores and the evaluation runs are kept in one directory, and running again resumes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulacra._lazy import lazy_exports

_EXPORTS = {
    "STATE": "simulacra.optimize._loop",
    "OptimizeResult": "simulacra.optimize._loop",
    "OptimizeSettings": "simulacra.optimize._loop",
    "Split": "simulacra.optimize._loop",
    "aoptimize": "simulacra.optimize._loop",
    "optimize": "simulacra.optimize._loop",
    "paired_gain": "simulacra.optimize._loop",
    "parse_prompt": "simulacra.optimize._loop",
    "split_tasks": "simulacra.optimize._loop",
}

__all__ = [
    "STATE",
    "OptimizeResult",
    "OptimizeSettings",
    "Split",
    "aoptimize",
    "optimize",
    "paired_gain",
    "parse_prompt",
    "split_tasks",
]

if TYPE_CHECKING:
    from simulacra.optimize._loop import (
        STATE,
        OptimizeResult,
        OptimizeSettings,
        Split,
        aoptimize,
        optimize,
        paired_gain,
        parse_prompt,
        split_tasks,
    )

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
del lazy_exports  # the package's helper, not part of what it offers
