"""The package's front door: what `import simulacra` offers, and that it stays light."""

from __future__ import annotations

import subprocess
import sys

import simulacra

PUBLIC = {
    "ConfigError", "Episode", "Fact", "ModelConfig", "ModelError", "Persona", "Population",
    "RunConfig", "RunResult", "SimulacraError", "Task", "__version__", "arun", "load_config", "run",
}  # fmt: skip


def test_all_is_the_public_surface_and_every_name_resolves() -> None:
    assert set(simulacra.__all__) == PUBLIC
    for name in simulacra.__all__:
        assert getattr(simulacra, name) is not None


def test_import_is_light() -> None:
    code = (
        "import sys, simulacra; heavy = [m for m in ('numpy', 'llama_cpp', 'aiohttp', 'scipy', 'jinja2') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
