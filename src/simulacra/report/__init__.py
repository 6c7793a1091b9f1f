"""Reports: a self-contained HTML page of a run directory, and a local live viewer.

::

    from simulacra.report import build_report
    build_report("runs/demo")                      # writes runs/demo/report.html
    build_report("runs/a", "runs/b", output="a-vs-b.html")

The page embeds everything it shows (no network requests), renders every string from
the run as text, and stays small and fast for runs of ten thousand episodes: episode
rows are compact, and transcripts are decoded only when an episode is opened.

Modules: ``_load`` reads a run directory tolerantly, ``_payload`` turns it into the
page's data, ``_feedback`` and ``_fidelity_view`` prepare those sections, ``_html`` renders
the page, ``_serve`` is the live viewer, ``_cli`` the ``report`` and ``view`` commands.
Importing this package is cheap; Jinja2 and numpy load when a report is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulacra._lazy import lazy_exports

_EXPORTS = {
    "RunData": "simulacra.report._load",
    "load_run": "simulacra.report._load",
    "Payload": "simulacra.report._payload",
    "ReportOptions": "simulacra.report._payload",
    "build_payload": "simulacra.report._payload",
    "build_report": "simulacra.report._html",
    "render_html": "simulacra.report._html",
    "LiveRuns": "simulacra.report._serve",
    "ReportServer": "simulacra.report._serve",
    "serve": "simulacra.report._serve",
    "Section": "simulacra.report._sections",
    "SectionTable": "simulacra.report._sections",
    "report_sections": "simulacra.report._sections",
}

__all__ = [
    "LiveRuns",
    "Payload",
    "ReportOptions",
    "ReportServer",
    "RunData",
    "Section",
    "SectionTable",
    "build_payload",
    "build_report",
    "load_run",
    "render_html",
    "report_sections",
    "serve",
]

if TYPE_CHECKING:
    from simulacra.report._html import build_report, render_html
    from simulacra.report._load import RunData, load_run
    from simulacra.report._payload import Payload, ReportOptions, build_payload
    from simulacra.report._sections import Section, SectionTable, report_sections
    from simulacra.report._serve import LiveRuns, ReportServer, serve

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
del lazy_exports  # the package's helper, not part of what it offers
