"""The ``simulacra`` command line. Parsing and printing only; the work is in the library."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from simulacra._cli_common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    ConcurrencyOption,
    NoCacheOption,
    cache_setting,
    errors,
    fail,
    user_errors,
)
from simulacra._format import format_estimate
from simulacra.errors import ConfigError, RunError

app = typer.Typer(
    name="simulacra",
    help="Simulated people in the loop with AI systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()


def _execute(
    config: Any,
    *,
    resume: bool,
    overwrite: bool,
    concurrency: int | None,
    cache: bool | None,
    max_errors: float | None = None,
) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from simulacra.runs import Progress as Counters
    from simulacra.runs import arun

    counters = Counters(total=0)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("episodes"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("errors {task.fields[errors]}  tokens {task.fields[tokens]:,}"),
        console=errors,
        transient=False,
    ) as bar:
        task = bar.add_task(config.name, total=None, errors=0, tokens=0)

        def show(state: Counters) -> None:
            bar.update(
                task,
                total=state.total,
                completed=state.done,
                errors=state.errors,
                tokens=state.tokens,
            )

        counters.listeners.append(show)
        counters.listeners.append(lambda state: None)
        try:
            result = asyncio.run(
                arun(
                    config,
                    resume=resume,
                    overwrite=overwrite,
                    concurrency=concurrency,
                    use_cache=cache,
                    max_errors=max_errors,
                    progress=counters,
                )
            )
        except KeyboardInterrupt:
            bar.stop()
            errors.print(
                f"[yellow]interrupted:[/] {counters.done} finished episode(s) were kept in "
                f"{config.run_dir()}; continue with --resume"
            )
            raise typer.Exit(EXIT_INTERRUPTED) from None
    return result


@app.command()
@user_errors
def run(
    config_path: Annotated[Path, typer.Argument(metavar="CONFIG.yaml", help="run configuration")],
    resume: Annotated[
        bool, typer.Option("--resume", help="skip finished episodes", envvar="SIMULACRA_RESUME")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="discard an earlier run of the same name")
    ] = False,
    concurrency: ConcurrencyOption = None,
    no_cache: NoCacheOption = False,
    mode: Annotated[
        list[str] | None,
        typer.Option(
            "--mode",
            "-m",
            help="run in this mode instead of the config's modes (full, concat, sharded); repeat "
            "the option to compare modes",
            show_default=False,
            envvar="SIMULACRA_MODE",
        ),
    ] = None,
    repeats: Annotated[
        int | None,
        typer.Option(
            "--repeats",
            "-n",
            min=1,
            help="trials per persona x task x mode",
            envvar="SIMULACRA_REPEATS",
        ),
    ] = None,
    max_errors: Annotated[
        float | None,
        typer.Option(
            "--max-errors",
            min=0.0,
            max=1.0,
            help="exit 1 when more than this share of episodes errored (default: the "
            "config's max_errors; else only when every episode errored)",
            envvar="SIMULACRA_MAX_ERRORS",
        ),
    ] = None,
) -> None:
    """Run the episodes of CONFIG.yaml and write them to its run directory.

    Settings given here win over the environment variables, which win over the config
    file, which wins over the defaults."""
    from simulacra.runs import load_config

    config = load_config(config_path)
    if mode:
        config = config.with_overrides(source="--mode", modes=mode)
    if repeats is not None:
        config = config.with_overrides(source="--repeats", repeats=repeats)
    config.validate_references()
    result = _execute(
        config,
        resume=resume,
        overwrite=overwrite,
        concurrency=concurrency,
        cache=cache_setting(no_cache),
        max_errors=max_errors,
    )
    _print_summary(result.summary, result.run_dir)
    if result.gate:
        raise fail(result.gate, EXIT_FAILED)


@app.command()
@user_errors
def demo(
    concurrency: ConcurrencyOption = None,
    no_cache: NoCacheOption = False,
    output_dir: Annotated[
        Path,
        typer.Option(
            "--output-dir", "-o", help="where the run directory goes", envvar="SIMULACRA_OUTPUT_DIR"
        ),
    ] = Path("runs"),
) -> None:
    """Simulated users with personas and hidden goals talk to an assistant on the
    embedded model (no network, no API key); prints the results."""
    from simulacra.demo import demo_config

    config = demo_config(output_dir=str(output_dir))
    result = _execute(
        config, resume=False, overwrite=True, concurrency=concurrency, cache=cache_setting(no_cache)
    )
    _print_episodes(result.run_dir)
    _print_summary(result.summary, result.run_dir)
    if result.gate:
        raise fail(result.gate, EXIT_FAILED)


@app.command()
def show(
    run_dir: Annotated[Path, typer.Argument(help="a run directory")],
    episodes: Annotated[bool, typer.Option("--episodes", "-e", help="list every episode")] = False,
) -> None:
    """Print the summary of a run directory."""
    from simulacra.rundir import RunDir, summarize

    try:
        run = RunDir.open(run_dir)
    except RunError as exc:
        raise fail(exc) from None
    # a missing or damaged summary is computed again from the episodes
    summary = run.summary_data() or summarize(run.episode_records())
    if episodes:
        _print_episodes(run_dir)
    _print_summary(summary, run_dir)


@app.command()
def personas() -> None:
    """List the built-in personas."""
    from simulacra.people import builtin_personas

    table = Table(title="built-in personas", title_justify="left")
    for column in (
        "name",
        "who",
        "expertise",
        "verbosity",
        "patience",
        "coop.",
        "typos",
        "background",
    ):
        table.add_column(column, overflow="fold")
    for p in builtin_personas():
        table.add_row(
            p.name, p.label, p.expertise, f"{p.verbosity:.2f}", str(p.patience),
            f"{p.cooperativeness:.2f}", f"{p.typo_rate:.2f}", p.background,
        )  # fmt: skip
    console.print(table)


@app.command()
def tasks(suite: Annotated[str, typer.Option("--suite", "-s")] = "everyday") -> None:
    """List the tasks of a suite."""
    from simulacra.tasks import suite_tasks

    try:
        items = suite_tasks(suite)
    except ConfigError as exc:
        raise fail(exc) from None
    table = Table(title=f"suite {suite}: {len(items)} tasks", title_justify="left")
    for column in ("id", "goal", "hidden facts", "reference"):
        table.add_column(column, overflow="fold")
    for t in items:
        table.add_row(t.id, t.goal, str(len(t.facts)), t.reference)
    console.print(table)


def _print_episodes(run_dir: Path) -> None:
    from simulacra.rundir import RunDir

    table = Table(title="episodes", title_justify="left")
    for column in ("persona", "task"):
        table.add_column(column, no_wrap=True)
    for column in ("turns", "stop", "success", "guards"):
        table.add_column(column, no_wrap=True)
    wide = console.width >= 110
    if wide:
        table.add_column(
            "first user turn", overflow="ellipsis", no_wrap=True, max_width=console.width - 90
        )
    for e in RunDir(run_dir).episodes():
        first = next((m.content for m in e.messages if m.role == "user"), "")
        outcome = "error" if e.status == "error" else ("yes" if e.success else "no")
        cells = [
            e.persona.name, e.task.id, str(e.user_turns), e.stop_reason, outcome,
            str(len(e.guard_events)),
        ]  # fmt: skip
        table.add_row(*cells, *([first] if wide else []))
    console.print(table)


def _print_summary(summary: dict[str, Any], run_dir: Path) -> None:
    table = Table(
        title=f"run {summary.get('run', run_dir.name)}", title_justify="left", show_header=False
    )
    table.add_column("measure")
    table.add_column("value")
    success = summary.get("success")
    if success:
        table.add_row("success", format_estimate(success, percent=True, words=True))
    table.add_row("episodes", f"{summary['episodes']} ({summary['errors']} errors)")
    if summary.get("mean_user_turns") is not None:
        table.add_row("mean user turns", f"{summary['mean_user_turns']:.2f}")
    table.add_row("stop reasons", ", ".join(f"{k} {v}" for k, v in summary["stop_reasons"].items()))
    guards = summary["guard_events"]
    table.add_row(
        "guard events",
        f"{guards['total']} ({guards['fallbacks']} fallbacks)"
        + "".join(f", {k} {v}" for k, v in guards.items() if k not in ("total", "fallbacks")),
    )
    for role, usage in summary["usage"].items():
        table.add_row(
            f"tokens ({role})",
            f"{usage['total_tokens']:,} in {usage['calls']} calls ({usage['cached_calls']} cached)",
        )
    if summary.get("error_kinds"):
        table.add_row("errors", ", ".join(f"{k} {v}" for k, v in summary["error_kinds"].items()))
    if len(summary.get("by_mode") or {}) > 1:
        table.add_row(
            "success by mode",
            ", ".join(
                f"{m} {v['success']:.1%} (n={v['n']})" for m, v in summary["by_mode"].items()
            ),
        )
    drop = summary.get("multi_turn_drop")
    if drop:
        table.add_row(
            "multi-turn drop",
            format_estimate(drop, decimals=1) + " % (sharded vs full)"
            if drop.get("value") is not None
            else "n/a (no task succeeded in full mode)",
        )
    policy = summary.get("policy")
    if policy:
        table.add_row(
            "policy violations",
            f"{policy['with_violations']} of {policy['episodes']} episodes"
            + "".join(f", {rule} {n}" for rule, n in policy["violations"].items()),
        )
        table.add_row(
            "success without violation",
            format_estimate(policy["success_without_violation"], percent=True),
        )
    console.print(table)
    for warning in summary.get("warnings") or ():
        console.print(f"[yellow]warning:[/] {warning}")
    _print_reliability(summary)
    console.print(f"run directory: {run_dir}")


def _print_reliability(summary: dict[str, Any]) -> None:
    """pass^k and aptitude/unreliability tables, when the run has repeats."""
    curve = summary.get("pass_hat_k")
    if curve:
        table = Table(
            title="pass^k (all k trials succeed; 95% CI over tasks)", title_justify="left"
        )
        table.add_column("k")
        table.add_column("pass^k")
        table.add_column("tasks")
        for k, estimate in curve.items():
            table.add_row(k, format_estimate(estimate, percent=True), str(estimate.get("n", "")))
        console.print(table)
    if summary.get("aptitude"):
        table = Table(
            title="aptitude and unreliability (score percentiles over repeats)",
            title_justify="left",
        )
        table.add_column("measure")
        table.add_column("value [95% CI]")
        table.add_row(
            "aptitude (90th percentile)", format_estimate(summary["aptitude"], percent=True)
        )
        table.add_row(
            "unreliability (90th - 10th)", format_estimate(summary["unreliability"], percent=True)
        )
        console.print(table)
    by_turn = summary.get("success_by_turn")
    if by_turn:
        table = Table(title="success by feedback turn", title_justify="left")
        for column in ("turn", "cumulative success", "gain"):
            table.add_column(column)
        for turn, cumulative, gain in zip(
            by_turn["turns"], by_turn["cumulative"], by_turn["gain"], strict=True
        ):
            table.add_row(
                str(turn),
                format_estimate(cumulative, percent=True),
                format_estimate(gain, percent=True),
            )
        console.print(table)


_EXTENSIONS = (
    "simulacra.feedback._cli",
    "simulacra.trust._cli",
    "simulacra.report._cli",
    "simulacra.export._cli",
)


def _register_extensions() -> None:
    """Commands that live beside the code they drive, each module with ``register(app)``."""
    import importlib

    for name in _EXTENSIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue  # that part of the package is not installed
            raise
        module.register(app)


_register_extensions()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
