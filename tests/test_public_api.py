"""The package's front door: what `import simulacra` offers, and that it stays light."""

from __future__ import annotations

import subprocess
import sys

import simulacra


def test_the_front_door_offers_what_a_first_run_needs() -> None:
    # the surface as a whole is computed in test_public_surface.py; these are promised
    for name in ("RunConfig", "run", "arun", "load_config", "Episode", "ConfigError"):
        assert name in simulacra.__all__


def test_import_is_light() -> None:
    code = (
        "import sys, simulacra; heavy = [m for m in ('numpy', 'llama_cpp', 'aiohttp', 'scipy', 'jinja2') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
