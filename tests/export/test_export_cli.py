"""``simulacra export`` as a user runs it: a real subprocess, its exit code and files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from export_helpers import (
    MakeRun,
    episode,
    make_run_fixture,  # noqa: F401  (the make_run fixture)
    tool_turns,
)

from cli_run import simulacra_cli

SRC = Path(__file__).resolve().parents[2] / "src"
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "run_v0"


def test_export_writes_the_files_and_says_so(tmp_path: Path) -> None:
    run = shutil.copytree(FIXTURE, tmp_path / "run")
    done = simulacra_cli(
        "export", str(run), "--format", "kto", "-o", str(tmp_path / "kto"), cwd=tmp_path,
        import_path=(SRC,),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "wrote 48 kto rows" in done.stdout
    assert sorted(p.name for p in (tmp_path / "kto").iterdir()) == [
        "README.md",
        "kto.jsonl",
        "kto.parquet",
    ]
    rows = [json.loads(line) for line in (tmp_path / "kto" / "kto.jsonl").read_text().splitlines()]
    assert len(rows) == 48 and {r["label"] for r in rows} == {True, False}


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, make_run: MakeRun) -> None:
    out = tmp_path / "out"
    missing = simulacra_cli(
        "export", str(tmp_path / "nope"), "-o", str(out), cwd=tmp_path, import_path=(SRC,)
    )
    assert missing.returncode == 2 and "no such directory" in missing.stderr
    run = make_run([episode("e1", tool_turns(), success=False)])
    for args, message in (
        (["--format", "xml"], "format: unknown export format 'xml' (known: dpo, kto, pairs, sft)"),
        (["--format", "dpo", "--successful-only"], "successful_only is not for dpo"),
        (["--successful-only"], "nothing to export as sft"),
        (["--format", "dpo"], "needs pairwise judgements"),
        (["--files", "csv"], "files.0"),
    ):
        done = simulacra_cli(
            "export", str(run), "-o", str(out), *args, cwd=tmp_path, import_path=(SRC,)
        )
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_earlier_export_is_replaced_only_when_asked(tmp_path: Path, make_run: MakeRun) -> None:
    run = make_run([episode("e1", tool_turns())])
    out = tmp_path / "data"
    first = simulacra_cli(
        "export", str(run), "-o", str(out), "--files", "jsonl", cwd=tmp_path, import_path=(SRC,)
    )
    assert first.returncode == 0, first.stderr
    again = simulacra_cli("export", str(run), "-o", str(out), cwd=tmp_path, import_path=(SRC,))
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "sft.jsonl"]
    replaced = simulacra_cli(
        "export", str(run), "-o", str(out), "--overwrite", "--no-system-prompt", cwd=tmp_path,
        import_path=(SRC,),
    )  # fmt: skip
    assert replaced.returncode == 0, replaced.stderr
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "sft.jsonl", "sft.parquet"]
    row = json.loads((out / "sft.jsonl").read_text())
    assert row["messages"][0]["role"] == "user"
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("mine")
    refused = simulacra_cli(
        "export", str(run), "-o", str(other), "--overwrite", cwd=tmp_path, import_path=(SRC,)
    )
    assert refused.returncode == 2 and "not an earlier export" in refused.stderr
    assert [p.name for p in other.iterdir()] == ["todo.txt"]


def test_without_the_extra_parquet_is_refused_naming_it(tmp_path: Path, make_run: MakeRun) -> None:
    run = make_run([episode("e1", tool_turns())])
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "pyarrow.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'pyarrow'\", name='pyarrow')\n"
    )
    out = tmp_path / "out"
    done = simulacra_cli(
        "export", str(run), "-o", str(out), cwd=tmp_path, import_path=(blocked, SRC)
    )
    assert done.returncode == 2
    assert "pip install 'simulacra[export]'" in done.stderr
    assert not out.exists()
    jsonl_only = simulacra_cli(
        "export",
        str(run),
        "-o",
        str(out),
        "--files",
        "jsonl",
        cwd=tmp_path,
        import_path=(blocked, SRC),
    )
    assert jsonl_only.returncode == 0, jsonl_only.stderr
    assert (out / "sft.jsonl").is_file()


def test_a_secret_in_a_transcript_reaches_no_file(tmp_path: Path, make_run: MakeRun) -> None:
    leaked = tool_turns("Use the header Authorization: Bearer sk-live-abcdefghijklmnop1234")
    run = make_run([episode("e1", leaked)])
    done = simulacra_cli(
        "export", str(run), "-o", str(tmp_path / "out"), cwd=tmp_path, import_path=(SRC,)
    )
    assert done.returncode == 0, done.stderr
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    texts = {
        "README.md": (out / "README.md").read_text(),
        "sft.jsonl": (out / "sft.jsonl").read_text(),
        "sft.parquet": json.dumps(pq.read_table(out / "sft.parquet").to_pylist()),
    }
    for name, text in texts.items():
        assert "sk-live-abcdefghijklmnop1234" not in text, name
    assert "<redacted>" in texts["sft.jsonl"] and "<redacted>" in texts["sft.parquet"]
