"""``export_run``: a run directory to a dataset directory in one call."""

from __future__ import annotations

from pathlib import Path

from simulacra.export._export import ExportConfig, build_dataset
from simulacra.export._write import ExportResult, write_dataset
from simulacra.rundir import RunDir


def export_run(
    run_dir: str | Path | RunDir,
    out: str | Path,
    config: ExportConfig | None = None,
    *,
    overwrite: bool = False,
) -> ExportResult:
    """Export ``run_dir`` as ``config`` asks into the directory ``out``: the data files
    and ``README.md``, written all at once. Bad input (not a run directory, nothing left
    after the filters, an output that is not an earlier export) raises before anything
    is written."""
    return write_dataset(build_dataset(run_dir, config), out, overwrite=overwrite)
