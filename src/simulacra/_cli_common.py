"""What every command shares: exit codes, the error line, and common options."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from simulacra.errors import ConfigError, RunError, SimulacraError, StorageError

EXIT_USAGE = 2
"""A user's mistake: bad input, a missing file, a run directory that cannot be used."""
EXIT_FAILED = 1
"""Anything else simulacra raised on purpose (a model that kept failing, say)."""
EXIT_INTERRUPTED = 130

errors = Console(stderr=True, soft_wrap=True, emoji=False, highlight=False)


def fail(error: Exception | str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``error: …`` (escaped: it may quote user or model text) and return the exit."""
    errors.print(f"[bold red]error:[/] {escape(str(error))}")
    return typer.Exit(code)


P = ParamSpec("P")
R = TypeVar("R")


def user_errors(function: Callable[P, R]) -> Callable[P, R]:
    """A command whose ``ConfigError``/``RunError`` exit 2 and other simulacra errors 1,
    each as one line on stderr; so does a file system failure (exit 1, with the path)."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except (ConfigError, RunError) as exc:
            raise fail(exc) from None
        except SimulacraError as exc:
            raise fail(exc, EXIT_FAILED) from None
        except OSError as exc:
            raise fail(StorageError.from_os_error(exc, doing="file access"), EXIT_FAILED) from None

    return wrapper


ConcurrencyOption = Annotated[
    int | None,
    typer.Option(
        "--concurrency", "-c", min=1, help="episodes at once", envvar="SIMULACRA_CONCURRENCY"
    ),
]


def cache_setting(no_cache: bool) -> bool | None:
    """``--no-cache`` (or ``SIMULACRA_NO_CACHE``) turns the cache off; without it the
    config decides (``cache:``), so the flag never silently turns a config's ``false`` on."""
    return False if no_cache else None


NoCacheOption = Annotated[
    bool,
    typer.Option("--no-cache", help="bypass the response cache", envvar="SIMULACRA_NO_CACHE"),
]
