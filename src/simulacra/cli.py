"""The ``simulacra`` command line. Parsing and printing only; the work is in the library."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simulacra._cli_common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    AddressOption,
    App,
    ConcurrencyOption,
    ExecutorOption,
    LogLevelOption,
    NoCacheOption,
    VerboseOption,
    WideOption,
    cache_setting,
    configure_logging,
    errors,
    fail,
    user_errors,
)
from simulacra._format import format_estimate
from simulacra.errors import ConfigError, RunError

if TYPE_CHECKING:
    from simulacra.rundir import Summary

app = App(
    name="simulacra",
    help="Simulated people in the loop with AI systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()


def _version(value: bool) -> None:
    if value:
        import simulacra

        typer.echo(f"simulacra {simulacra.__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", help="print the version and exit", callback=_version, is_eager=True
        ),
    ] = False,
    log_level: LogLevelOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """Simulated people in the loop with AI systems."""
    if log_level is not None or verbose:
        configure_logging(log_level, verbose)


PROGRESS_INTERVAL = 10.0
"""Seconds between the plain progress lines written outside a terminal."""


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return (
        f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
    )


def progress_line(name: str, state: Any) -> str:
    """``run x: 12/56 episodes (21%), 0.8/min, ETA 55s, errors 1, tokens 12,345``."""
    rate = state.rate()
    share = f" ({state.done / state.total:.0%})" if state.total else ""
    speed = "?" if rate is None else f"{rate:.2f}/s" if rate >= 1 else f"{rate * 60:.1f}/min"
    return (
        f"run {name}: {state.done}/{state.total} episodes{share}, {speed}, "
        f"ETA {_duration(state.eta())}, errors {state.errors}, tokens {state.tokens:,}"
    )


class _PlainProgress:
    """Progress for a log (no terminal): a line at the start, then at most one every
    ``interval`` seconds as episodes finish, and one at the end."""

    def __init__(self, name: str, interval: float) -> None:
        self.name, self.interval = name, interval
        self.last: float | None = None
        self.state: Any = None

    def __call__(self, state: Any) -> None:
        import time

        self.state = state
        now = time.monotonic()
        if self.last is None or now - self.last >= self.interval or state.done == state.total:
            self.last = now
            errors.print(progress_line(self.name, state), markup=False)


def _execute(
    config: Any,
    *,
    resume: bool,
    overwrite: bool,
    concurrency: int | None,
    cache: bool | None,
    announce: str | None = None,
    total: int | None = None,
    **options: Any,
) -> Any:
    """Run ``config`` with a progress display: rich bars in a terminal, plain lines in a
    log (``SIMULACRA_PROGRESS_INTERVAL`` seconds apart, default 10). ``announce`` is
    printed when the episodes start (after the run directory was found fit to use);
    ``total``, the episodes planned, is the bar's length until the runner knows it."""
    import contextlib
    import os

    from simulacra.runs import Progress as Counters
    from simulacra.runs import arun

    counters = Counters(total=0)
    if announce is not None:
        said: list[bool] = []

        def say(state: Counters) -> None:
            if not said:
                said.append(True)
                errors.print(announce, markup=False)

        counters.listeners.append(say)
    with contextlib.ExitStack() as stack:
        if errors.is_terminal:
            bar = stack.enter_context(_bar())
            task = bar.add_task(config.name, total=total, errors=0, tokens=0)

            def show(state: Counters) -> None:
                bar.update(
                    task,
                    total=state.total,
                    completed=state.done,
                    errors=state.errors,
                    tokens=state.tokens,
                )

            counters.listeners.append(show)
        else:
            interval = os.environ.get("SIMULACRA_PROGRESS_INTERVAL", "")
            try:
                every = float(interval) if interval else PROGRESS_INTERVAL
            except ValueError:
                raise fail(f"SIMULACRA_PROGRESS_INTERVAL={interval!r} is not a number") from None
            counters.listeners.append(_PlainProgress(config.name, every))
        try:
            result = asyncio.run(
                arun(
                    config,
                    resume=resume,
                    overwrite=overwrite,
                    concurrency=concurrency,
                    use_cache=cache,
                    progress=counters,
                    **options,
                )
            )
        except KeyboardInterrupt:
            stack.close()
            errors.print(
                f"[yellow]interrupted:[/] {counters.done} finished episode(s) were kept in "
                f"{config.run_dir()}; continue with --resume"
            )
            raise typer.Exit(EXIT_INTERRUPTED) from None
    return result


def _bar() -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
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
    )


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
    name: Annotated[
        str | None,
        typer.Option("--name", help="the run's name (its directory under output_dir)"),
    ] = None,
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
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            "-f",
            metavar="PATTERN",
            help="run only the episodes whose task id or persona matches this glob; "
            "task=GLOB or persona=GLOB for one of them; repeat the option for more",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="run at most this many episodes (schedule order)"),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="print the schedule and an estimate of model calls, tokens and cost; "
            "run nothing and write nothing",
        ),
    ] = False,
    fail_under: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-under",
            metavar="MEASURE=SHARE",
            help="exit 1 when a summary measure is under a threshold: success=0.8, "
            "pass^2=0.5, aptitude=0.6 or success_without_violation=0.7; repeatable "
            "(default: the config's fail_under)",
            show_default=False,
        ),
    ] = None,
    max_errors: Annotated[
        str | None,
        typer.Option(
            "--max-errors",
            metavar="COUNT|SHARE",
            help="exit 1 when more episodes errored than this count (3) or share (0.1 or "
            "10%); default: the config's max_errors, else only when every episode errored",
            envvar="SIMULACRA_MAX_ERRORS",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="with --dry-run: print the plan as JSON")
    ] = False,
    executor: ExecutorOption = None,
    address: AddressOption = None,
    log_level: LogLevelOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """Run the episodes of CONFIG.yaml and write them to its run directory.

    The number of episodes is printed before the first one starts; with --dry-run,
    nothing runs. Settings given here win over the environment variables, which win
    over the config file, which wins over the defaults."""
    from simulacra.runs import (
        EpisodeFilter,
        choose_executor,
        load_config,
        parse_fail_under,
        parse_max_errors,
    )

    if log_level is not None or verbose:
        configure_logging(log_level, verbose)
    config = load_config(config_path)
    if name is not None:
        config = config.with_overrides(source="--name", name=name)
    if mode:
        config = config.with_overrides(source="--mode", modes=mode)
    if repeats is not None:
        config = config.with_overrides(source="--repeats", repeats=repeats)
    config = choose_executor(config, executor, address=address)
    gates = parse_fail_under(fail_under) if fail_under else None
    if gates is not None:
        config = config.with_overrides(source="--fail-under", fail_under=gates)
    if as_json and not dry_run:
        raise ConfigError("--json prints the plan of a --dry-run; give both", source="--json")
    allowed = parse_max_errors(max_errors) if max_errors is not None else None
    chosen = EpisodeFilter.parse(only or ())
    plan = _plan(config, chosen, limit, resume=resume)
    if dry_run:
        if as_json:
            typer.echo(json.dumps(plan.to_dict(), indent=2))
        else:
            _print_plan(plan)
        return
    result = _execute(
        config,
        announce=f"running {plan.headline()}",
        total=plan.episodes,
        resume=resume,
        overwrite=overwrite,
        concurrency=concurrency,
        cache=cache_setting(no_cache),
        max_errors=allowed,
        fail_under=gates,
        only=chosen or None,
        limit=limit,
    )
    _print_summary(result.summary, result.run_dir)
    if result.gate:
        raise fail(f"gate failed: {result.gate}", EXIT_FAILED)


def _plan(config: Any, only: Any, limit: int | None, *, resume: bool) -> Any:
    """The run's plan (see ``simulacra.runs.plan``), from its checked config."""
    from simulacra.rundir import EPISODES, read_episodes
    from simulacra.runs import plan, schedule, select

    personas, tasks = config.validate_references()
    every = list(schedule(config, personas, tasks))
    chosen = select(every, only=only or None, limit=limit)
    done: set[str] = set()
    if resume and (config.run_dir() / EPISODES).exists():
        done = {str(e.get("id")) for e in read_episodes(config.run_dir())}
    return plan(
        config,
        chosen,
        scheduled=len(every),
        personas=len(personas),
        tasks=len(tasks),
        done=done,
    )


def _print_plan(plan: Any) -> None:
    console.print(f"would run {escape(plan.headline())}")
    if not plan.roles:
        console.print("no model calls (neither the user nor the target calls a model)")
        return
    table = Table(title="estimate", title_justify="left")
    for column in ("role", "model", "calls (at most)", "tokens (at most)", "cost (at most)"):
        table.add_column(column, overflow="fold")
    measured = plan.measured_on > 0
    if measured:
        table.add_column(f"measured ({plan.measured_on} earlier episodes)", overflow="fold")
    for role in plan.roles:
        cells = [
            role.role,
            escape(role.model or "-"),
            f"{role.calls:,}",
            f"{role.tokens:,} ({role.prompt_tokens:,} in, {role.completion_tokens:,} out)",
            _money(role.cost, role.currency),
        ]
        if measured:
            m = role.measured or {}
            cells.append(
                f"{int(m.get('calls', 0)):,} calls, {int(m.get('total_tokens', 0)):,} tokens"
                + (f", {_money(role.measured_cost, role.currency)}" if role.measured_cost else "")
            )
        table.add_row(*cells)
    console.print(table)
    priced = any(r.cost is not None for r in plan.roles)
    console.print(
        "at most: every episode runs to its turn limit with every regeneration and retry; "
        "prompts counted at about 4 characters a token"
        + ("" if priced else "; for a cost, give a model price: {input: ..., output: ...}"),
        markup=False,
    )


def _money(value: float | None, currency: str) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f} {currency}" if value >= 0.01 else f"{value:.4f} {currency}"


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
    """Run a short demo on the embedded model (no network, no API key); print the results.

    Simulated users with personas and hidden goals talk to an assistant."""
    from simulacra.demo import demo_config

    config = demo_config(output_dir=str(output_dir))
    plan = _plan(config, None, None, resume=False)
    result = _execute(
        config,
        resume=False,
        overwrite=True,
        concurrency=concurrency,
        cache=cache_setting(no_cache),
        announce=f"running {plan.headline()}",
        total=plan.episodes,
    )
    _print_episodes(result.run_dir)
    _print_summary(result.summary, result.run_dir)
    if result.gate:
        raise fail(result.gate, EXIT_FAILED)


JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


@app.command()
def show(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="a run directory")],
    episode_id: Annotated[
        str | None,
        typer.Argument(
            metavar="EPISODE_ID",
            help="print this episode's transcript (its id, or the start of it)",
            show_default=False,
        ),
    ] = None,
    episodes: Annotated[bool, typer.Option("--episodes", "-e", help="list every episode")] = False,
    as_json: JsonOption = False,
) -> None:
    """Print the summary of a run directory, or one episode's transcript."""
    from simulacra.rundir import RunDir, summarize

    try:
        run = RunDir.open(run_dir)
    except RunError as exc:
        raise fail(exc) from None
    if episode_id is not None:
        episode = _find_episode(run, episode_id)
        if as_json:
            typer.echo(json.dumps(episode.to_dict(), indent=2, ensure_ascii=False))
        else:
            _print_transcript(episode)
        return
    # a missing or damaged summary is computed again from the episodes
    summary = run.summary() or summarize(run.episodes())
    if as_json:
        data: dict[str, Any] = {"summary": summary.to_dict()}
        if episodes:
            data["episodes"] = [_episode_row(e) for e in run.episodes()]
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if episodes:
        _print_episodes(run_dir)
    _print_summary(summary, run_dir)
    _print_best_of_n(run_dir)


def _print_best_of_n(run_dir: Path) -> None:
    """A best-of-n run's win rate over plain samples, length-controlled beside it (or
    the command that compares it with plain samples, when nothing was compared)."""
    from simulacra._format import format_estimate
    from simulacra.sim.best_of_n import comparisons_with_single_samples

    found = comparisons_with_single_samples(run_dir)
    if found is None:
        return
    for each in found.comparisons:
        console.print(
            escape(
                f"best-of-{found.n} over n=1 ({each.run}, {each.comparison.items} pairs): "
                f"win rate {format_estimate(each.win_rate)}; length-controlled "
                f"{format_estimate(each.length_controlled)}"
            )
        )
        if each.warning:
            console.print(escape(f"  warning: {each.warning}"))
    if not found.comparisons:
        console.print(
            escape(
                f"best-of-{found.n}: not compared with plain samples (n=1) yet: {found.command()}"
            )
        )


def _find_episode(run: Any, wanted: str) -> Any:
    """The episode whose id is ``wanted`` or starts with it (exit 2 when none or several)."""
    every = run.episodes()
    exact = [e for e in every if e.id == wanted]
    found = exact or [e for e in every if e.id.startswith(wanted)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise fail(f"no episode {wanted!r} in {run.path} ({len(every)} episodes; see show -e)")
    raise fail(f"{len(found)} episodes of {run.path} start with {wanted!r}: give more of the id")


def _outcome(e: Any) -> str:
    if e.status == "error":
        return "error"
    return "-" if e.success is None else "yes" if e.success else "no"


def _episode_row(e: Any) -> dict[str, Any]:
    return {
        "id": e.id,
        "persona": e.persona.name,
        "task": e.task.id,
        "mode": e.mode,
        "repeat": e.repeat,
        "user_turns": e.user_turns,
        "stop_reason": e.stop_reason,
        "success": e.success,
        "status": e.status,
        "guard_events": len(e.guard_events),
    }


def _print_transcript(e: Any) -> None:
    console.print(
        f"[bold]episode {escape(e.id)}[/]: {escape(e.persona.name)} on {escape(e.task.id)} "
        f"({escape(e.mode)}, repeat {e.repeat}); {e.user_turns} user turns, stopped: "
        f"{escape(e.stop_reason or '?')}, success: {_outcome(e)}"
    )
    if e.task.goal:
        console.print(f"[dim]goal:[/] {escape(e.task.goal)}")
    for message in e.messages:
        style = {"user": "bold cyan", "assistant": "bold green"}.get(message.role, "bold")
        console.print(f"\n[{style}]{escape(message.role)}[/]")
        if message.content:
            console.print(escape(message.content))
        for call in message.tool_calls:
            console.print(f"[dim]→ {escape(call.name)}({escape(call.arguments)})[/]")
    if e.error:
        console.print(f"\n[red]error:[/] {escape(e.error)}")
    for event in e.guard_events:
        console.print(f"[yellow]guard {escape(event.guard)}:[/] {escape(event.action)}")


@app.command()
def personas(as_json: JsonOption = False, wide: WideOption = False) -> None:
    """List the built-in personas (a compact table; --wide for every trait)."""
    from simulacra.people import builtin_personas

    every = builtin_personas()
    if as_json:
        typer.echo(
            json.dumps([p.model_dump(mode="json") for p in every], indent=2, ensure_ascii=False)
        )
        return
    table = Table(title=f"{len(every)} built-in personas", title_justify="left")
    # the compact view fits 80 columns: the longest name, then short traits
    table.add_column("name", no_wrap=True)
    for column in ("who", "expertise", "verb.", "pat.", "coop.", *(("typos",) if wide else ())):
        table.add_column(column, no_wrap=True)
    if wide:
        table.add_column("background", overflow="fold")
    for p in every:
        cells = [
            p.name, p.label, p.expertise, f"{p.verbosity:.2f}", str(p.patience),
            f"{p.cooperativeness:.2f}", *((f"{p.typo_rate:.2f}", p.background) if wide else ()),
        ]  # fmt: skip
        table.add_row(*(escape(c) for c in cells))
    console.print(table)
    if not wide:
        console.print("backgrounds: --wide; everything: --json", markup=False, style="dim")


@app.command()
def tasks(
    suite: Annotated[str, typer.Option("--suite", "-s", help="a suite's name")] = "everyday",
    as_json: JsonOption = False,
) -> None:
    """List the tasks of a suite."""
    from simulacra.tasks import suite_tasks

    try:
        items = suite_tasks(suite)
    except ConfigError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": t.id,
                        "suite": t.suite,
                        "goal": t.goal,
                        "facts": [f.text for f in t.facts],
                        "reference": t.reference,
                    }
                    for t in items
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    table = Table(title=f"suite {suite}: {len(items)} tasks", title_justify="left")
    for column in ("id", "goal", "hidden facts", "reference"):
        table.add_column(column, overflow="fold")
    for t in items:
        table.add_row(escape(t.id), escape(t.goal), str(len(t.facts)), escape(t.reference))
    console.print(table)


def _print_episodes(run_dir: Path) -> None:
    from simulacra.rundir import RunDir

    table = Table(title="episodes", title_justify="left")
    wide = console.width >= 130
    table.add_column("id", no_wrap=True)
    for column in ("persona", "task"):
        table.add_column(column, overflow="fold")
    for column in ("turns", "stop", "success", "guards"):
        table.add_column(column, no_wrap=True, min_width=len(column))
    if wide:
        table.add_column(
            "first user turn", overflow="ellipsis", no_wrap=True, max_width=console.width - 110
        )
    for e in RunDir(run_dir).episodes():
        first = next((m.content for m in e.messages if m.role == "user"), "")
        cells = [
            e.id if wide else e.id[:8], e.persona.name, e.task.id, str(e.user_turns),
            e.stop_reason, _outcome(e), str(len(e.guard_events)),
        ]  # fmt: skip
        table.add_row(*(escape(c) for c in cells), *([escape(first)] if wide else []))
    console.print(table)
    console.print(
        "a transcript: simulacra show RUN_DIR EPISODE_ID (or the start of the id)",
        markup=False,
        style="dim",
    )


def _print_summary(record: Summary, run_dir: Path) -> None:
    summary = record.to_dict()
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
    judged = record.judged
    if judged is not None and judged.episodes:
        table.add_row(
            "judged tasks",
            f"{judged.passed} passed, {judged.failed} failed, {judged.abstained} abstained "
            f"of {judged.episodes} ({judged.criteria_met} of {judged.criteria} must-haves met"
            + (
                f"; the two orders disagreed in {judged.inconsistent}"
                if judged.inconsistent
                else ""
            )
            + ")",
        )
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
    by_suite = summary.get("reliability_by_suite") or {}
    if by_suite:
        ks = sorted(
            {k for entry in by_suite.values() for k in entry.get("pass_hat_k") or {}}, key=int
        )
        table = Table(
            title="by suite (each domain apart; 95% CI over its tasks)", title_justify="left"
        )
        for column in ("suite", *(f"pass^{k}" for k in ks), "aptitude", "unreliability"):
            table.add_column(column)
        for suite, entry in by_suite.items():
            curve = entry.get("pass_hat_k") or {}
            cells = [format_estimate(curve[k], percent=True) if k in curve else "" for k in ks]
            measures = [
                format_estimate(entry[m], percent=True) if entry.get(m) else ""
                for m in ("aptitude", "unreliability")
            ]
            table.add_row(suite, *cells, *measures)
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
    "simulacra.optimize._cli",
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
