"""A run directory as a training dataset: which episodes and judgements become rows.

:func:`build_dataset` reads a run only through :class:`~simulacra.rundir.RunDir` and
returns the rows with counts of what was left out and why; :func:`export_run` also
writes them (see :mod:`simulacra.export._write`). Formats:

- ``sft``: one conversation per episode (``messages``), for ``SFTTrainer``;
- ``dpo``: ``prompt``/``chosen``/``rejected`` from the raters' pairwise verdicts in
  ``feedback.jsonl`` (ties and abstentions dropped), for ``DPOTrainer``;
- ``kto``: ``prompt``/``completion``/``label`` per episode, the label from the task check
  or the judges' ratings, for ``KTOTrainer``;
- ``pairs``: every judged pair with both responses and the verdict, ties kept (reward
  models, rater studies).
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from simulacra._records import read_json
from simulacra.errors import ConfigError
from simulacra.export._formats import ExportFormat, export_formats
from simulacra.export._rows import (
    PairSides,
    Span,
    Votes,
    best_of_n_pairs,
    episode_conversation,
    judge_scores,
    pairwise_votes,
    reference_conversation,
    shared_prompt,
    split_final_reply,
)
from simulacra.rundir import EPISODES, FEEDBACK, Episode, FeedbackRecord, RunDir

FORMATS = ("sft", "dpo", "kto", "pairs")
"""The built-in formats (``export_formats`` has them and any a plugin adds)."""
FileFormat = Literal["jsonl", "parquet"]


class ExportConfig(BaseModel):
    """What to export and which episodes to keep. Globs (``fnmatch``) match persona
    names, task ids and modes; an empty list keeps every one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = Field(default="sft", description="a name in export_formats")
    successful_only: bool = Field(
        default=False, description="sft: only episodes whose task check passed"
    )
    min_judge_score: float | None = Field(
        default=None, description="sft: only episodes whose mean rubric score is at least this"
    )
    no_fallbacks: bool = Field(
        default=False, description="leave out episodes where a user guard fell back"
    )
    verified: bool = Field(
        default=False,
        description="sft: only tool-task episodes whose final environment state matches the "
        "ground truth, with every required output said and no policy violation",
    )
    personas: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    system_prompt: bool = Field(default=True, description="keep the target's system prompt")
    span: Span = Field(
        default="reply",
        description="dpo/pairs: each side is the reply to the shared prompt, or the rest "
        "of its conversation",
    )
    best_of_n: bool = Field(
        default=True,
        description="dpo/pairs: also the rater's choices between best-of-n candidates",
    )
    label_from: Literal["success", "rating"] = Field(
        default="success", description="kto: the label is the task check or the rubric score"
    )
    rating_threshold: float = Field(
        default=4.0, description="kto with label_from=rating: desirable at this mean score"
    )
    compare: tuple[str, ...] = Field(
        default=(),
        description="dpo/pairs: comparison files of `simulacra compare` (RUN/compare_B.json) "
        "whose judgements of this run against another become pairs too",
    )
    files: tuple[FileFormat, ...] = ("jsonl", "parquet")

    @field_validator("format")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in export_formats:
            known = ", ".join(export_formats.names())
            raise ValueError(f"unknown export format {value!r} (known: {known})")
        return value

    @model_validator(mode="after")
    def _fits_format(self) -> ExportConfig:
        outcomes = export_formats.get(self.format).outcome_filters
        if not outcomes and self.successful_only:
            raise ValueError(
                f"successful_only is not for {self.format} (it needs the failures too)"
            )
        if not outcomes and self.min_judge_score is not None:
            raise ValueError(f"min_judge_score is not for {self.format}")
        if not outcomes and self.verified:
            raise ValueError(f"verified is not for {self.format} (it keeps successes only)")
        if self.compare and export_formats.get(self.format).unit != "pair":
            raise ValueError(f"compare is for formats of pairs (dpo, pairs), not {self.format}")
        if not self.files:
            raise ValueError("files: name at least one of jsonl, parquet")
        if len(set(self.files)) != len(self.files):
            raise ValueError("files: a file format is named twice")
        return self

    def filters(self) -> dict[str, Any]:
        """The settings in force, for the dataset card (those of pairs only for a format
        of pairs)."""
        episodes = export_formats.get(self.format).unit == "episode"
        return {
            key: value
            for key, value in self.model_dump(mode="json").items()
            if key != "files"
            and value not in ((), [], None)
            and not (key in ("span", "best_of_n", "compare") and episodes)
            and not (key in ("label_from", "rating_threshold") and self.format != "kto")
        }


@dataclass(kw_only=True)
class Dataset:
    """The rows of an export and what the card says about them."""

    format: str
    rows: list[dict[str, Any]]
    run: RunDir
    config: ExportConfig
    episodes_read: int
    dropped: Counter[str] = field(default_factory=Counter)
    episodes: list[Episode] = field(default_factory=list)
    feedback: list[FeedbackRecord] = field(default_factory=list)


def _matches(value: str, patterns: Sequence[str]) -> bool:
    return not patterns or any(fnmatch.fnmatchcase(value, p) for p in patterns)


def _why_not(episode: Episode, config: ExportConfig) -> str | None:
    """Why the filters leave an episode out (None: it stays)."""
    if episode.status != "ok":
        return "the episode errored"
    if not _matches(episode.persona.name, config.personas):
        return "persona not selected"
    if not _matches(episode.task.id, config.tasks):
        return "task not selected"
    if not _matches(episode.mode, config.modes):
        return "mode not selected"
    if config.no_fallbacks and any(g.action == "fallback" for g in episode.guard_events):
        return "a user guard fell back"
    return None


def system_prompt_of(run: RunDir) -> str | None:
    """The target's system prompt from the run's ``config.json`` (a model or best-of-n
    target's own; an HTTP or callable target adds none, whatever its config holds)."""
    target = (run.config() or {}).get("target")
    if not isinstance(target, dict) or target.get("type", "model") in ("http", "callable"):
        return None
    prompt = target.get("system_prompt")
    return prompt if isinstance(prompt, str) and prompt.strip() else None


def build_dataset(run_dir: str | Path | RunDir, config: ExportConfig | None = None) -> Dataset:
    """The rows ``config`` asks for from a run directory (``RunError`` if it is not one;
    ``ConfigError`` when nothing is left to export, saying why)."""
    config = config or ExportConfig()
    run = run_dir if isinstance(run_dir, RunDir) else RunDir.open(run_dir)
    episodes = run.episodes()
    feedback = run.feedback() if run.file(FEEDBACK).exists() else []
    scores = judge_scores(feedback)
    system = system_prompt_of(run) if config.system_prompt else None
    dropped: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    kind = export_formats.get(config.format)
    if kind.episode_row is not None:
        for episode in episodes:
            reason = _why_not(episode, config)
            score = scores.get(episode.id)
            if reason is None and kind.outcome_filters:
                reason = _outcome_reason(episode, score, config)
            if reason is None:
                conversation = episode_conversation(episode, system_prompt=system)
                row = kind.episode_row(episode, conversation, score, config)
                if isinstance(row, str):
                    reason = row
                else:
                    rows.append(row)
            if reason is not None:
                dropped[reason] += 1
    else:
        chosen = [e for e in episodes if config.best_of_n and _has_best_of_n(e)]
        compared, others = _comparisons(run, config.compare)
        if not any(r.kind == "pairwise" for r in feedback) and not chosen and not compared:
            raise ConfigError(
                f"{config.format} needs pairwise judgements: run `simulacra judge` on the run "
                "first (it has no pairwise judgements in feedback.jsonl, and no best-of-n "
                "choices in its episodes)",
                source=str(run.path),
            )
        by_id = {e.id: e for e in [*episodes, *others]}
        for votes in pairwise_votes([*feedback, *compared]):
            _keep(_pair_row(votes, by_id, config, system, kind), rows, dropped)
        feedback = [*feedback, *compared]
        episodes = [*episodes, *others]
        for episode in chosen:
            for item in _best_of_n_rows(episode, config, system, kind):
                _keep(item, rows, dropped)
    if not rows:
        detail = "; ".join(f"{reason}: {n}" for reason, n in dropped.most_common()) or "none"
        read = (
            f"{len(episodes)} episodes"
            if kind.unit == "episode"
            else f"{sum(dropped.values())} judged pairs"
        )
        raise ConfigError(
            f"nothing to export as {config.format}: no row is left of {read} (left out: {detail})",
            source=str(run.path),
        )
    return Dataset(
        format=config.format,
        rows=rows,
        run=run,
        config=config,
        episodes_read=len(episodes),
        dropped=dropped,
        episodes=episodes,
        feedback=feedback,
    )


def _comparisons(run: RunDir, paths: Sequence[str]) -> tuple[list[FeedbackRecord], list[Episode]]:
    """The judgements of ``simulacra compare`` files of this run (side A) against
    others, and the other runs' episodes (a ``ConfigError`` naming the file when it is
    not a comparison of this run or its other run cannot be read)."""
    judgements: list[FeedbackRecord] = []
    others: list[Episode] = []
    for name in paths:
        path = Path(name)
        data = read_json(path, what="comparison file")
        if not isinstance(data, dict) or not isinstance(data.get("judgements"), list):
            raise ConfigError("not a comparison file of `simulacra compare`", source=name)
        if Path(str(data.get("run_a", ""))).name != run.path.name:
            raise ConfigError(
                f"a comparison of {data.get('run_a')!r}, not of this run ({run.path.name}); "
                "export it from its own run A",
                source=name,
            )
        written = Path(str(data.get("run_b", "")))
        candidates = [written, path.parent.parent / written.name, run.path.parent / written.name]
        other = next((c for c in candidates if (c / EPISODES).is_file()), None)
        if other is None:
            raise ConfigError(f"the other run {str(written)!r} is not found", source=name)
        others.extend(RunDir.open(other).episodes())
        for index, record in enumerate(data["judgements"]):
            try:
                judgements.append(FeedbackRecord.from_dict(record))
            except (ValidationError, TypeError, AttributeError):
                raise ConfigError(
                    "a judgement that cannot be read", source=name, field=f"judgements[{index}]"
                ) from None
    return judgements, others


def _keep(item: dict[str, Any] | str, rows: list[dict[str, Any]], dropped: Counter[str]) -> None:
    if isinstance(item, str):
        dropped[item] += 1
    else:
        rows.append(item)


def unverified(episode: Episode) -> str | None:
    """Why an episode is not a verified trajectory (None: it is one): it must be a
    tool-environment task whose final state matches the replayed ground truth, with
    every required output said, no coded policy violated and a ground truth that
    replayed without error."""
    check = episode.check or {}
    verdict = check.get("extracted")
    if not isinstance(verdict, dict) or "hash_match" not in verdict:
        return "not a tool-environment task (nothing to verify)"
    if verdict.get("replay_errors"):
        return "the ground truth did not replay cleanly"
    if verdict.get("hash_match") is not True:
        return "the final environment state differs from the ground truth"
    if verdict.get("missing_outputs"):
        return "a required output was not said"
    if verdict.get("violations"):
        return "a policy violation"
    if episode.success is not True:
        return "the task check did not pass"
    return None


def _outcome_reason(episode: Episode, score: float | None, config: ExportConfig) -> str | None:
    if config.verified and (reason := unverified(episode)) is not None:
        return reason
    if config.successful_only and episode.success is not True:
        return "the task check did not pass"
    if config.min_judge_score is not None:
        if score is None:
            return "no judge score"
        if score < config.min_judge_score:
            return "judge score below the minimum"
    return None


def _pair_row(
    votes: Votes,
    by_id: dict[str, Episode],
    config: ExportConfig,
    system: str | None,
    kind: ExportFormat,
) -> dict[str, Any] | str:
    """A row of a judged pair, or why it is left out."""
    assert kind.pair_row is not None
    first = votes.first
    if not votes.decided:
        return "every rater abstained"
    id_a, id_b = first.get("episode_a"), first.get("episode_b")
    episode_a = by_id.get(str(id_a))
    episode_b = None if id_b is None else by_id.get(str(id_b))
    if episode_a is None or (id_b is not None and episode_b is None):
        return "an episode of the pair is not in the run"
    for episode in (episode_a, episode_b):
        if episode is not None and (reason := _why_not(episode, config)) is not None:
            return reason
    sides = _sides(episode_a, episode_b, config, system)
    if isinstance(sides, str):
        return sides
    return kind.pair_row(votes, sides, episode_a, episode_b, None)


def _has_best_of_n(episode: Episode) -> bool:
    return any("best_of_n" in m.meta for m in episode.messages if m.role == "assistant")


def _best_of_n_rows(
    episode: Episode, config: ExportConfig, system: str | None, kind: ExportFormat
) -> Iterator[dict[str, Any] | str]:
    """The rows of an episode's best-of-n comparisons (two candidates to one turn, the
    one the rater preferred chosen; abstentions dropped, as for judgements), or why each
    is left out."""
    assert kind.pair_row is not None
    reason = _why_not(episode, config)
    conversation = episode_conversation(episode, system_prompt=system)
    offset = 1 if system else 0
    for item in best_of_n_pairs(episode, conversation, offset=offset):
        if isinstance(item, str):
            yield item
            continue
        votes, sides = item
        if reason is not None:
            yield reason
        elif not votes.decided:
            yield "the best-of-n rater gave no verdict"
        else:
            yield kind.pair_row(votes, sides, episode, episode, (None, None))


def _sides(
    episode_a: Episode, episode_b: Episode | None, config: ExportConfig, system: str | None
) -> PairSides | str:
    conversation_a = episode_conversation(episode_a, system_prompt=system)
    if episode_b is None:  # the reference pairing: the final answer against the reference
        reference = (episode_a.task.reference or "").strip()
        split = split_final_reply(conversation_a)
        if not reference or split is None:
            return "no final answer or no reference to pair it with"
        prompt, reply = split
        return PairSides(prompt=prompt, a=reply, b=reference_conversation(reference))
    conversation_b = episode_conversation(episode_b, system_prompt=system)
    return shared_prompt(conversation_a, conversation_b, config.span)
