"""Writing an export: JSONL and Parquet files and a dataset card, all or nothing.

Every file is written into a staging directory beside the output, which then takes the
output's place by a rename: a failure leaves the earlier export (or nothing) in place,
never a mix. An existing output directory is replaced only with ``overwrite`` and only
when it is an earlier export (its card says so); anything else there is refused.
Known secrets are scrubbed from every file (see :mod:`simulacra._secrets`).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simulacra._format import format_estimate
from simulacra._records import json_bytes, write_bytes_atomic
from simulacra._secrets import contains_secret, scrub, scrub_value
from simulacra.errors import ConfigError, StorageError
from simulacra.export._export import Dataset, FileFormat
from simulacra.export._formats import export_formats, share
from simulacra.rundir import Estimate

MARK = "<!-- written by simulacra export -->"
"""The line that tells an earlier export's card from any other README."""

EXTRA_HINT = "pip install 'simulacra[export]'"


@dataclass(frozen=True, kw_only=True)
class ExportResult:
    """What an export wrote."""

    out: Path
    files: dict[str, Path]
    rows: int
    dataset: Dataset


def jsonl_bytes(rows: Sequence[dict[str, Any]]) -> bytes:
    """One JSON object per line (secrets scrubbed, valid UTF-8)."""
    return b"".join(json_bytes(row) + b"\n" for row in rows)


def parquet_bytes(rows: Sequence[dict[str, Any]]) -> bytes:
    """The rows as a Parquet file (columns inferred from every row)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ModuleNotFoundError:
        raise ConfigError(
            f"writing Parquet needs pyarrow, which the 'export' extra installs: {EXTRA_HINT} "
            "(or write JSONL only: --files jsonl)"
        ) from None
    if contains_secret(json.dumps(rows, ensure_ascii=False, default=str)):
        rows = scrub_value(list(rows))
    table = pa.Table.from_pylist(list(rows))
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def write_dataset(dataset: Dataset, out: str | Path, *, overwrite: bool = False) -> ExportResult:
    """Write ``dataset`` to the directory ``out`` (``<format>.jsonl``, ``<format>.parquet``
    and ``README.md``), atomically."""
    out = Path(out)
    _check_output(out, overwrite=overwrite)
    names: dict[str, str] = {kind: f"{dataset.format}.{kind}" for kind in dataset.config.files}
    contents: dict[str, bytes] = {}
    for kind in dataset.config.files:  # everything is built before anything is written
        contents[names[kind]] = _encode(kind, dataset.rows)
    # the card quotes the run (warnings, model names, rater settings): scrubbed as the data is
    contents["README.md"] = scrub(dataset_card(dataset, names)).encode("utf-8")
    staging = out.with_name(f".{out.name}.{os.getpid()}.staging")
    retired = out.with_name(f".{out.name}.{os.getpid()}.old")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for name, data in contents.items():
            write_bytes_atomic(staging / name, data)
        if out.exists():
            os.replace(out, retired)
        os.replace(staging, out)
    except OSError as exc:
        if retired.exists() and not out.exists():
            os.replace(retired, out)  # put the earlier export back
        raise StorageError.from_os_error(exc, doing="writing the export") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)
    files: dict[str, Path] = {kind: out / name for kind, name in names.items()}
    files["card"] = out / "README.md"
    return ExportResult(out=out, files=files, rows=len(dataset.rows), dataset=dataset)


def _encode(kind: FileFormat, rows: Sequence[dict[str, Any]]) -> bytes:
    return jsonl_bytes(rows) if kind == "jsonl" else parquet_bytes(rows)


def _check_output(out: Path, *, overwrite: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise ConfigError("the output exists and is not a directory", source=str(out))
    if not any(out.iterdir()):
        return
    card = out / "README.md"
    earlier = card.is_file() and MARK in card.read_text(encoding="utf-8", errors="replace")
    if not earlier:
        raise ConfigError(
            "the output directory holds other files (not an earlier export); choose another",
            source=str(out),
        )
    if not overwrite:
        raise ConfigError(
            "the output directory holds an earlier export; pass --overwrite to replace it",
            source=str(out),
        )


# --- the dataset card --------------------------------------------------------------------

EPISODE_COLUMNS = (
    "episode_id, run, persona, task, suite, mode, repeat, target, seed, success, "
    "judge_score (mean rubric score), user_turns, stop_reason"
)
PAIR_COLUMNS = (
    "item_id, pairing, run, persona, task, mode, episode_chosen/episode_rejected "
    "(dpo) or episode_a/episode_b (pairs; null for a reference), confidence, noise_flipped"
)


def dataset_card(dataset: Dataset, names: dict[str, str]) -> str:
    """``README.md`` of an export: the data files for ``datasets``, provenance, counts,
    filters, columns and bias diagnostics."""
    data_file = names.get("parquet") or names["jsonl"]
    front = {
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": "train", "path": data_file}],
            }
        ],
        "tags": ["synthetic", "simulacra", dataset.format],
    }
    run, config = dataset.run, dataset.config
    kind = export_formats.get(dataset.format)
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False).rstrip(),
        "---",
        MARK,
        "",
        f"# {run.name}: {dataset.format} data",
        "",
        f"Synthetic training data for {kind.trainer}, exported by `simulacra "
        f"export` from the run `{run.name}`. The users in these conversations are "
        "simulated: their turns are marked `simulated_user` and are not the assistant's "
        "to learn.",
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'data = load_dataset("{"parquet" if data_file.endswith(".parquet") else "json"}", '
        f'data_files="{data_file}", split="train")',
        "```",
        "",
        "## Counts",
        "",
        f"- rows: {len(dataset.rows)}",
        f"- episodes in the run: {dataset.episodes_read}",
    ]
    if kind.unit == "pair":
        judged = len({r.item_id for r in dataset.feedback if r.kind == "pairwise"})
        lines.append(f"- judged pairs: {judged}")
    for reason, count in dataset.dropped.most_common():
        lines.append(f"- left out ({reason}): {count}")
    lines += [f"- read with a warning: {warning}" for warning in dataset.run.warnings]
    lines += ["", "## Filters", ""]
    lines += [f"- {key}: {value}" for key, value in config.filters().items()]
    lines += ["", "## Provenance", ""]
    lines += _provenance(dataset)
    lines += ["", "## Columns", "", "| column | meaning |", "|---|---|"]
    lines += [f"| {name} | {meaning} |" for name, meaning in kind.columns]
    if kind.unit == "episode":
        lines.append(f"| {EPISODE_COLUMNS} | the episode each row comes from |")
    else:
        lines.append(f"| {PAIR_COLUMNS} | the judged item and its episodes |")
    lines += ["", "## Diagnostics", ""]
    lines += _diagnostics(dataset)
    return "\n".join(lines) + "\n"


def _provenance(dataset: Dataset) -> list[str]:
    config = dataset.run.config() or {}
    keys = ("episode_id", "episode_chosen", "episode_rejected", "episode_a", "episode_b")
    kept_ids = {r.get(key) for r in dataset.rows for key in keys}
    kept = [e for e in dataset.episodes if e.id in kept_ids]
    lines = [f"- run directory: `{dataset.run.path.name}` (config seed {config.get('seed')})"]
    targets = Counter(e.target for e in kept)
    lines.append("- target: " + ", ".join(f"`{t}` ({n})" for t, n in targets.most_common()))
    for key, model in sorted((config.get("models") or {}).items()):
        if isinstance(model, dict):
            named = model.get("model") or model.get("path") or model.get("function") or ""
            lines.append(f"- model `{key}`: backend {model.get('backend')} {named}".rstrip())
    user = config.get("user") or {}
    if user:
        lines.append(
            f"- user simulator: {user.get('simulator')} on model `{user.get('model')}` "
            f"(temperature {user.get('temperature')})"
        )
    personas = Counter(e.persona.name for e in kept)
    lines.append("- personas: " + ", ".join(f"{p} ({n})" for p, n in sorted(personas.items())))
    tasks = Counter(e.task.suite or "?" for e in kept)
    lines.append(
        f"- tasks: {len({e.task.id for e in kept})} from "
        + ", ".join(f"{s} ({n} episodes)" for s, n in sorted(tasks.items()))
    )
    modes = Counter(e.mode for e in kept)
    lines.append("- modes: " + ", ".join(f"{m} ({n})" for m, n in sorted(modes.items())))
    feedback = dataset.run.feedback_summary()
    if feedback is not None and feedback.raters:
        described = "; ".join(
            f"{rater} ({', '.join(f'{k} {v}' for k, v in about.items())})"
            for rater, about in feedback.raters.items()
        )
        lines.append(f"- raters: {described}")
        options = feedback.options.to_dict() if feedback.options is not None else {}
        lines.append(
            "- judging: "
            + ", ".join(f"{k} {v}" for k, v in options.items())
            + f"; rater target model {feedback.target_model}"
        )
    return lines


def _diagnostics(dataset: Dataset) -> list[str]:
    rows = dataset.rows
    kind = export_formats.get(dataset.format)
    lines: list[str] = []
    if kind.unit == "episode":
        checked = [r["success"] for r in rows if r.get("success") is not None]
        lines.append(f"- task check passed: {share(checked)}")
        by_id = {e.id: e for e in dataset.episodes}
        fell_back = [
            any(g.action == "fallback" for g in by_id[r["episode_id"]].guard_events)
            for r in rows
            if r.get("episode_id") in by_id
        ]
        lines.append(f"- episodes where a user guard fell back: {share(fell_back)}")
        scores = [r["judge_score"] for r in rows if r.get("judge_score") is not None]
        if scores:
            lines.append(
                f"- judge score: mean {statistics.fmean(scores):.2f} over {len(scores)} rows"
            )
    if kind.diagnostics is not None:
        lines += kind.diagnostics(rows)
    if kind.unit == "episode":
        return lines
    pairings = Counter(str(r.get("pairing")) for r in rows)
    lines.append("- pairings: " + ", ".join(f"{p} ({n})" for p, n in sorted(pairings.items())))
    first = [r["winner_shown_first"] for r in rows if r.get("winner_shown_first") is not None]
    if first:
        lines.append(
            f"- the preferred side was shown first in {statistics.fmean(first):.3f} of "
            "verdicts (0.5: no position lean)"
        )
    swaps = [bool(r["swap_consistent"]) for r in rows if r.get("swap_consistent") is not None]
    lines.append(f"- judged in both orders and consistent: {share(swaps)}")
    agreement = [
        r["agreement"] for r in rows if r.get("agreement") is not None and r.get("raters", 0) > 1
    ]
    if agreement:
        lines.append(
            f"- agreement among raters (items with more than one): mean "
            f"{statistics.fmean(agreement):.3f} over {len(agreement)} items"
        )
    feedback = dataset.run.feedback_summary()
    bias = feedback.bias if feedback is not None else None
    if bias is None:
        return lines
    position, verbosity = bias.position, bias.verbosity
    swap = position.swap_consistency if position is not None else None
    measures: tuple[tuple[Estimate | None, str], ...] = (
        (position.first_position_win_rate if position else None, "wins of the side shown first"),
        (swap.consistency if swap else None, "swap consistency"),
        (
            verbosity.longer_wins if verbosity else None,
            "wins of the longer side among equally correct pairs",
        ),
        (
            verbosity.length_coefficient if verbosity else None,
            "length coefficient of the preference",
        ),
    )
    for estimate, label in measures:
        if estimate is not None and estimate.value is not None:
            lines.append(f"- the judge run's {label}: {format_estimate(estimate)}")
    return lines
