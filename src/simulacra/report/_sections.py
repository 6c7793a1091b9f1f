"""Report sections: extra tabs of the report, one registration each.

A section is a function of a run (``RunData``) that returns a :class:`Section` (a title,
notes and tables of plain values) or ``None`` when it has nothing to show for that run.
It is registered under a name in ``report_sections``; the report gives every section
that has something to show a tab of its own, drawn as text (a section never writes
markup, so whatever text it carries is shown, not run). A section that raises shows
the error in its tab instead of taking the report down::

    from simulacra.report import Section, SectionTable, report_sections

    @report_sections.register("turns")
    def turns(run):
        rows = [[e.id, e.user_turns] for e in run.episodes]
        return Section(title="Turns", tables=[SectionTable(columns=["episode", "turns"], rows=rows)])

Third-party packages register theirs from a ``simulacra.plugins`` entry point.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulacra.errors import describe_error
from simulacra.registry import Registry
from simulacra.report._load import RunData
from simulacra.report._safe import clean

Cell = str | int | float | None


@dataclass(frozen=True, kw_only=True)
class SectionTable:
    """One table of a section: column names and rows of plain values."""

    columns: list[str]
    rows: list[list[Cell]]
    caption: str = ""


@dataclass(frozen=True, kw_only=True)
class Section:
    """What a section shows for one run."""

    title: str
    tables: list[SectionTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


SectionMaker = Callable[[RunData], Section | None]
report_sections: Registry[SectionMaker] = Registry("report section")
"""Section name → function of a run; each name is the tab's id."""

MAX_ROWS = 2000
"""Rows of one table kept in the page (the rest are counted in a note)."""


def section_payload(run: RunData) -> list[dict[str, Any]]:
    """Every registered section that has something to show for ``run``, as page data."""
    out = []
    for name in report_sections.names():
        maker = report_sections.get(name)
        try:
            section = maker(run)
        except Exception as exc:
            section = Section(title=name, notes=[f"this section failed: {describe_error(exc)}"])
        if section is None:
            continue
        tables = []
        notes = list(section.notes)
        for table in section.tables:
            if len(table.rows) > MAX_ROWS:
                notes.append(
                    f"{table.caption or 'a table'}: first {MAX_ROWS:,} of {len(table.rows):,} rows"
                )
            tables.append(
                {
                    "caption": table.caption,
                    "columns": [str(c) for c in table.columns],
                    "rows": [list(r) for r in table.rows[:MAX_ROWS]],
                }
            )
        data = {"id": name, "title": section.title or name, "notes": notes, "tables": tables}
        out.append(clean(data, max_chars=2000))
    return out


@report_sections.register("errors")
def errors_section(run: RunData) -> Section | None:
    """The episodes that errored, by kind of error, with the first message of each: the
    recorded faults of a run (nothing when no episode errored)."""
    failed = [e for e in run.episodes if e.status == "error"]
    if not failed:
        return None
    kinds: Counter[str] = Counter()
    first: dict[str, tuple[str, str]] = {}
    for episode in failed:
        message = episode.error or "unknown error"
        kind = message.split(":")[0]
        kinds[kind] += 1
        first.setdefault(kind, (episode.id, message))
    rows: list[list[Cell]] = [
        [kind, count, first[kind][0], first[kind][1]] for kind, count in kinds.most_common()
    ]
    share = len(failed) / max(1, len(run.episodes))
    return Section(
        title="Errors",
        notes=[
            f"{len(failed):,} of {len(run.episodes):,} episodes errored ({share:.1%}); each "
            "error is the episode's own record, and the other episodes went on"
        ],
        tables=[
            SectionTable(
                caption="errors by kind",
                columns=["kind", "episodes", "first episode", "first message"],
                rows=rows,
            )
        ],
    )


from simulacra.report import _judged  # noqa: E402, F401  (registers the judged tasks' tab)
