"""Pin the public surface of ``simulacra.feedback`` and keep importing it light."""

from __future__ import annotations

import subprocess
import sys

import simulacra.feedback as feedback


def test_public_callables_are_documented() -> None:
    for name in feedback.__all__:
        obj = getattr(feedback, name)
        if callable(obj) and not isinstance(obj, dict):
            assert obj.__doc__ and len(obj.__doc__.strip()) > 20, name


def test_importing_the_package_and_its_commands_loads_no_numpy() -> None:
    code = (
        "import sys, simulacra.feedback, simulacra.feedback._cli; "
        "heavy = [m for m in ('numpy', 'scipy', 'llama_cpp', 'simulacra.runs') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == ""
