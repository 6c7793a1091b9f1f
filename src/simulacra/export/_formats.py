"""Export formats: one registry entry each, built-ins included.

A format is either of episodes (each kept episode may become a row: ``sft``, ``kto``) or
of pairs (each judged pair may become a row: ``dpo``, ``pairs``), and says what its card
tells about it: the trainer it is for, its columns and its own diagnostics. A package of
your own adds one with ``export_formats.add("name", ExportFormat(...))``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from simulacra.export._rows import (
    Conversation,
    Correct,
    PairSides,
    Votes,
    dpo_row,
    kto_row,
    pairs_row,
    sft_row,
    split_final_reply,
)
from simulacra.registry import Registry
from simulacra.rundir import Episode

if TYPE_CHECKING:
    from simulacra.export._export import ExportConfig

Row = dict[str, Any]
EpisodeRow = Callable[[Episode, Conversation, "float | None", "ExportConfig"], "Row | str"]
"""An episode (kept by the filters), its conversation and judge score → a row, or why not."""
PairRow = Callable[[Votes, PairSides, Episode, "Episode | None", "Correct | None"], "Row | str"]
"""A judged pair with a decided verdict → a row, or why not."""


@dataclass(frozen=True, kw_only=True)
class ExportFormat:
    """One dataset format: how its rows are made and what its card says of them."""

    trainer: str
    """What the data is for (the card's first line)."""
    columns: Sequence[tuple[str, str]]
    """The format's own columns and what they mean (the card's table)."""
    episode_row: EpisodeRow | None = None
    pair_row: PairRow | None = None
    outcome_filters: bool = False
    """Whether the success and judge-score filters apply (formats that need failures too
    refuse them)."""
    diagnostics: Callable[[Sequence[Row]], list[str]] | None = None
    """The format's own lines of the card's diagnostics."""

    def __post_init__(self) -> None:
        if (self.episode_row is None) == (self.pair_row is None):
            raise ValueError("an export format makes rows of episodes or of pairs, one of them")

    @property
    def unit(self) -> Literal["episode", "pair"]:
        return "episode" if self.episode_row is not None else "pair"


export_formats: Registry[ExportFormat] = Registry("export format")
"""Format name (``--format``) → ``ExportFormat``."""


def share(values: Sequence[bool]) -> str:
    """``0.625 of 8``: the share of true values and how many there are."""
    return f"{sum(values) / len(values):.3f} of {len(values)}" if values else "n/a"


# --- sft ----------------------------------------------------------------------------------


def _sft(episode: Episode, conversation: Conversation, score: float | None, _: Any) -> Row | str:
    if not any(m["role"] == "assistant" for m in conversation.messages):
        return "no assistant reply"
    return sft_row(episode, conversation, score)


export_formats.add(
    "sft",
    ExportFormat(
        trainer="trl.SFTTrainer",
        columns=[
            (
                "messages",
                "the conversation in the chat format (role, content, tool_calls, "
                "tool_call_id, name), from the assistant's point of view",
            ),
            ("message_source", "who wrote each message: system, simulated_user, target or tool"),
        ],
        episode_row=_sft,
        outcome_filters=True,
    ),
)


# --- kto ----------------------------------------------------------------------------------


def _kto(
    episode: Episode, conversation: Conversation, score: float | None, config: ExportConfig
) -> Row | str:
    if config.label_from == "success":
        label = episode.success
    else:
        label = None if score is None else score >= config.rating_threshold
    split = split_final_reply(conversation)
    if label is None:
        return "no label"
    if split is None:
        return "no assistant reply"
    return kto_row(episode, *split, label=label, judge_score=score)


def _kto_diagnostics(rows: Sequence[Row]) -> list[str]:
    return [f"- desirable (label true): {share([bool(r['label']) for r in rows])}"]


export_formats.add(
    "kto",
    ExportFormat(
        trainer="trl.KTOTrainer",
        columns=[
            ("prompt", "the conversation up to the last user turn"),
            ("completion", "the assistant's final reply to it (tool calls and results included)"),
            (
                "label",
                "desirable (true) or not: the task check, or the mean rubric score against a "
                "threshold",
            ),
            ("prompt_source, completion_source", "who wrote each message"),
        ],
        episode_row=_kto,
        diagnostics=_kto_diagnostics,
    ),
)


# --- dpo ----------------------------------------------------------------------------------


def _dpo(
    votes: Votes,
    sides: PairSides,
    episode_a: Episode,
    episode_b: Episode | None,
    correct: Correct | None,
) -> Row | str:
    verdict = votes.verdict()
    if verdict == "tie":
        return "tie"
    return dpo_row(votes, sides, verdict, episode_a, episode_b, correct=correct)


def _dpo_diagnostics(rows: Sequence[Row]) -> list[str]:
    longer = [bool(r["chosen_longer"]) for r in rows]
    correct = [bool(r["correct_chosen"]) for r in rows if r.get("correct_chosen") is not None]
    return [
        f"- the chosen side is the longer: {share(longer)} (0.5: no length lean)",
        f"- the chosen side passed its task check: {share(correct)}",
    ]


export_formats.add(
    "dpo",
    ExportFormat(
        trainer="trl.DPOTrainer",
        columns=[
            ("prompt", "the messages both sides share, ending on the user turn they answer"),
            ("chosen", "the preferred continuation"),
            ("rejected", "the other continuation"),
            (
                "prompt_source, chosen_source, rejected_source",
                "who wrote each message (simulated_user, target, tool, reference)",
            ),
            ("chosen_side", "A or B: which side of the judged pair was preferred"),
            ("preference", "the chosen side's mean score over the raters (A 1, tie 0.5, B 0)"),
            ("raters, abstentions", "raters that gave a verdict, and that abstained"),
            ("agreement", "share of the raters' verdicts that agree with the choice"),
            (
                "swap_consistent",
                "judged in both orders: the same verdict both ways (null: one order only)",
            ),
            (
                "winner_shown_first",
                "share of verdicts where the chosen side was shown first (position bias)",
            ),
            (
                "len_chosen, len_rejected, chosen_longer",
                "characters the assistant wrote on each side (verbosity bias)",
            ),
            (
                "correct_chosen, correct_rejected",
                "each side's task check (a reference counts as correct; null for a best-of-n "
                "candidate)",
            ),
        ],
        pair_row=_dpo,
        diagnostics=_dpo_diagnostics,
    ),
)


# --- pairs --------------------------------------------------------------------------------


def _pairs(
    votes: Votes,
    sides: PairSides,
    episode_a: Episode,
    episode_b: Episode | None,
    correct: Correct | None,
) -> Row | str:
    return pairs_row(votes, sides, episode_a, episode_b, correct=correct)


def _pairs_diagnostics(rows: Sequence[Row]) -> list[str]:
    decided = [r for r in rows if r["verdict"] != "tie"]
    longer = [(r["len_a"] > r["len_b"]) == (r["verdict"] == "A") for r in decided]
    correct = [
        bool(r["correct_a" if r["verdict"] == "A" else "correct_b"])
        for r in decided
        if r.get("correct_a" if r["verdict"] == "A" else "correct_b") is not None
    ]
    scores = [r["score_a"] for r in rows]
    return [
        f"- the preferred side is the longer: {share(longer)} (ties left out)",
        f"- ties: {share([r['verdict'] == 'tie' for r in rows])}",
        f"- the preferred side passed its task check: {share(correct)}",
        f"- side A's mean score: {statistics.fmean(scores):.3f}",
    ]


export_formats.add(
    "pairs",
    ExportFormat(
        trainer="reward modelling or rater studies",
        columns=[
            ("prompt", "the messages both responses share"),
            (
                "response_a, response_b",
                "the two responses as judged (A: the earlier repeat, the episode against the "
                "reference, or the best-of-n champion)",
            ),
            ("verdict", "the raters' verdict: A, B or tie (mean score rounded)"),
            ("score_a", "side A's mean score over the raters (A 1, tie 0.5, B 0)"),
            ("agreement, swap_consistent, winner_shown_first, len_a, len_b", "as in dpo"),
        ],
        pair_row=_pairs,
        diagnostics=_pairs_diagnostics,
    ),
)
