"""The report's tab for judged tasks: the judge's verdict, the must-haves it found met
or not and its reasons, per episode, beside the judge's own diagnostics (position and
length). Drawn as text like every section: the judge's words are never markup."""

from __future__ import annotations

from simulacra.report._load import RunData
from simulacra.report._safe import shorten
from simulacra.report._sections import Cell, Section, SectionTable, report_sections
from simulacra.rundir import JudgedSummary, JudgeLength, JudgePosition

_MARK = {True: "met", False: "not met", None: "no answer"}


def _share(value: object) -> str:
    return f"{value:.0%}" if isinstance(value, float) else "–"


@report_sections.register("judged")
def judged_section(run: RunData) -> Section | None:
    """Judged episodes of the run (nothing when it has none)."""
    judged = [(e, e.judgement) for e in run.episodes if e.judgement is not None]
    if not judged:
        return None
    summary = run.summary.judged or JudgedSummary()
    position = summary.position or JudgePosition()
    length = summary.length or JudgeLength()
    notes = [
        f"{summary.episodes:,} judged episodes: {summary.passed:,} passed, "
        f"{summary.failed:,} failed, {summary.abstained:,} abstained (an abstention is "
        "neither a success nor a failure and is left out of the success rate)",
        f"position: must-haves shown first were called met {_share(position.first_shown_met)}"
        f" of the time, shown last {_share(position.last_shown_met)} (the order is random "
        "per episode); both orders agreed on "
        f"{_share(position.order_agreement)} of {position.items_judged_in_both_orders:,} "
        "items judged twice",
        f"length: the longer half of the judged texts passed "
        f"{_share(length.longer_half_pass_rate)}, the shorter half "
        f"{_share(length.shorter_half_pass_rate)}",
    ]
    episodes: list[list[Cell]] = []
    criteria: list[list[Cell]] = []
    for episode, judgement in judged:
        assert judgement is not None
        episodes.append(
            [
                episode.id,
                episode.task.id,
                judgement.verdict,
                f"{judgement.met}/{len(judgement.criteria)}",
                judgement.answer_chars,
                "–" if judgement.consistent is None else "yes" if judgement.consistent else "no",
                judgement.error,
                shorten(judgement.reasons, 600),
            ]
        )
        for criterion in judgement.criteria:
            criteria.append(
                [
                    episode.id,
                    criterion.criterion,
                    _MARK[criterion.met],
                    shorten(criterion.reason, 300),
                    ", ".join(map(str, criterion.shown_at)),
                ]
            )
    return Section(
        title="Judged",
        notes=notes,
        tables=[
            SectionTable(
                caption="verdicts",
                columns=[
                    *("episode", "task", "verdict", "met", "chars", "orders agree"),
                    *("judge error", "judge's reasons"),
                ],
                rows=episodes,
            ),
            SectionTable(
                caption="must-haves",
                columns=["episode", "must-have", "judged", "reason", "shown at"],
                rows=criteria,
            ),
        ],
    )
