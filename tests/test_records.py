"""The shared readers of user files: every bad file is a ConfigError naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulacra._records import read_jsonl_values, read_records, read_text
from simulacra.errors import ConfigError
from simulacra.feedback._judge import load_human_labels
from simulacra.llm import ScriptedModel


def test_read_text_names_each_kind_of_bad_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing.txt: no such label file"):
        read_text(tmp_path / "missing.txt", what="label file")
    with pytest.raises(ConfigError, match=r"is a directory, expected a file"):
        read_text(tmp_path)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"item_id": "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin.jsonl: file is not UTF-8 text"):
        read_text(latin)
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n[2]\n')
    assert list(read_jsonl_values(bom)) == [(1, {"a": 1}), (3, [2])]


def test_every_jsonl_reader_turns_bad_bytes_into_a_config_error(tmp_path: Path) -> None:
    latin = tmp_path / "labels.jsonl"
    latin.write_bytes('{"item_id": "caf\xe9", "verdict": "A"}\n'.encode("latin-1"))
    for read in (load_human_labels, ScriptedModel.from_file):
        with pytest.raises(ConfigError, match="not UTF-8 text"):
            read(latin)
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        read_records(latin, what="persona file")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"item_id": "x", "verdict": "A"}\n{oops\n')
    with pytest.raises(ConfigError, match=r"broken.jsonl: line 2: invalid JSON"):
        load_human_labels(broken)


def test_fixed_decimals_keep_large_percentages_readable() -> None:
    from simulacra._format import format_estimate, format_number

    assert format_number(-1250.0, decimals=1) == "-1250.0"
    assert format_number(-1250.0) == "-1.25e+03"  # significant digits: fine for rates only
    drop = {"value": 39.0, "low": 12.5, "high": 61.25}
    assert format_estimate(drop, decimals=1) == "39.0 [12.5, 61.2]"


def test_atomic_writes_leave_no_temporary_file(tmp_path: Path) -> None:
    from simulacra._records import write_json_atomic

    target = tmp_path / "summary.json"
    write_json_atomic(target, {"a": 1})
    assert target.read_text() == '{\n  "a": 1\n}\n'
    with pytest.raises(TypeError):
        write_json_atomic(target, {"a": 1, 2j: 3})  # a key JSON cannot hold
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
    (tmp_path / "sub").mkdir()
    with pytest.raises(IsADirectoryError):
        write_json_atomic(tmp_path / "sub", {"b": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub", "summary.json"]
    assert target.read_text() == '{\n  "a": 1\n}\n'
