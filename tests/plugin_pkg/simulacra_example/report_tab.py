"""A report tab: how many user turns each persona took, per task."""

from __future__ import annotations

from collections import defaultdict

from simulacra.report import RunData, Section, SectionTable, report_sections


def turns_by_persona(run: RunData) -> Section | None:
    turns: dict[tuple[str, str], list[int]] = defaultdict(list)
    for episode in run.episodes:  # typed records: simulacra.rundir.Episode
        turns[(episode.persona.name, episode.task.id)].append(episode.user_turns)
    if not turns:
        return None  # no tab for an empty run
    rows = [
        [persona, task, len(counts), sum(counts) / len(counts)]
        for (persona, task), counts in sorted(turns.items())
    ]
    table = SectionTable(columns=["persona", "task", "episodes", "mean user turns"], rows=rows)
    return Section(title="Turns", tables=[table], notes=["user turns per persona and task"])


report_sections.add("turns", turns_by_persona)
