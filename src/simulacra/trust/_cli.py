"""Commands of the trust layer: calibrate, estimate, select, ingest, fidelity.

Parsing and printing only. Bad input (a malformed row, an unknown item, a duplicated
pair, mixed scales, too few human labels) prints one error naming the file and line and
exits with code 2, before any output file is written.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simulacra._cli_common import WideOption, errors, user_errors
from simulacra._format import format_estimate, format_number
from simulacra.errors import ConfigError

_console = Console()


def _num(value: float | None, *, pct: bool = False, digits: int = 3) -> str:
    return format_number(value, percent=pct, digits=digits)


def _est(estimate: Any, *, pct: bool = False) -> str:
    """``value [low, high]`` for an Estimate (or its dict), ``–`` when missing."""
    text = format_estimate(estimate, percent=pct)
    return "–" if text == "n/a" else text


def _write_json(path: Path | None, data: Any) -> None:
    if path is None:
        return
    from simulacra.trust._io import json_text, write_files_atomic

    write_files_atomic({path: json_text(data)})
    _console.print(f"wrote {escape(str(path))}")


# --- calibrate --------------------------------------------------------------------------


def _judge(raters: Path, run_dir: Path, kind: str) -> Path:
    """Have the raters of ``raters`` judge ``run_dir``; return its feedback file."""
    from simulacra.feedback import judge_run, load_raters_config

    config = load_raters_config(raters)
    wanted = "rubric" if kind == "rating" else "pairwise"
    errors.print(f"judging {escape(str(run_dir))} with {escape(str(raters))} ({wanted}) …")
    result = judge_run(run_dir, config, kinds=[wanted])  # errors: see user_errors
    errors.print(f"{result.written} new judgement(s), {result.already} kept")
    return Path(run_dir) / "feedback.jsonl"


def calibrate(
    human: Annotated[
        Path, typer.Option("--human", help="human labels (JSONL or CSV)", show_default=False)
    ],
    run_dir: Annotated[
        Path | None,
        typer.Argument(
            metavar="RUN_DIR",
            help="run directory: judged with --raters, or naming the systems behind episode ids",
        ),
    ] = None,
    synthetic: Annotated[
        Path | None,
        typer.Option("--synthetic", help="synthetic labels (feedback.jsonl, JSONL or CSV)"),
    ] = None,
    raters: Annotated[
        Path | None,
        typer.Option("--raters", help="raters.yaml: judge RUN_DIR now, then calibrate"),
    ] = None,
    dimension: Annotated[
        str | None, typer.Option("--dimension", help="rating dimension to compare")
    ] = None,
    segment_by: Annotated[
        str,
        typer.Option("--segment-by", help="label field to break results down by (e.g. persona)"),
    ] = "segment",
    resamples: Annotated[
        int,
        typer.Option(
            "--resamples", min=1, help="bootstrap resamples", envvar="SIMULACRA_RESAMPLES"
        ),
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="random seed", envvar="SIMULACRA_SEED")] = 0,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="also write the full report as JSON")
    ] = None,
    wide: WideOption = False,
) -> None:
    """How far a synthetic rater can be trusted: agreement with people, bias, ranking.

    Give the raters' labels with --synthetic FILE, or have the raters of --raters
    raters.yaml judge RUN_DIR first (written to RUN_DIR/feedback.jsonl).
    """
    _calibrate(
        human, run_dir, synthetic, raters, dimension, segment_by, resamples, seed, json_path, wide
    )


@user_errors
def _calibrate(
    human: Path,
    run_dir: Path | None,
    synthetic: Path | None,
    raters: Path | None,
    dimension: str | None,
    segment_by: str,
    resamples: int,
    seed: int,
    json_path: Path | None,
    wide: bool = False,
) -> None:
    from simulacra.trust._calibrate import calibrate as measure
    from simulacra.trust._corpus import run_episodes
    from simulacra.trust._labels import read_labels

    if (synthetic is None) == (raters is None):
        raise ConfigError("give either --synthetic FILE or --raters raters.yaml RUN_DIR")
    if raters is not None and run_dir is None:
        raise ConfigError("--raters needs the RUN_DIR to judge")
    human_labels = read_labels(human, role="human", segment_field=segment_by)
    episodes = None
    if run_dir is not None:
        episodes = {key: e.target for key, e in run_episodes(run_dir).items()}
    if raters is not None and run_dir is not None:
        synthetic = _judge(raters, run_dir, human_labels.kind)
    assert synthetic is not None
    synthetic_labels = read_labels(
        synthetic,
        role="synthetic",
        kind=human_labels.kind,
        segment_field=segment_by,
        needed_by=str(human),
    )
    report = measure(
        human_labels,
        synthetic_labels,
        dimension=dimension,
        episodes=episodes,
        resamples=resamples,
        seed=seed,
    )
    data = report.to_dict()
    _console.print(
        f"[bold]rater fidelity[/]: {report.n_items} items, {report.n_human_labels} human labels "
        f"from {report.n_annotators} annotators ({report.kind})"
    )
    _console.print(
        f"humans among themselves: Krippendorff's alpha {_est(data['human_alpha'])}, "
        f"leave-one-out agreement {_est(data['human_vs_held_out'], pct=True)}"
    )
    # (column, cell of a rater, in the compact view); --wide shows every column
    agreement: list[tuple[str, Any, bool]] = [
        ("rater", lambda n, r: escape(n), True),
        ("items", lambda n, r: str(r["n_items"]), True),
        ("abst.", lambda n, r: str(r["abstentions"]), False),
        ("vs majority", lambda n, r: _est(r["majority_agreement"], pct=True), True),
        ("rater vs others' mode", lambda n, r: _est(r["rater_vs_held_out"], pct=True), False),
        ("human vs others' mode", lambda n, r: _est(r["human_vs_held_out"], pct=True), False),
        ("kappa", lambda n, r: _est(r["kappa"]), True),
        ("alpha", lambda n, r: _est(r["alpha"]), False),
    ]
    _rater_table("agreement with people (95% CI over items)", agreement, data["raters"], wide)
    bias: list[tuple[str, Any, bool]] = [
        ("rater", lambda n, r: escape(n), True),
        ("mean score − human", lambda n, r: _est(r["mean_bias"]), True),
        ("longer wins (rater)", lambda n, r: _est(r["length_preference"], pct=True), True),
        ("longer wins (humans)", lambda n, r: _est(r["human_length_preference"], pct=True), False),
        ("difference", lambda n, r: _est(r["length_bias"]), False),
        ("first shown wins", lambda n, r: _est(r["position_preference"], pct=True), False),
    ]
    _rater_table("bias against people", bias, data["raters"], wide)
    if not wide:
        _console.print("more columns: --wide", style="dim")
    if data["human_position_preference"] is not None:
        _console.print(
            f"humans: first shown wins {_est(data['human_position_preference'], pct=True)}"
        )
    segments = [(n, s) for n, r in data["raters"].items() for s in r["segments"]]
    if segments:
        seg = Table(title="per segment", title_justify="left")
        for column in ("rater", "segment", "items", "vs majority", "mean score − human"):
            seg.add_column(column, overflow="fold")
        for name, s in segments:
            seg.add_row(
                escape(name),
                escape(s["segment"]),
                str(s["n_items"]),
                _est(s["agreement"], pct=True),
                _est(s["bias"]),
            )
        _console.print(seg)
    rankings = [(n, r["ranking"]) for n, r in data["raters"].items() if r["ranking"]]
    if rankings:
        ranks = Table(title="system ranking: humans vs rater", title_justify="left")
        for column in ("rater", "systems (human / rater score)", "Spearman", "Kendall"):
            ranks.add_column(column, overflow="fold")
        for name, ranking in rankings:
            systems = ", ".join(
                f"{escape(s)} {_num(h, digits=2)}/{_num(ranking['synthetic'][s], digits=2)}"
                for s, h in sorted(ranking["human"].items(), key=lambda kv: -kv[1])
            )
            ranks.add_row(
                escape(name), systems, _est(ranking["spearman"]), _est(ranking["kendall"])
            )
        _console.print(ranks)
    _write_json(json_path, data)


def _rater_table(
    title: str, columns: list[tuple[str, Any, bool]], raters: dict[str, Any], wide: bool
) -> None:
    shown = [c for c in columns if wide or c[2]]
    table = Table(title=title, title_justify="left")
    for name, _, _ in shown:
        table.add_column(name, overflow="fold")
    for rater, values in raters.items():
        table.add_row(*(cell(rater, values) for _, cell, _ in shown))
    _console.print(table)


# --- estimate ---------------------------------------------------------------------------


def estimate(
    human: Annotated[Path, typer.Option("--human", help="human labels (JSONL or CSV)")],
    synthetic: Annotated[Path, typer.Option("--synthetic", help="synthetic labels of every item")],
    method: Annotated[
        str, typer.Option("--method", help="ppi++ (tuned, default) or ppi")
    ] = "ppi++",
    rater: Annotated[
        str | None, typer.Option("--rater", help="use one rater of the synthetic file")
    ] = None,
    dimension: Annotated[
        str | None, typer.Option("--dimension", help="rating dimension to estimate")
    ] = None,
    level: Annotated[
        float, typer.Option("--level", min=0.5, max=0.999, help="confidence level")
    ] = 0.95,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="also write the result as JSON")
    ] = None,
) -> None:
    """Win rate, success rate or mean rating from human + synthetic labels, unbiased."""
    _estimate(human, synthetic, method, rater, dimension, level, json_path)


@user_errors
def _estimate(
    human: Path,
    synthetic: Path,
    method: str,
    rater: str | None,
    dimension: str | None,
    level: float,
    json_path: Path | None,
) -> None:
    from simulacra.trust._estimate import estimate as compute
    from simulacra.trust._labels import read_labels

    if method not in ("ppi", "ppi++"):
        raise ConfigError(f"--method must be 'ppi++' or 'ppi', got {method!r}")
    chosen: Literal["ppi", "ppi++"] = "ppi" if method == "ppi" else "ppi++"
    human_labels = read_labels(human, role="human")
    result = compute(
        human_labels,
        read_labels(synthetic, role="synthetic", kind=human_labels.kind, needed_by=str(human)),
        method=chosen,
        rater=rater,
        dimension=dimension,
        level=level,
    )
    r = result.result
    pct = result.scale == (0.0, 1.0)
    table = Table(
        title=f"{result.target}: {level:.0%} intervals", title_justify="left", show_header=True
    )
    for column in ("estimate", "value [interval]", "width", "rests on"):
        table.add_column(column)
    rows = (
        (f"{'PPI++' if chosen == 'ppi++' else 'PPI'} (human + synthetic)", r.estimate,
         f"{r.n + r.n_census} human + {r.n_unlabelled} synthetic-only items"),
        ("human only (classical)", r.classical, f"{r.n + r.n_census} human-labelled items"),
        ("synthetic only (biased)", r.synthetic_only, f"{r.synthetic_only.n} items"),
    )  # fmt: skip
    for name, est, basis in rows:
        table.add_row(name, _est(est, pct=pct), _num(est.width, pct=pct), basis)
    _console.print(table)
    _console.print(
        f"rater {escape(result.rater)}, λ = {r.lam:.3f}; effective human labels "
        f"{_num(r.effective_n, digits=4)} from {r.n}: {_num(r.labels_saved, digits=3)} labels "
        f"saved ({_num(r.labels_saved_pct / 100.0, pct=True)} of a human-only budget)"
    )
    if result.design == "stratified":
        _console.print(
            f"stratified design: {result.n_top} item(s) chosen for disagreement, labelled in "
            f"full, weighted {result.n_top}/{result.n_synthetic_items}; PPI on the "
            f"{r.n + r.n_unlabelled} others from {r.n} drawn at random"
        )
    if result.imputed:
        _console.print(f"{result.imputed} item(s) with only abstentions got the scale's middle")
    _write_json(json_path, result.to_dict())


# --- select and ingest ------------------------------------------------------------------


def select(
    synthetic: Annotated[Path, typer.Option("--synthetic", help="synthetic labels")],
    k: Annotated[int, typer.Option("-k", min=0, help="items with the most disagreement")],
    output: Annotated[Path, typer.Option("--output", "-o", help="annotation file (JSONL)")],
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="also write the sheet as CSV")
    ] = None,
    run: Annotated[
        Path | None, typer.Option("--run", help="run directory with the episodes judged")
    ] = None,
    by: Annotated[
        str, typer.Option("--by", help="entropy (vote entropy first) or confidence")
    ] = "entropy",
    random: Annotated[
        int,
        typer.Option(
            "--random",
            min=0,
            help="extra items drawn at random from the rest (the design `estimate` weights)",
        ),
    ] = 0,
    exclude: Annotated[
        Path | None, typer.Option("--exclude", help="human labels of items to skip")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="pairwise or rubric (default: pairwise when present)"),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="random seed", envvar="SIMULACRA_SEED")] = 0,
    wide: WideOption = False,
) -> None:
    """Pick the items people should label: where raters disagree or are least sure."""
    _select(synthetic, k, output, csv_path, run, by, random, exclude, kind, seed, wide)


@user_errors
def _select(
    synthetic: Path,
    k: int,
    output: Path,
    csv_path: Path | None,
    run: Path | None,
    by: str,
    random: int,
    exclude: Path | None,
    kind: str | None,
    seed: int,
    wide: bool = False,
) -> None:
    from simulacra.trust._corpus import run_episodes
    from simulacra.trust._io import csv_text, jsonl_text, write_files_atomic
    from simulacra.trust._labels import read_labels
    from simulacra.trust._select import ANNOTATION_COLUMNS, annotation_rows, select_items

    if by not in ("entropy", "confidence"):
        raise ConfigError(f"--by must be 'entropy' or 'confidence', got {by!r}")
    kinds: dict[str | None, Literal["pairwise", "rating", "binary"] | None] = {
        None: None, "pairwise": "pairwise", "rubric": "rating", "rating": "rating",
        "binary": "binary",
    }  # fmt: skip
    if kind not in kinds:
        raise ConfigError(f"--kind must be 'pairwise' or 'rubric', got {kind!r}")
    labels = read_labels(synthetic, role="synthetic", kind=kinds[kind])
    skip = read_labels(exclude, role="human").items if exclude is not None else []
    chosen = select_items(
        labels, k, by="entropy" if by == "entropy" else "confidence", random=random,
        exclude=skip, seed=seed,
    )  # fmt: skip
    episodes = run_episodes(run) if run is not None else None
    rows = annotation_rows(chosen, episodes=episodes, run_dir=str(run) if run else None)
    files = {output: jsonl_text(rows)}
    if csv_path is not None:
        files[csv_path] = csv_text(rows, ANNOTATION_COLUMNS)
    write_files_atomic(files)
    table = Table(title=f"{len(chosen)} items to label", title_justify="left")
    table.add_column("item", overflow="fold")
    for column in ("why", "entropy", *(("abstained", "confidence") if wide else ()), "judgem."):
        table.add_column(column, no_wrap=True)
    for s in chosen[:20]:
        table.add_row(
            escape(s.item_id) + (f" ({escape(s.dimension)})" if s.dimension else ""),
            s.selected_by,
            _num(s.vote_entropy, digits=2),
            *((_num(s.abstain_share, pct=True), _num(s.mean_confidence, digits=2)) if wide else ()),
            str(s.n_judgements),
        )
    _console.print(table)
    if not wide:
        _console.print("abstentions and confidence: --wide", style="dim")
    if len(chosen) > 20:
        _console.print(f"… and {len(chosen) - 20} more")
    _console.print("wrote " + ", ".join(escape(str(p)) for p in files))


def ingest(
    sheet: Annotated[
        Path, typer.Argument(metavar="SHEET", help="the filled annotation sheet (CSV or JSONL)")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="human labels (JSONL)")],
    annotator: Annotated[
        str | None,
        typer.Option("--annotator", help="annotator id for rows that leave it empty"),
    ] = None,
    synthetic: Annotated[
        Path | None, typer.Option("--synthetic", help="check item ids against these labels")
    ] = None,
) -> None:
    """Read a filled annotation sheet back as human labels, validating every row."""
    _ingest(sheet, output, annotator, synthetic)


@user_errors
def _ingest(sheet: Path, output: Path, annotator: str | None, synthetic: Path | None) -> None:
    from simulacra.trust._io import jsonl_text, write_files_atomic
    from simulacra.trust._labels import read_labels
    from simulacra.trust._select import ingest_annotations

    known = read_labels(synthetic, role="synthetic").items if synthetic is not None else None
    records, skipped = ingest_annotations(sheet, annotator=annotator, known_items=known)
    write_files_atomic({output: jsonl_text(records)})
    items = len({r["item_id"] for r in records})
    _console.print(
        f"wrote {len(records)} label(s) on {items} item(s) to {escape(str(output))}"
        + (f"; skipped {skipped} row(s) without a label" if skipped else "")
    )


# --- fidelity ---------------------------------------------------------------------------


def fidelity(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="a run directory")],
    human_corpus: Annotated[
        Path,
        typer.Option(
            "--human-corpus",
            help="real user conversations (JSONL, chat format)",
            envvar="SIMULACRA_HUMAN_CORPUS",
        ),
    ],
    compare: Annotated[
        Path | None, typer.Option("--compare", help="a second run directory to compare")
    ] = None,
    splits: Annotated[
        int, typer.Option("--splits", min=1, help="random halvings of the corpus for the ceiling")
    ] = 5,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="where to write the JSON (default: RUN_DIR/fidelity.json, which the report shows)",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="random seed", envvar="SIMULACRA_SEED")] = 0,
    bootstrap: Annotated[
        int,
        typer.Option(
            "--bootstrap", min=0, help="resamples of the run's conversations for intervals"
        ),
    ] = 200,
    bootstrap_human: Annotated[
        int,
        typer.Option(
            "--bootstrap-human", min=0, help="resamples of the human corpus (slow; 0: none)"
        ),
    ] = 0,
) -> None:
    """How human the simulated users read: the realism index against a real corpus."""
    _fidelity(run_dir, human_corpus, compare, splits, seed, bootstrap, bootstrap_human, output)


_DIMENSION_NAMES = {
    "communication_style": "communication style",
    "information_pattern": "information pattern",
    "clarification": "clarification",
    "error_reaction": "error reaction",
}


def _interval(bounds: list[float | None] | None, *, digits: int) -> str:
    if not bounds or bounds[0] is None or bounds[1] is None:
        return "–"
    return f"{_num(bounds[0], digits=digits)}–{_num(bounds[1], digits=digits)}"


@user_errors
def _fidelity(
    run_dir: Path,
    human_corpus: Path,
    compare: Path | None,
    splits: int,
    seed: int,
    bootstrap: int = 200,
    bootstrap_human: int = 0,
    output: Path | None = None,
) -> None:
    from simulacra.trust._fidelity import user_fidelity, write_fidelity

    report = user_fidelity(
        run_dir,
        human_corpus,
        compare=compare,
        splits=splits,
        seed=seed,
        bootstrap=bootstrap,
        human_bootstrap=bootstrap_human,
    )
    intervals = report.intervals
    path = write_fidelity(run_dir, report, output)
    other = report.compare
    table = Table(
        title=f"user realism: {escape(str(run_dir))} vs {escape(str(human_corpus))}",
        title_justify="left",
    )
    table.add_column("feature")
    table.add_column("human", justify="right")
    table.add_column("run", justify="right")
    table.add_column("sim.", justify="right")
    if intervals:
        table.add_column(f"{intervals.confidence or 0.95:.0%} CI", justify="right")
    sized = report.ceiling_at_size
    if sized:
        table.add_column(f"real, {sized.size}", justify="right")
    if other:
        table.add_column("compare", justify="right")
        table.add_column("sim.", justify="right")
    for dim, content in report.dimensions.items():
        row = [f"[bold]{_DIMENSION_NAMES.get(dim, dim)}[/]", "", "", _num(content.score, digits=3)]
        if intervals:
            row.append(_interval(intervals.dimensions.get(dim), digits=3))
        if sized:
            row.append(_num(sized.dimensions.get(dim), digits=3))
        theirs_dim = other.dimensions.get(dim) if other else None
        if other:
            row += ["", _num(theirs_dim.score if theirs_dim else None, digits=3)]
        table.add_row(*row)
        for feature, values in content.features.items():
            cells = [
                f"  {feature}",
                _num(values.human),
                _num(values.simulated),
                _num(values.similarity, digits=2),
            ]
            if intervals:
                cells.append(_interval(intervals.similarity.get(feature), digits=2))
            if sized:
                cells.append(_num(sized.features.get(feature), digits=2))
            if other:
                theirs = theirs_dim.features.get(feature) if theirs_dim else None
                cells += [
                    _num(theirs.simulated if theirs else None),
                    _num(theirs.similarity if theirs else None, digits=2),
                ]
            table.add_row(*cells)
    index_row = ["[bold]index (0–100)[/]", "", "", f"[bold]{_num(report.index, digits=3)}[/]"]
    if intervals:
        index_row.append(_interval(intervals.index, digits=3))
    if sized:
        index_row.append(f"[bold]{_num(sized.index, digits=3)}[/]")
    if other:
        index_row += ["", f"[bold]{_num(other.index, digits=3)}[/]"]
    table.add_row(*index_row)

    def spread(values: list[float | None]) -> list[str]:
        seen = [v for v in values if v is not None]
        if not intervals:
            return []
        return [f"{_num(min(seen), digits=3)}–{_num(max(seen), digits=3)}" if seen else ""]

    table.add_row(
        "ceiling (human halves)",
        "",
        "",
        _num(report.ceiling, digits=3),
        *spread(report.ceiling_splits),
    )
    if sized:
        table.add_row(
            f"ceiling ({sized.size} real conversations)",
            "",
            "",
            _num(sized.index, digits=3),
            *spread(sized.splits),
        )
    _console.print(table)
    dist = Table(title="distributions", title_justify="left")
    for column in ("quantity", "median human / run", "Wasserstein", "KS D", "KS p"):
        dist.add_column(column)
    for name, d in report.distributions.items():
        dist.add_row(
            name,
            f"{_num(d.human_median)} / {_num(d.simulated_median)}",
            _num(d.wasserstein),
            _num(d.ks_statistic),
            _num(d.ks_pvalue),
        )
    _console.print(dist)
    n = report.n_conversations
    counted = f"{n.simulated} simulated and {n.human} human conversations; " if n else ""
    if sized:
        _console.print(
            f"column 'real, {sized.size}': the similarities that {sized.size} real "
            "conversations drawn from the corpus reach against the rest (the ceiling at "
            "this run's size; a low one marks a feature that is noise at this size)"
        )
    style = report.dimensions.get("communication_style")
    cross = ("opening_uniformity", "opener_repetition", "ngram_repetition")
    if style and all(
        feature in style.features and not _finite(style.features[feature].simulated)
        for feature in cross
    ):
        _console.print(
            "opening_uniformity, opener_repetition, ngram_repetition: nothing to compare "
            "(they compare conversations of different tasks, and this run's play one task)"
        )
    _console.print(f"{counted}wrote {escape(str(path))}")


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def register(app: typer.Typer) -> None:
    """Add the trust commands to the ``simulacra`` command line."""
    app.command("calibrate")(calibrate)
    app.command("estimate")(estimate)
    app.command("select")(select)
    app.command("ingest")(ingest)
    app.command("fidelity")(fidelity)
    from simulacra.trust._profiles_cli import register as register_profiles

    register_profiles(app)
