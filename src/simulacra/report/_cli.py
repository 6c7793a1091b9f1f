"""``simulacra report`` and ``simulacra view``: parsing and printing only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simulacra._cli_common import fail


def report(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="a run directory")],
    compare_dir: Annotated[
        Path | None,
        typer.Argument(metavar="RUN_DIR_B", help="a second run directory to compare with"),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="where to write the HTML (default: report.html in RUN_DIR)",
            envvar="SIMULACRA_REPORT_OUTPUT",
        ),
    ] = None,
) -> None:
    """Write a self-contained HTML report of a run, or of two runs side by side."""
    from simulacra.errors import RunError
    from simulacra.report._html import build_report

    try:
        path = build_report(run_dir, compare_dir, output=output)
    except RunError as exc:
        raise fail(exc) from None
    except OSError as exc:
        raise fail(f"cannot write the report: {exc}") from None
    size = path.stat().st_size
    typer.echo(f"wrote {path} ({size / 1e6:.1f} MB)" if size >= 1e5 else f"wrote {path}")


def view(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="a run directory")],
    compare_dir: Annotated[
        Path | None,
        typer.Argument(metavar="RUN_DIR_B", help="a second run directory to compare with"),
    ] = None,
    port: Annotated[
        int,
        typer.Option(
            "--port",
            "-p",
            min=0,
            max=65535,
            help="port on 127.0.0.1 (0: any free port)",
            envvar="SIMULACRA_VIEW_PORT",
        ),
    ] = 8765,
    open_browser: Annotated[
        bool,
        typer.Option("--open", help="open the page in a web browser", envvar="SIMULACRA_VIEW_OPEN"),
    ] = False,
) -> None:
    """Serve the report of a run on 127.0.0.1, refreshing as new episodes arrive."""
    from simulacra.errors import RunError
    from simulacra.report._serve import LiveRuns, ReportServer

    try:
        live = LiveRuns([run_dir] + ([compare_dir] if compare_dir is not None else []))
        server = ReportServer(live, port=port)
    except RunError as exc:
        raise fail(exc) from None
    except OSError as exc:
        raise fail(f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc})") from None
    try:
        typer.echo(f"serving {server.url}  (Ctrl-C to stop)", err=True)
        if open_browser:
            import webbrowser

            webbrowser.open(server.url)
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        typer.echo("stopped", err=True)
    finally:
        server.server_close()


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``view`` to the ``simulacra`` command line."""
    app.command("report")(report)
    app.command("view")(view)
