"""``simulacra profiles``: extract user profiles from real conversations, list, sample."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simulacra._cli_common import App, user_errors

if TYPE_CHECKING:
    from simulacra.people import Profile

_console = Console()

profiles_app = App(
    name="profiles",
    help="User profiles for the role-play user: extract them from real conversations, "
    "list them, sample a population.",
    no_args_is_help=True,
    add_completion=False,
)


@profiles_app.command("from")
def from_conversations(
    conversations: Annotated[
        Path,
        typer.Argument(
            metavar="CONVERSATIONS.jsonl",
            help='real conversations, one a line: {"messages": [{"role", "content"}, ...]}',
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="where to write the profiles (YAML)")
    ],
    groups: Annotated[
        int, typer.Option("--groups", "-k", min=1, max=50, help="profiles to extract (at most)")
    ] = 3,
    min_count: Annotated[
        int,
        typer.Option(
            "--min-count", min=1, help="conversations that must share a phrase for it to be kept"
        ),
    ] = 2,
    prefix: Annotated[
        str | None, typer.Option("--prefix", help="profile names: PREFIX-1, PREFIX-2, …")
    ] = None,
    share: Annotated[
        float | None,
        typer.Option(
            "--share",
            min=0.0,
            max=1.0,
            help="extract from this seeded share of the conversations only (with --holdout)",
        ),
    ] = None,
    holdout: Annotated[
        Path | None,
        typer.Option(
            "--holdout", help="write the conversations not used (with --share) here, as JSONL"
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="random seed")] = 0,
) -> None:
    """Extract user profiles (style, lengths, openings, reveal pattern, reactions) from
    real conversations."""
    _from(conversations, output, groups, min_count, prefix, share, holdout, seed)


@user_errors
def _from(
    conversations: Path,
    output: Path,
    groups: int,
    min_count: int,
    prefix: str | None,
    share: float | None,
    holdout: Path | None,
    seed: int,
) -> None:
    from simulacra.errors import ConfigError
    from simulacra.trust._profiles import profiles_from_file, write_corpus

    if holdout is not None and share is None:
        raise ConfigError("--holdout needs --share (the part to extract from)")
    extraction, rest = profiles_from_file(
        conversations, groups=groups, min_count=min_count, seed=seed, prefix=prefix, share=share
    )
    extraction.write(output)
    if holdout is not None and rest is not None:
        write_corpus(rest, holdout)
    _table(
        extraction.profiles,
        f"{len(extraction.profiles)} profiles from "
        f"{extraction.n_conversations} conversations ({extraction.n_user_turns} user turns)",
    )
    _console.print(f"wrote {escape(str(output))}" + (
        f"; the other {len(rest.conversations)} conversations: {escape(str(holdout))}"
        if holdout is not None and rest is not None else ""
    ))  # fmt: skip


def _table(profiles: Sequence[Profile], title: str) -> None:
    table = Table(title=escape(title), title_justify="left")
    for column in ("name", "share", "words", "lower", "punct.", "polite", "turns", "opens with"):
        table.add_column(
            column,
            no_wrap=True,
            overflow="ellipsis",
            max_width=None if column != "opens with" else 24,
        )
    total = sum(p.weight for p in profiles)
    for p in profiles:
        i = p.interaction
        table.add_row(
            escape(p.name),
            f"{p.weight / total:.0%}",
            f"{p.length.median_words:g}",
            f"{p.style.lowercase_rate:.2f}",
            f"{p.style.end_punctuation_rate:.2f}",
            f"{i.politeness_rate:.2f}",
            f"{i.typical_turns:g}",
            escape(", ".join(p.openings[:2])),
        )
    _console.print(table)


@profiles_app.command("list")
def list_profiles(
    file: Annotated[
        Path | None,
        typer.Argument(metavar="[PROFILES.yaml]", help="a profiles file (default: built-in)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print every field as JSON")] = False,
) -> None:
    """List profiles: the built-in ones, or those of a file."""
    _list(file, as_json)


@user_errors
def _list(file: Path | None, as_json: bool) -> None:
    from simulacra.people import builtin_profiles, load_profiles

    profiles = load_profiles(file) if file else builtin_profiles()
    if as_json:
        typer.echo(json.dumps([p.model_dump(mode="json") for p in profiles], indent=2))
        return
    where = str(file) if file else "built-in"
    _table(profiles, f"{len(profiles)} profiles ({where})")


@profiles_app.command("sample")
def sample(
    file: Annotated[
        Path | None,
        typer.Argument(metavar="[PROFILES.yaml]", help="a profiles file (default: built-in)"),
    ] = None,
    size: Annotated[int, typer.Option("--size", "-n", min=1, max=100_000, help="people")] = 10,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write them here (YAML)")
    ] = None,
    concentration: Annotated[
        float,
        typer.Option("--concentration", min=0.0, help="how closely people keep to their profile"),
    ] = 30.0,
    seed: Annotated[int, typer.Option("--seed", help="random seed")] = 0,
) -> None:
    """Sample a population of people from profiles (by weight, rates redrawn), seeded."""
    _sample(file, size, output, concentration, seed)


@user_errors
def _sample(
    file: Path | None, size: int, output: Path | None, concentration: float, seed: int
) -> None:
    import yaml

    from simulacra._records import write_bytes_atomic
    from simulacra.people import builtin_profiles, load_profiles, sample_profiles

    base = load_profiles(file) if file else builtin_profiles()
    people = sample_profiles(base, size, seed=seed, concentration=concentration)
    if output is None:
        _table(people, f"{size} people sampled from {file or 'the built-in profiles'}")
        return
    text = yaml.safe_dump(
        {"profiles": [p.model_dump(mode="json") for p in people]}, sort_keys=False, width=100
    )
    write_bytes_atomic(output, text.encode("utf-8"))
    _console.print(f"wrote {size} people to {escape(str(output))}")


def register(app: typer.Typer) -> None:
    """Add ``simulacra profiles`` to the command line."""
    app.add_typer(profiles_app, name="profiles")
