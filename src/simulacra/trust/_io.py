"""Reading rows from JSONL and CSV files with their line numbers, and atomic writes.

Every error names the file and the line (for CSV, the line on which the row ends, since
a quoted field may span lines), so a user can go straight to the bad row. Writers go
through a temporary file in the same directory and a rename: a file is either written
whole or not at all, and on an error nothing is left half-written.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulacra._records import read_jsonl_values, read_text
from simulacra._secrets import scrub
from simulacra.errors import ConfigError


@dataclass(frozen=True, kw_only=True, slots=True)
class Row:
    """One record of a file: its fields, the file and the line it came from."""

    data: Mapping[str, Any]
    source: str
    line: int
    csv: bool = False

    @property
    def where(self) -> str:
        return f"line {self.line}"

    def error(self, message: str) -> ConfigError:
        """A ``ConfigError`` naming this row's file and line."""
        return ConfigError(message, source=self.source, field=self.where)


def is_csv(path: Path) -> bool:
    """CSV by extension (``.csv`` or ``.tsv``); everything else is read as JSONL."""
    return path.suffix.lower() in (".csv", ".tsv")


def read_rows(path: Path) -> list[Row]:
    """Rows of a JSONL file (one object per line) or a CSV file with a header row.

    CSV cells are strings; an empty cell is taken as missing (``None``). Column names
    are stripped of surrounding spaces.
    """
    source = str(path)
    if is_csv(path):
        text = read_text(path)
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise ConfigError("empty CSV file (no header row)", source=source) from None
        except csv.Error as exc:
            raise ConfigError(f"malformed CSV: {exc}", source=source, field="line 1") from None
        names = [name.strip() for name in header]
        if len(set(names)) != len(names) or "" in names:
            raise ConfigError(
                f"the header row has empty or repeated column names: {names!r}",
                source=source,
                field="line 1",
            )
        rows = []
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise ConfigError(
                    f"malformed CSV: {exc}", source=source, field=f"line {reader.line_num}"
                ) from None
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(names):
                raise ConfigError(
                    f"row has {len(cells)} cells but the header has {len(names)} columns",
                    source=source,
                    field=f"line {reader.line_num}",
                )
            values = {
                name: (cell if cell.strip() else None)
                for name, cell in zip(names, cells + [""] * (len(names) - len(cells)), strict=True)
            }
            rows.append(Row(data=values, source=source, line=reader.line_num, csv=True))
        return rows
    rows = []
    for number, value in read_jsonl_values(path):
        if not isinstance(value, dict):
            raise ConfigError(
                f"expected a JSON object, got {type(value).__name__}",
                source=source,
                field=f"line {number}",
            )
        rows.append(Row(data=value, source=source, line=number))
    return rows


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def jsonl_text(records: Sequence[Mapping[str, Any]]) -> str:
    """JSON lines, one compact object per line."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def csv_text(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header row; ``None`` becomes an empty cell."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow(["" if record.get(c) is None else record.get(c) for c in columns])
    return buffer.getvalue()


def json_text(data: Any) -> str:
    """Indented JSON, NaN written as ``null``."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@contextmanager
def _cleanup(paths: list[Path]) -> Iterator[None]:
    try:
        yield
    except BaseException:
        for path in paths:
            path.unlink(missing_ok=True)
        raise


def write_files_atomic(contents: Mapping[Path, str]) -> None:
    """Write several text files, each whole or not at all.

    All temporary files are written first; only when every one is complete are they
    renamed into place, so an error while writing leaves no output behind.
    """
    temporaries: list[Path] = []
    with _cleanup(temporaries):
        for path, text in contents.items():
            if path.parent and not path.parent.exists():
                raise ConfigError("the output directory does not exist", source=str(path))
            temporary = _temporary(path)
            temporaries.append(temporary)
            # known secrets scrubbed; a lone surrogate (UTF-8 cannot hold it) becomes "?"
            with temporary.open("w", encoding="utf-8", errors="replace", newline="") as handle:
                handle.write(scrub(text))
                handle.flush()
                os.fsync(handle.fileno())
        for temporary, path in zip(temporaries, contents, strict=True):
            os.replace(temporary, path)
