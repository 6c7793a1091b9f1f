"""The ``simulacra`` command as a user runs it: a real subprocess, its exit code and output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import simulacra

TESTS = Path(__file__).resolve().parent
CODE = Path(simulacra.__file__).resolve().parents[1]
"""Where the tests' own simulacra is: the subprocess imports the same code."""


def simulacra_cli(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    import_path: tuple[Path, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m simulacra ARGS`` in ``cwd``; the test helpers (``targets_for_tests``)
    and ``import_path`` are importable, as a user's own modules would be."""
    path = os.pathsep.join(str(p) for p in (TESTS, *import_path, CODE))
    environment = {**os.environ, "PYTHONPATH": path, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "simulacra", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
