"""``simulacra optimize``: parsing and printing only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simulacra._cli_common import ConcurrencyOption, errors, user_errors


@user_errors
def optimize(
    config: Annotated[Path, typer.Argument(metavar="CONFIG", help="a run config (YAML)")],
    optimizer: Annotated[
        str | None,
        typer.Option(
            "--optimizer",
            help="the key of models that proposes prompts (default: the target's model)",
            envvar="SIMULACRA_OPTIMIZER",
        ),
    ] = None,
    rounds: Annotated[int, typer.Option("--rounds", help="rounds of proposals at most")] = 3,
    candidates: Annotated[int, typer.Option("--candidates", help="proposals per round")] = 2,
    heldout: Annotated[
        float, typer.Option("--heldout", help="share of the tasks held out for evaluation")
    ] = 0.5,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="the optimisation's directory (default: <output_dir>/<name>-optimize)",
            envvar="SIMULACRA_OPTIMIZE_OUT",
        ),
    ] = None,
    concurrency: ConcurrencyOption = None,
) -> None:
    """Improve the target's system prompt from the conversations it fails (resumable)."""
    from simulacra._records import validate_config
    from simulacra.optimize._loop import OptimizeSettings
    from simulacra.optimize._loop import optimize as run_optimize

    settings = validate_config(
        OptimizeSettings,
        {
            "optimizer": optimizer,
            "rounds": rounds,
            "candidates": candidates,
            "heldout": heldout,
            "out": str(out) if out is not None else None,
        },
        source="simulacra optimize",
    )
    result = run_optimize(
        config, settings, progress=lambda line: errors.print(escape(line)), concurrency=concurrency
    )
    table = Table(title=f"prompt candidates ({result.out})", title_justify="left")
    for column in ("#", "round", "held-out success", "gain over incumbent", "kept", "prompt"):
        table.add_column(column, overflow="fold")
    for candidate in result.candidates:
        held = (candidate.get("heldout") or {}).get("success") or {}
        gain = candidate.get("gain") or {}
        table.add_row(
            str(candidate["index"]),
            str(candidate["round"]),
            _interval(held, signed=False),
            _interval(gain, signed=True) if gain else ("" if candidate["index"] == 0 else "-"),
            "yes" if candidate.get("kept") else (candidate.get("error") or "no"),
            escape((candidate.get("prompt") or "")[:160]),
        )
    Console(soft_wrap=True, highlight=False).print(table)
    typer.echo(f"stopped: {result.stopped}")
    typer.echo(f"best prompt (candidate {result.best['index']}):")
    typer.echo(result.best_prompt)


def _interval(estimate: dict[str, object], *, signed: bool) -> str:
    value, low, high = estimate.get("value"), estimate.get("low"), estimate.get("high")
    if not isinstance(value, int | float):
        return "n/a"
    spec = "+.3f" if signed else ".3f"
    if isinstance(low, int | float) and isinstance(high, int | float):
        return f"{value:{spec}} [{low:{spec}}, {high:{spec}}]"
    return f"{value:{spec}}"


def register(app: typer.Typer) -> None:
    app.command("optimize")(optimize)
