"""``simulacra export``: parsing and printing only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from simulacra._cli_common import errors, user_errors


@user_errors
def export(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="a run directory")],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="the dataset directory to write", envvar="SIMULACRA_EXPORT_OUT"
        ),
    ],
    format: Annotated[
        str,
        typer.Option(
            "--format", "-f", help="sft, dpo, kto or pairs", envvar="SIMULACRA_EXPORT_FORMAT"
        ),
    ] = "sft",
    successful_only: Annotated[
        bool, typer.Option("--successful-only", help="sft: only episodes whose task check passed")
    ] = False,
    min_judge_score: Annotated[
        float | None,
        typer.Option(
            "--min-judge-score", help="sft: only episodes with at least this mean rubric score"
        ),
    ] = None,
    verified: Annotated[
        bool,
        typer.Option(
            "--verified",
            help="sft: only tool-task episodes whose final state matches the ground truth "
            "with no policy violation",
        ),
    ] = False,
    no_fallbacks: Annotated[
        bool,
        typer.Option("--no-fallbacks", help="leave out episodes where a user guard fell back"),
    ] = False,
    persona: Annotated[
        list[str] | None,
        typer.Option("--persona", help="persona names to keep (globs; repeat the option)"),
    ] = None,
    task: Annotated[
        list[str] | None, typer.Option("--task", help="task ids to keep (globs; repeatable)")
    ] = None,
    mode: Annotated[
        list[str] | None, typer.Option("--mode", help="modes to keep (globs; repeatable)")
    ] = None,
    system_prompt: Annotated[
        bool,
        typer.Option("--system-prompt/--no-system-prompt", help="keep the target's system prompt"),
    ] = True,
    span: Annotated[
        str,
        typer.Option(
            "--span",
            help="dpo/pairs: 'reply' (each side is the reply to the shared prompt) or 'rest' "
            "(the rest of each conversation)",
        ),
    ] = "reply",
    best_of_n: Annotated[
        bool,
        typer.Option(
            "--best-of-n/--no-best-of-n",
            help="dpo/pairs: also the rater's choices between best-of-n candidates",
        ),
    ] = True,
    compare: Annotated[
        list[Path] | None,
        typer.Option(
            "--compare",
            help="dpo/pairs: a `simulacra compare` file of this run against another, whose "
            "judgements become pairs too (repeatable)",
        ),
    ] = None,
    label_from: Annotated[
        str, typer.Option("--label-from", help="kto: 'success' (the task check) or 'rating'")
    ] = "success",
    rating_threshold: Annotated[
        float,
        typer.Option(
            "--rating-threshold", help="kto --label-from rating: desirable at this mean score"
        ),
    ] = 4.0,
    files: Annotated[
        str,
        typer.Option(
            "--files", help="comma-separated: jsonl, parquet", envvar="SIMULACRA_EXPORT_FILES"
        ),
    ] = "jsonl,parquet",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="replace an earlier export in --out")
    ] = False,
) -> None:
    """Export a run as training data (JSONL and Parquet for `datasets`) with a dataset card."""
    from simulacra._records import validate_config
    from simulacra.export._api import export_run
    from simulacra.export._export import ExportConfig

    settings = {
        "format": format,
        "successful_only": successful_only,
        "min_judge_score": min_judge_score,
        "no_fallbacks": no_fallbacks,
        "verified": verified,
        "personas": tuple(persona or ()),
        "tasks": tuple(task or ()),
        "modes": tuple(mode or ()),
        "system_prompt": system_prompt,
        "span": span,
        "best_of_n": best_of_n,
        "compare": tuple(str(path) for path in compare or ()),
        "label_from": label_from,
        "rating_threshold": rating_threshold,
        "files": tuple(part.strip() for part in files.split(",") if part.strip()),
    }
    config = validate_config(ExportConfig, settings, source="simulacra export")
    with errors.status(f"exporting {run_dir} as {config.format}"):
        result = export_run(run_dir, out, config, overwrite=overwrite)
    for warning in result.dataset.run.warnings:
        errors.print(f"[yellow]warning:[/] {escape(warning)}")
    dropped = sum(result.dataset.dropped.values())
    typer.echo(
        f"wrote {result.rows} {config.format} rows to {result.out} "
        f"({', '.join(p.name for p in result.files.values())}; {dropped} left out, see README.md)"
    )


def register(app: typer.Typer) -> None:
    app.command("export")(export)
