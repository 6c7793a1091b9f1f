"""What every command shares: exit codes, the error line, and common options."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

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


ExecutorOption = Annotated[
    str | None,
    typer.Option(
        "--executor",
        help="where episodes are played: local (this process) or ray (a Ray cluster; "
        "pip install 'simulacra[ray]'); default: the config's executor, else local",
        envvar="SIMULACRA_EXECUTOR",
        show_default=False,
    ),
]
AddressOption = Annotated[
    str | None,
    typer.Option(
        "--address",
        help="with --executor ray: the cluster to join (host:6379, ray://host:10001, auto); "
        "default: RAY_ADDRESS, else a cluster of this machine started for the command",
        envvar="SIMULACRA_ADDRESS",
        show_default=False,
    ),
]


def cache_setting(no_cache: bool) -> bool | None:
    """``--no-cache`` (or ``SIMULACRA_NO_CACHE``) turns the cache off; without it the
    config decides (``cache:``), so the flag never silently turns a config's ``false`` on."""
    return False if no_cache else None


WideOption = Annotated[
    bool, typer.Option("--wide", "-w", help="every column (the default view fits 80 columns)")
]

NoCacheOption = Annotated[
    bool,
    typer.Option("--no-cache", help="bypass the response cache", envvar="SIMULACRA_NO_CACHE"),
]


# --- logging ----------------------------------------------------------------------------

LOG_LEVELS = ("debug", "info", "warning", "error")
_HANDLER = "simulacra-cli"


class _Scrubbed(logging.Filter):
    """Drops the values of registered secrets (API keys) from every message."""

    def filter(self, record: logging.LogRecord) -> bool:
        from simulacra._secrets import scrub

        record.msg = scrub(record.getMessage())
        record.args = None
        return True


def configure_logging(level: str | None = None, verbose: int = 0) -> None:
    """Show the ``simulacra.*`` log records at ``level`` (or, with ``-v``/``-vv``, at
    info/debug; default: warnings) on stderr: through rich in a terminal, as plain
    time-stamped lines elsewhere (a CI log). Called again, it replaces its handler."""
    chosen = level.lower() if level else ("debug" if verbose >= 2 else "info" if verbose else None)
    logger = logging.getLogger("simulacra")
    for old in [h for h in logger.handlers if h.get_name() == _HANDLER]:
        logger.removeHandler(old)
    handler: logging.Handler
    if errors.is_terminal:
        from rich.logging import RichHandler

        handler = RichHandler(console=errors, show_path=False, markup=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
    handler.addFilter(_Scrubbed())
    handler.set_name(_HANDLER)
    logger.addHandler(handler)
    logger.setLevel(getattr(logging, (chosen or "warning").upper()))
    logger.propagate = False


def check_log_level(value: str | None) -> str | None:
    if value is not None and value.lower() not in LOG_LEVELS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(LOG_LEVELS)}")
    return value


LogLevelOption = Annotated[
    str | None,
    typer.Option(
        "--log-level",
        help="show log records from this level up: debug, info, warning (default) or error",
        callback=check_log_level,
        envvar="SIMULACRA_LOG_LEVEL",
        show_default=False,
    ),
]
VerboseOption = Annotated[
    int,
    typer.Option(
        "--verbose",
        "-v",
        count=True,
        metavar="",
        show_default=False,
        help="show retries, backoffs and timeouts as they happen (-vv: every detail)",
    ),
]


# --- help -------------------------------------------------------------------------------


def _plain_flags(params: list[Any]) -> list[Any]:
    """Flags (``--resume``, ``--help``) take no value: their help shows no type for one."""
    from typer.core import TyperOption

    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params


class _Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_flags(super().get_params(ctx))


class _Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_flags(super().get_params(ctx))


class App(typer.Typer):
    """The ``simulacra`` command line: a Typer app whose commands show flags without a
    value type in their help."""

    def __init__(self, **settings: Any) -> None:
        # markdown: a docstring's paragraphs are rewrapped to the terminal, so a line
        # break of the source never cuts a sentence in the help
        settings.setdefault("rich_markup_mode", "markdown")
        super().__init__(cls=_Group, **settings)

    def command(  # type: ignore[override]
        self, name: str | None = None, **settings: Any
    ) -> Callable[[Callable[P, R]], Callable[P, R]]:
        settings.setdefault("cls", _Command)
        decorate: Callable[[Callable[P, R]], Callable[P, R]] = super().command(name, **settings)
        return decorate
