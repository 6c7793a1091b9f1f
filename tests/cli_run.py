"""The ``simulacra`` command as a user runs it: a real subprocess, its exit code and output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"


def python_path(*extra: Path) -> str:
    """A ``PYTHONPATH`` for a subprocess: this tree's ``src`` (the code under test, whether
    or not it is installed), the test helpers, ``extra``, then what was already set."""
    given = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join([str(p) for p in (SRC, TESTS, *extra)] + ([given] if given else []))


def simulacra_cli(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    import_path: tuple[Path, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m simulacra ARGS`` in ``cwd``; the test helpers (``targets_for_tests``)
    and ``import_path`` are importable, as a user's own modules would be."""
    path = python_path(*import_path)
    environment = {**os.environ, "PYTHONPATH": path, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "simulacra", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
