"""Rendering the report page: one self-contained HTML file.

The page is a Jinja2 template (autoescaped) with the stylesheet and the script inlined,
the payload in ``<script type="application/json" id="report-data">`` and each transcript
chunk in its own ``<script type="application/json" id="chunk-<run>-<i>">``. None of
these JSON elements is ever executed; the page script reads them with ``textContent``
and builds every element from data with ``createElement`` and ``textContent``.

A Content-Security-Policy allows only the page's own inline script and style (by hash)
and connections to the page's own origin (used by the live viewer): no other script,
no images, no fonts, no requests anywhere else.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from simulacra._records import gc_paused
from simulacra.report._load import RunData, load_run
from simulacra.report._payload import Payload, ReportOptions, build_payload
from simulacra.report._safe import script_json, utf8

TEMPLATE = "report.html.j2"


@cache
def _asset(name: str) -> str:
    return (resources.files("simulacra.report") / "assets" / name).read_text(encoding="utf-8")


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(script: str, style: str) -> str:
    """The policy of a report page with this inline script and stylesheet."""
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src {_hash(script)}",
            f"style-src {_hash(style)}",
            "connect-src 'self'",
            "img-src 'none'",
            "font-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )


@cache
def page_policy() -> str:
    """The policy of every page this package renders (the assets do not change)."""
    return content_security_policy(_asset("report.js"), _asset("report.css"))


def render_html(payload: Payload, *, title: str | None = None) -> str:
    """The HTML of a report page for ``payload``."""
    import jinja2
    from markupsafe import Markup

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("simulacra.report", "assets"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    script = _asset("report.js")
    style = _asset("report.css")
    runs = payload.data["runs"]
    names = [str(run["name"]) for run in runs]
    chunk_elements = [
        (f"chunk-{key}-{index}", Markup(text))  # JSON made safe by script_json
        for key, texts in payload.chunks.items()
        for index, text in enumerate(texts)
    ]
    return environment.get_template(TEMPLATE).render(
        title=title or ("simulacra · " + " vs ".join(names)),
        names=names,
        summaries=[_noscript_summary(run) for run in runs],
        policy=page_policy(),
        style=Markup(style),  # our own stylesheet
        script=Markup(script),  # our own script
        data=Markup(script_json(payload.data)),  # escaped for <script>
        chunks=chunk_elements,
    )


def _noscript_summary(run: dict[str, Any]) -> list[tuple[str, str]]:
    """A few numbers for readers without JavaScript (escaped by the template)."""
    summary = run.get("summary") or {}
    rows = [("run", str(run.get("name", "")))]
    for key in ("episodes", "errors", "tokens", "mean_user_turns"):
        if summary.get(key) is not None:
            rows.append((key.replace("_", " "), str(summary[key])))
    success = summary.get("success")
    if isinstance(success, dict) and isinstance(success.get("value"), int | float):
        rows.append(("success", f"{success['value']:.1%}"))
    return rows


def build_report(
    run_dir: str | Path,
    compare_dir: str | Path | None = None,
    *,
    output: str | Path | None = None,
    options: ReportOptions | None = None,
    title: str | None = None,
) -> Path:
    """Write a self-contained HTML report of a run (or of two runs compared).

    ``output`` defaults to ``report.html`` in the run directory (``compare-<B>.html``
    when comparing). Returns the path written.
    """
    with gc_paused():  # the report builds a few objects per message and no cycles
        runs: Sequence[RunData] = [load_run(run_dir)] + (
            [load_run(compare_dir)] if compare_dir is not None else []
        )
        payload = build_payload(runs, options=options)
        html = render_html(payload, title=title)
    if output is None:
        name = "report.html" if len(runs) == 1 else f"compare-{runs[1].path.resolve().name}.html"
        output = runs[0].path / name
    target = Path(output)
    if target.parent != Path():
        target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(utf8(html))
    return target
