"""``simulacra judge``, ``simulacra compare`` and ``simulacra fit-rater``.

Parsing and printing only; the work is in :mod:`simulacra.feedback._judge` and
:mod:`simulacra.feedback._learned`. Bad input (a missing directory, a bad raters.yaml, a
human-label file naming unknown items) exits with code 2 and a message naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simulacra._cli_common import (
    AddressOption,
    ExecutorOption,
    NoCacheOption,
    errors,
    user_errors,
)
from simulacra._format import format_estimate
from simulacra._records import read_jsonl_values
from simulacra.errors import ConfigError
from simulacra.rundir import FEEDBACK, FEEDBACK_SUMMARY, BiasReport, FeedbackSummary

if TYPE_CHECKING:
    from simulacra.feedback._judge import ComparisonResult

console = Console(emoji=False, highlight=False)


# options shared by the commands
RatersOption = Annotated[
    Path | None,
    typer.Option(
        "--raters",
        "-r",
        help="raters.yaml (default: the embedded model)",
        envvar="SIMULACRA_RATERS",
    ),
]
HumanLabelsOption = Annotated[
    Path | None,
    typer.Option(
        "--human-labels",
        help="JSONL of {item_id, verdict} to check against",
        envvar="SIMULACRA_HUMAN_LABELS",
    ),
]


def _row(table: Table, label: str, value: str) -> None:
    """A table row; the value is text, never markup (it may hold names and paths)."""
    table.add_row(label, escape(value))


def _config(path: Path | None) -> Any:
    from simulacra.feedback._config import load_raters_config, parse_raters_config

    return load_raters_config(path) if path is not None else parse_raters_config(None)


def _estimate(data: Any, *, percent: bool = True) -> str:
    return format_estimate(data, percent=percent, words=True)


def _number(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _bias_rows(table: Table, bias: BiasReport | None) -> None:
    if bias is None:
        return
    position = bias.position
    if position is not None:
        _row(
            table,
            "position bias (first shown wins)",
            _estimate(position.first_position_win_rate)
            + f"; shown first: A {position.shown_first_a} of {position.judged_orders}",
        )
        swap = position.swap_consistency
        if swap is not None:
            first = swap.first_position
            _row(
                table,
                "swap consistency (both orders)",
                _estimate(swap.consistency)
                + (f"; first position won both {first:.1%}" if first is not None else ""),
            )
    verbosity = bias.verbosity
    if verbosity is not None:
        equal = verbosity.longer_wins
        if equal is not None and equal.n:
            _row(table, "verbosity (longer wins, equal correctness)", _estimate(equal))
        else:
            _row(
                table,
                "verbosity (longer wins, any correctness)",
                _estimate(verbosity.longer_wins_any_correctness)
                + "; no pairs of equal correctness",
            )
        _row(
            table,
            "verbosity (length coefficient β1)",
            _estimate(verbosity.length_coefficient, percent=False),
        )
    self_pref = bias.self_preference
    if self_pref is not None:
        sharing = ", ".join(self_pref.raters_sharing_a_model)
        if self_pref.own_side_win_rate is not None:
            text = (
                f"{sharing}: own side {_estimate(self_pref.own_side_win_rate)}; "
                f"others on that side {_number(self_pref.other_raters_same_side)}; "
                f"difference {_number(self_pref.difference)}"
            )
        else:
            text = f"{sharing}: {self_pref.note}" if sharing else self_pref.note
        _row(table, "self-preference", text)
    agreement = bias.agreement
    if agreement is not None:
        _row(
            table,
            "rater agreement",
            (
                f"Krippendorff's α {_number(agreement.krippendorff_alpha)}, "
                f"mean Cohen's κ {_number(agreement.mean_cohen_kappa)}, "
                f"agreement {_number(agreement.percent_agreement)} on {agreement.items} items"
            )
            if agreement.items
            else agreement.note or "n/a",
        )


def _progress_printer() -> Any:
    def show(kind: str, done: int) -> None:
        if done == 1 or done % 10 == 0:
            errors.print(f"[dim]{kind}: {done} judgement(s) written[/]")

    return show


@user_errors
def judge(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="a run directory")],
    raters: RatersOption = None,
    kinds: Annotated[
        str | None,
        typer.Option(
            "--kinds",
            "-k",
            help="comma-separated: pairwise,rubric,critique,implicit",
            envvar="SIMULACRA_JUDGE_KINDS",
        ),
    ] = None,
    human_labels: HumanLabelsOption = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="discard earlier feedback and judge again")
    ] = False,
    no_cache: NoCacheOption = False,
    executor: ExecutorOption = None,
    address: AddressOption = None,
) -> None:
    """Judge the episodes of RUN_DIR: writes feedback.jsonl and feedback_summary.json."""
    import asyncio

    from simulacra.feedback._judge import ajudge_run
    from simulacra.llm import pool_for

    config = _config(raters)
    chosen = [k for k in kinds.split(",") if k.strip()] if kinds else None
    pool = pool_for(executor, address=address, use_cache=not no_cache)

    async def judged() -> Any:
        # the raters' calls are answered where the executor runs models (with ray: by
        # the cluster's model workers); the judgements are written here
        try:
            return await ajudge_run(
                run_dir,
                config,
                kinds=chosen,
                human_labels=human_labels,
                overwrite=overwrite,
                use_cache=not no_cache,
                pool=pool,
                progress=_progress_printer(),
            )
        finally:
            await asyncio.shield(pool.aclose())

    result = asyncio.run(judged())
    _print_judge(result.summary, run_dir, result.written, result.already)


def _print_judge(summary: FeedbackSummary, run_dir: Path, written: int, already: int) -> None:
    table = Table(title=f"feedback on {summary.run}", title_justify="left", show_header=False)
    table.add_column("measure")
    table.add_column("value", overflow="fold")
    _row(
        table,
        "judgements",
        ", ".join(f"{k} {v}" for k, v in sorted(summary.judgements.items()))
        + f"  ({written} new, {already} kept)",
    )
    for pairing, rates in summary.pairwise.items():
        label = {"reference": "win rate vs reference", "repeats": "win rate, earlier repeat"}.get(
            pairing, f"win rate ({pairing})"
        )
        _row(
            table,
            label,
            _estimate(rates.win_rate) + f"; abstained {rates.abstained} of {rates.judged}",
        )
        lc = rates.length_controlled
        if lc is not None:
            _row(table, f"  length-controlled ({pairing})", _estimate(lc.win_rate))
            if lc.warning:
                _row(table, "", f"warning: {lc.warning}")
    _bias_rows(table, summary.bias)
    for dimension, report in summary.rubric.items():
        _row(
            table,
            f"rubric: {dimension}",
            _estimate(report.mean, percent=False) + f"; abstained {report.abstained}",
        )
    critique = summary.critique
    if critique is not None and (critique.written or critique.abstained):
        _row(table, "critiques", f"{critique.written} written, {critique.abstained} abstained")
    implicit = summary.implicit
    if implicit is not None and implicit.user_turns:
        _row(
            table,
            "implicit signals",
            ", ".join(f"{k} {v}" for k, v in implicit.signals.items())
            + f"  ({implicit.user_turns} user turns, {implicit.episodes} episodes)",
        )
    human = summary.human
    if human is not None and human.items and human.accuracy is not None:
        _row(
            table,
            "agreement with humans",
            f"{human.accuracy:.1%} on {human.items} items, Cohen's κ {_number(human.cohen_kappa)}",
        )
    console.print(table)
    console.print(escape(f"written: {run_dir / FEEDBACK}, {run_dir / FEEDBACK_SUMMARY}"))


@user_errors
def compare(
    run_a: Annotated[Path, typer.Argument(metavar="RUN_A", help="run directory (side A)")],
    run_b: Annotated[Path, typer.Argument(metavar="RUN_B", help="run directory (side B)")],
    raters: RatersOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="where to write the comparison JSON", envvar="SIMULACRA_COMPARE_OUT"
        ),
    ] = None,
    human_labels: HumanLabelsOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Judge RUN_A against RUN_B, episode by episode (persona × task × mode × repeat)."""
    from simulacra.feedback._judge import compare_runs

    config = _config(raters)
    result = compare_runs(
        run_a,
        run_b,
        config,
        out=out,
        human_labels=human_labels,
        use_cache=not no_cache,
        progress=_progress_printer(),
    )
    _print_compare(result)


def _print_compare(result: ComparisonResult) -> None:
    found = result.comparison
    name_a, name_b = Path(found.run_a).name, Path(found.run_b).name
    table = Table(title=f"{name_a} (A) vs {name_b} (B)", title_justify="left", show_header=False)
    table.add_column("measure")
    table.add_column("value", overflow="fold")
    matching = found.matching
    if matching is not None:
        _row(
            table,
            "pairs",
            f"{matching.matched} matched ({matching.seeds_match} with equal seeds); "
            f"only in A {len(matching.only_in_a)}, only in B {len(matching.only_in_b)}",
        )
    _row(
        table,
        "verdicts",
        f"A {found.wins_a or 0}, B {found.wins_b or 0}, tie {found.ties or 0}; "
        f"abstained {found.abstained} of {found.judged} judgements",
    )
    _row(table, "win rate of A", _estimate(found.win_rate))
    lc = found.length_controlled
    _row(table, "length-controlled win rate of A", _estimate(lc.win_rate if lc else None))
    if lc is not None and lc.warning:
        _row(table, "", f"warning: {lc.warning}")
    _bias_rows(table, found.bias)
    human = found.human
    if human is not None and human.items and human.accuracy is not None:
        _row(
            table,
            "agreement with humans",
            f"{human.accuracy:.1%} on {human.items} items, Cohen's κ {_number(human.cohen_kappa)}",
        )
    console.print(table)
    console.print(escape(f"written: {result.path}"))


@user_errors
def fit_rater(
    pairs: Annotated[
        Path | None,
        typer.Argument(
            metavar="PAIRS.jsonl",
            help="labelled pairs: item_id, context, response_a, response_b, verdict",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="rater file (.json or .npz)")] = Path(
        "learned_rater.json"
    ),
    synthetic: Annotated[
        int | None,
        typer.Option(
            "--synthetic", min=10, help="train on N pairs of the synthetic fixture instead"
        ),
    ] = None,
    embedder: Annotated[
        str, typer.Option("--embedder", help="auto, minilm or hashing", envvar="SIMULACRA_EMBEDDER")
    ] = "auto",
    test_share: Annotated[
        float,
        typer.Option(
            "--test-share", min=0.05, max=0.9, help="share of the pairs held out for the accuracy"
        ),
    ] = 0.3,
    seed: Annotated[int, typer.Option("--seed", help="random seed of the split")] = 0,
    force: Annotated[
        bool, typer.Option("--force", help="save even when held-out accuracy is below chance")
    ] = False,
) -> None:
    """Fit a learned (no-LLM) pairwise rater; report held-out accuracy and save it.

    A rater whose held-out accuracy is below chance is not saved unless --force."""

    from simulacra.feedback._learned import (
        LabelledPair,
        below_chance_warning,
        fit_learned_rater,
        split_pairs,
        synthetic_labelled_pairs,
    )

    if synthetic is not None:
        labelled = synthetic_labelled_pairs(synthetic, seed=seed)
    elif pairs is None:
        raise ConfigError("give PAIRS.jsonl or --synthetic N")
    else:
        labelled = []
        for number, data in read_jsonl_values(pairs, what="pairs file"):
            if not isinstance(data, dict):
                raise ConfigError("expected an object", source=str(pairs), field=f"line {number}")
            labelled.append(LabelledPair.from_dict(data, where=f"{pairs}: line {number}"))
    train, test = split_pairs(labelled, test_share=test_share, seed=seed)
    rater = fit_learned_rater(train, embedder=embedder, seed=seed)
    held_out = rater.evaluate(test)
    final = fit_learned_rater(labelled, embedder=rater.embedder, seed=seed)
    final.info["held_out"] = held_out
    accuracy = held_out["accuracy"]
    console.print(
        f"embedder {final.embedder.name}; trained on {len(train)}, held out {len(test)}: "
        f"accuracy {'n/a' if accuracy is None else f'{accuracy:.1%}'} "
        f"on {held_out.get('decided', 0)} decided pairs, log loss {held_out['log_loss']:.3f}"
    )
    warning = below_chance_warning(held_out)
    if warning is not None:
        errors.print(f"[yellow]warning:[/] {escape(warning)}")
    final.save(out, force=force)
    console.print(escape(f"saved (fitted on all {len(labelled)} pairs): {out}"))


def register(app: typer.Typer) -> None:
    """Add the feedback commands to the ``simulacra`` command line."""
    app.command("judge")(judge)
    app.command("compare")(compare)
    app.command("fit-rater")(fit_rater)
