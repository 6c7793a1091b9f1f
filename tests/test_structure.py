"""The public surface, computed rather than copied: each package's ``__all__`` is exactly
what it offers, and no package imports another package's private modules."""

from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "simulacra"
PACKAGES = sorted(
    "simulacra" + ("." + ".".join(p.parent.relative_to(SRC).parts) if p.parent != SRC else "")
    for p in SRC.rglob("__init__.py")
)


def offered(package: types.ModuleType) -> set[str]:
    """The public names a package offers: what ``dir()`` shows, less its submodules and
    what only its own code uses (``TYPE_CHECKING``, ``annotations``)."""
    names = set()
    for name in dir(package):
        if name.startswith("_") or name in ("TYPE_CHECKING", "annotations"):
            continue
        value = getattr(package, name)
        if isinstance(value, types.ModuleType) and value.__name__.startswith(package.__name__):
            continue  # a submodule, bound by importing it
        names.add(name)
    return names


def test_every_package_is_found() -> None:
    assert {"simulacra", "simulacra.rundir", "simulacra.stats", "simulacra.tasks.envs"} <= set(
        PACKAGES
    )


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_what_the_package_offers(name: str) -> None:
    package = importlib.import_module(name)
    assert hasattr(package, "__all__"), f"{name} has no __all__"
    exported = {n for n in package.__all__ if not n.startswith("__")}  # __version__ & co
    assert len(set(package.__all__)) == len(package.__all__), f"{name}.__all__ repeats a name"
    for item in package.__all__:
        assert getattr(package, item) is not None, f"{name}.{item} does not resolve"
    assert offered(package) == exported, (
        f"{name}: offered but not in __all__: {sorted(offered(package) - exported)}; "
        f"in __all__ but not offered: {sorted(exported - offered(package))}"
    )


def _owner(module: str) -> str:
    """The package a private module belongs to: ``simulacra.stats._metrics`` →
    ``simulacra.stats``; top-level helpers (``simulacra._records``) belong to all."""
    parts = module.split(".")
    for index, part in enumerate(parts):
        if part.startswith("_") and index > 1:
            return ".".join(parts[:index])
    return "simulacra"


def test_private_modules_are_imported_only_inside_their_package() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC.parent).with_suffix("")
        here = ".".join(relative.parts[:-1] if relative.name == "__init__" else relative.parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                if not target.startswith("simulacra.") or not any(
                    part.startswith("_") for part in target.split(".")[1:]
                ):
                    continue
                owner = _owner(target)
                if not (here == owner or here.startswith(owner + ".")):
                    offenders.append(f"{relative}: imports {target}")
    assert offenders == []


# The layers of docs/design.md, top first: a package imports only packages below it.
LAYERS = [
    {"cli", "demo", "testing", "__init__", "__main__"},
    {"report"},
    {"export", "env", "optimize"},
    {"trust"},
    {"runs"},
    {"sim"},
    {"feedback"},
    {"rundir"},
    {"stats"},
    {"tasks", "people"},
    {"llm"},
    {"_cli_common", "_format", "_lazy", "_records", "_secrets", "errors", "registry"},
]


def _layer(module: str) -> int:
    part = module.split(".")[1] if "." in module else "__init__"
    for index, names in enumerate(LAYERS):
        if part in names:
            return index
    raise AssertionError(f"{module} is in no layer of docs/design.md")


def test_imports_point_downward_only() -> None:
    upward = []
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC.parent).with_suffix("")
        here = ".".join(relative.parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + (
                    [f"{node.module}.{a.name}" for a in node.names]
                    if node.module == "simulacra"
                    else []
                )
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                if target == "simulacra" or not target.startswith("simulacra."):
                    continue
                if _layer(target) < _layer(here) and target.split(".")[1] != here.split(".")[1]:
                    upward.append(f"{relative} imports {target}")
    assert upward == []


def test_the_design_map_lists_every_package() -> None:
    design = (SRC.parent.parent / "docs" / "design.md").read_text(encoding="utf-8")
    for package in sorted({p.split(".")[1] for p in PACKAGES if "." in p}):
        assert f"\n{package} " in design, f"docs/design.md's map does not name {package}"
