"""Judging run directories: ``simulacra judge`` and ``simulacra compare`` in library form.

Pairing within one run (``judge``), chosen by ``pairing`` in raters.yaml:

- ``repeats``: episodes of the same persona × task are paired in repeat order
  (0 with 1, 1 with 2, ...; A is the earlier repeat). Both sides come from the same
  system, so the win rate says little; the pairs measure the raters (position and
  verbosity bias, agreement) and how much repeats of one system differ.
- ``reference``: each episode's final answer (A) against the task's reference solution
  (B), where the task has one: the win rate is how often the system beats the reference.

Between two runs (``compare``), episodes are matched by persona × task × mode × repeat (their
seed, when both runs use the same base seed) and A is always run A.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulacra._records import RunLock, read_jsonl_values, write_json_atomic
from simulacra.errors import (
    ConfigError,
    StorageError,
    describe_error,
    first_error,
    stops_run,
)
from simulacra.feedback._config import KINDS, Kind, RatersConfig, parse_raters_config
from simulacra.feedback._diagnostics import (
    bias_report,
    human_report,
    implicit_report,
    majority,
    rubric_report,
    win_rates,
)
from simulacra.feedback._implicit import ImplicitRules, classify_turns, label_turns
from simulacra.feedback._items import (
    PairItem,
    ResponseItem,
    conversation,
    episode_content,
    episode_context,
    final_answer,
    judgeable,
    record_key,
)
from simulacra.feedback._kinds import (
    Critic,
    RaterContext,
    Rubric,
    Satisfaction,
    critique_kinds,
    model_identity,
    rater_kinds,
    rubric_kinds,
)
from simulacra.feedback._pairwise import PairRater, RaterPool
from simulacra.feedback._store import FeedbackStore, read_feedback
from simulacra.llm import ChatModel, ModelConfig, ModelPool
from simulacra.registry import SAVED_CONTEXT
from simulacra.rundir import (
    CONFIG,
    FEEDBACK_SUMMARY,
    Comparison,
    Episode,
    FailedJudgements,
    FeedbackRecord,
    FeedbackSummary,
    RunDir,
    SkippedPair,
    match_key,
)
from simulacra.stats import VERDICT_SCORE

Progress = Callable[[str, int], None]
"""Called with (kind, number of judgements of that kind written so far)."""


# --- identities ---------------------------------------------------------------------------


def target_identity(run_dir: Path) -> str | None:
    """The model identity of a run's target, from its ``config.json`` (None if unknown)."""
    path = run_dir / CONFIG
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        target = data.get("target") or {}
        kind = target.get("type", "model")
        if kind == "http":
            return f"openai:{str(target.get('base_url', '')).rstrip('/')}#{target.get('model_id')}"
        if kind == "callable":
            return f"callable:{target.get('callable')}"
        saved = data["models"][target.get("model")]
        return model_identity(ModelConfig.model_validate(saved, context=SAVED_CONTEXT))
    except (OSError, ValueError, KeyError, TypeError):
        return None


# --- inputs -------------------------------------------------------------------------------


def load_episodes(run_dir: str | Path) -> list[Episode]:
    """The episodes of a run directory (each id once); ``RunError`` if it is not one."""
    return RunDir.open(run_dir).episodes()


def load_human_labels(path: str | Path) -> dict[str, str]:
    """Human verdicts per item from JSONL: ``item_id`` and ``verdict`` (or ``preference``),
    ``"A"``, ``"B"`` or ``"tie"``. Several lines for one item (several annotators) are
    combined by majority: the mean score (A 1, tie ½, B 0) rounded to a verdict."""
    path = Path(path)
    scores: dict[str, list[float]] = defaultdict(list)
    for number, data in read_jsonl_values(path, what="human label file"):
        label = data.get("verdict", data.get("preference")) if isinstance(data, dict) else None
        if not isinstance(data, dict) or "item_id" not in data or label is None:
            raise ConfigError(
                "expected an object with item_id and verdict",
                source=str(path),
                field=f"line {number}",
            )
        score = VERDICT_SCORE.get(
            {"a": "A", "b": "B", "tie": "tie"}.get(str(label).strip().lower(), "")
        )
        if score is None:
            raise ConfigError(
                f"verdict must be A, B or tie, got {label!r}",
                source=str(path),
                field=f"line {number}",
            )
        scores[str(data["item_id"])].append(score)
    return {item_id: majority(values) for item_id, values in scores.items()}


def check_label_ids(labels: Mapping[str, str], known: set[str], *, source: str) -> None:
    """Every labelled item must be one of the items judged; else a ``ConfigError``."""
    unknown = sorted(set(labels) - known)
    if unknown:
        shown = ", ".join(repr(i) for i in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise ConfigError(
            f"{len(unknown)} unknown item id(s), not among the items judged: {shown}",
            source=source,
        )


def _pair_meta(pairing: str, a: Episode, b: Episode | None) -> dict[str, Any]:
    return {
        "pairing": pairing,
        "episode_a": a.id,
        "episode_b": None if b is None else b.id,
        "correct_a": a.success,
        "correct_b": True if b is None else b.success,
        "persona": a.persona.name,
        "task": a.task.id,
    }


def within_run_pairs(
    episodes: Sequence[Episode], config: RatersConfig
) -> tuple[list[PairItem], list[dict[str, Any]]]:
    """Pairs inside one run (see the module docstring), and the pairs left out, with why."""
    items: list[PairItem] = []
    skipped: list[dict[str, Any]] = []
    usable = [e for e in episodes if judgeable(e)]
    if "repeats" in config.pairing:
        groups: dict[tuple[str, str, str], list[Episode]] = defaultdict(list)
        for episode in usable:
            persona, task, mode, _ = match_key(episode)
            groups[(persona, task, mode)].append(episode)
        for group in groups.values():
            group.sort(key=lambda e: (e.repeat, e.id))
            for a, b in itertools.pairwise(group):
                item_id = f"repeats:{a.id}:{b.id}"
                try:
                    items.append(
                        PairItem.from_contexts(
                            item_id,
                            context_a=episode_context(a),
                            response_a=episode_content(a, config.unit),
                            context_b=episode_context(b),
                            response_b=episode_content(b, config.unit),
                            meta=_pair_meta("repeats", a, b),
                        )
                    )
                except ConfigError as exc:
                    skipped.append({"item_id": item_id, "reason": str(exc)})
    if "reference" in config.pairing:
        for episode in usable:
            reference = (episode.task.reference or "").strip()
            if not reference:
                continue
            items.append(
                PairItem(
                    item_id=f"reference:{episode.id}",
                    context=episode_context(episode),
                    response_a=final_answer(episode),
                    response_b=reference,
                    meta=_pair_meta("reference", episode, None),
                )
            )
    return items, skipped


def between_run_pairs(
    episodes_a: Sequence[Episode],
    episodes_b: Sequence[Episode],
    config: RatersConfig,
) -> tuple[list[PairItem], dict[str, Any]]:
    """Pairs of run A's and run B's episodes with the same persona × task × mode × repeat."""
    by_a = {match_key(e): e for e in episodes_a if judgeable(e)}
    by_b = {match_key(e): e for e in episodes_b if judgeable(e)}
    items: list[PairItem] = []
    skipped: list[dict[str, Any]] = []
    seeds_match = 0
    for key in sorted(by_a.keys() & by_b.keys()):
        a, b = by_a[key], by_b[key]
        item_id = "compare:" + ":".join(map(str, key))
        meta = _pair_meta("compare", a, b)
        meta["seed_a"], meta["seed_b"] = a.seed, b.seed
        seeds_match += a.seed == b.seed
        try:
            items.append(
                PairItem.from_contexts(
                    item_id,
                    context_a=episode_context(a),
                    response_a=episode_content(a, config.unit),
                    context_b=episode_context(b),
                    response_b=episode_content(b, config.unit),
                    meta=meta,
                )
            )
        except ConfigError as exc:
            skipped.append({"item_id": item_id, "reason": str(exc)})
    matching = {
        "matched": len(items),
        "seeds_match": seeds_match,
        "only_in_a": ["/".join(map(str, k)) for k in sorted(by_a.keys() - by_b.keys())],
        "only_in_b": ["/".join(map(str, k)) for k in sorted(by_b.keys() - by_a.keys())],
        "not_judgeable_a": sum(1 for e in episodes_a if not judgeable(e)),
        "not_judgeable_b": sum(1 for e in episodes_b if not judgeable(e)),
        "skipped": skipped,
    }
    return items, matching


# --- raters -------------------------------------------------------------------------------


@dataclass(kw_only=True)
class RaterSet:
    """The raters a config describes, built on one ``ModelPool``."""

    pool: RaterPool
    rater_models: dict[str, str | None]
    rubric: Rubric | None = None
    satisfaction: Satisfaction | None = None
    critique: Critic | None = None
    implicit_model: ChatModel | None = None
    implicit_rater: str = "rules"
    described: dict[str, dict[str, Any]] = field(default_factory=dict)


def build_raters(config: RatersConfig, models: ModelPool) -> RaterSet:
    """Build every rater of ``config``; models are built once per ``models`` key."""
    built: dict[str, ChatModel] = {}

    def model(key: str) -> ChatModel:
        if key not in built:
            built[key] = models.build(config.models[key], seed=config.seed)
        return built[key]

    raters: list[PairRater] = []
    weights: list[float] = []
    described: dict[str, dict[str, Any]] = {}
    for index, spec in enumerate(config.pool):
        build = rater_kinds.get(spec.kind)
        context = RaterContext(config=config, model=model, where=f"pool[{index}]")
        for member in build(spec, spec.options, context):
            raters.append(member.rater)
            weights.append(member.weight)
            described[member.rater.id] = member.described
    pool = RaterPool(
        raters,
        weights=weights,
        noise=config.noise,
        both_orders=config.both_orders,
        judges_per_item=config.judges_per_item,
        seed=config.seed,
    )
    result = RaterSet(
        pool=pool, rater_models={r.id: r.model_identity for r in raters}, described=described
    )
    if config.rubric is not None:
        build_rubric = rubric_kinds.get(config.rubric.kind)
        parts = build_rubric(
            config.rubric,
            config.rubric.options,
            RaterContext(config=config, model=model, where="rubric"),
        )
        result.rubric, result.satisfaction = parts.rubric, parts.satisfaction
    if config.critique is not None:
        build_critique = critique_kinds.get(config.critique.kind)
        result.critique = build_critique(
            config.critique,
            config.critique.options,
            RaterContext(config=config, model=model, where="critique"),
        )
    if config.implicit.model is not None:
        result.implicit_model = model(config.implicit.model)
        result.implicit_rater = f"rules+{config.implicit.model}"
    return result


def resolve_kinds(config: RatersConfig, kinds: Sequence[str] | None) -> list[Kind]:
    """The kinds to produce: the ones asked for (checked), or every kind the config has."""
    if not kinds:
        return config.kinds()
    chosen: list[Kind] = []
    for kind in kinds:
        name = kind.strip()
        if name not in KINDS:
            raise ConfigError(f"unknown kind {name!r} (known: {', '.join(KINDS)})", field="kinds")
        if name not in config.kinds():
            raise ConfigError(
                f"kind {name!r} needs a `{name}:` section in the raters config",
                source=config.source,
                field=name,
            )
        if name not in chosen:
            chosen.append(name)
    return chosen


async def _bounded(
    jobs: Sequence[Callable[[], Awaitable[None]]], concurrency: int, failures: list[str]
) -> None:
    """Run the jobs, ``concurrency`` at once; a job that raises is noted in ``failures``
    and the others go on (a refusal of the credentials stops them all)."""
    limit = asyncio.Semaphore(max(1, concurrency))

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        async with limit:
            try:
                await job()
            except Exception as exc:
                if stops_run(exc):
                    raise
                failures.append(describe_error(exc))

    try:
        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(run(job))
    except BaseExceptionGroup as error:
        raise first_error(error) from None


# --- judge --------------------------------------------------------------------------------


@dataclass(kw_only=True)
class JudgeResult:
    """What ``judge_run`` left in the run directory."""

    run_dir: Path
    summary: FeedbackSummary
    written: int = 0
    already: int = 0


def _response_item(episode: Episode, config: RatersConfig) -> ResponseItem:
    return ResponseItem(
        item_id=f"episode:{episode.id}",
        context=episode_context(episode),
        response=episode_content(episode, config.unit),
        persona=_persona(episode),
        episode=episode.id,
        meta={"goal": episode.task.goal},
    )


def _persona(episode: Episode) -> dict[str, Any] | None:
    """The persona's attributes as a rater reads them (None for an unnamed one)."""
    data = episode.persona.model_dump(mode="json")
    return data if any(v not in (None, "", [], {}) for v in data.values()) else None


async def ajudge_run(
    run_dir: str | Path,
    config: RatersConfig | None = None,
    *,
    kinds: Sequence[str] | None = None,
    human_labels: str | Path | None = None,
    overwrite: bool = False,
    use_cache: bool = True,
    pool: ModelPool | None = None,
    progress: Progress | None = None,
) -> JudgeResult:
    """Judge the episodes of ``run_dir``; write ``feedback.jsonl`` and ``feedback_summary.json``.

    Judgements already in ``feedback.jsonl`` (same raters config) are kept and skipped.
    """
    run_dir = Path(run_dir)
    config = config or parse_raters_config(None)
    episodes = load_episodes(run_dir)
    chosen = resolve_kinds(config, kinds)
    items, skipped = within_run_pairs(episodes, config) if "pairwise" in chosen else ([], [])
    usable = [e for e in episodes if judgeable(e)]
    labels: dict[str, str] = {}
    if human_labels is not None:
        if "pairwise" not in chosen:
            raise ConfigError(
                "human labels are pairwise verdicts: judge the pairwise kind with them",
                source=str(human_labels),
            )
        labels = load_human_labels(human_labels)
        check_label_ids(labels, {i.item_id for i in items}, source=str(human_labels))
    store = FeedbackStore(run_dir)
    owns_pool = pool is None
    models = pool or ModelPool(use_cache=use_cache)
    lock = RunLock(run_dir, purpose=f"simulacra judge {run_dir.name}")
    counts: dict[str, int] = defaultdict(int)
    written = 0
    failures: list[str] = []

    def write(record: Mapping[str, Any]) -> None:
        nonlocal written
        try:
            appended = store.append(record)
        except OSError as exc:
            raise StorageError.from_os_error(exc, doing="writing a judgement") from None
        if appended:
            written += 1
            counts[str(record["kind"])] += 1
            if progress is not None:
                progress(str(record["kind"]), counts[str(record["kind"])])

    try:
        raters = build_raters(config, models)  # before anything is written
        try:
            lock.acquire()
            already = store.prepare(
                config.fingerprint(), overwrite=overwrite, upgrade=RatersConfig.saved_fingerprint
            )
            store.open()
        except OSError as exc:
            raise StorageError.from_os_error(exc, doing="preparing the feedback files") from None
        if "pairwise" in chosen:
            await raters.pool.judge_all(
                items,
                concurrency=config.concurrency,
                skip=lambda key: key in store.done,
                on_judgement=lambda judgement: write(judgement.to_record()),
                failures=failures,
            )
        jobs: list[Callable[[], Awaitable[None]]] = []
        for episode in usable:
            item = _response_item(episode, config)
            seed = episode.seed + config.seed
            rubric, satisfaction, critique = raters.rubric, raters.satisfaction, raters.critique
            if "rubric" in chosen and rubric is not None:
                keys = [
                    record_key("rubric", item.item_id, rubric.id, d.name) for d in rubric.dimensions
                ]
                if not all(k in store.done for k in keys):
                    jobs.append(_rubric_job(rubric, item, seed, write))
                if satisfaction is not None and (
                    record_key("rubric", item.item_id, satisfaction.id, "satisfaction")
                    not in store.done
                ):
                    conversation_item = ResponseItem(
                        item_id=item.item_id,
                        context=item.context,
                        response=conversation(episode),
                        persona=item.persona,
                        episode=item.episode,
                        meta=item.meta,
                    )
                    jobs.append(_satisfaction_job(satisfaction, conversation_item, seed, write))
            critique_key = record_key("critique", item.item_id, critique.id) if critique else ""
            if "critique" in chosen and critique is not None and critique_key not in store.done:
                jobs.append(_critique_job(critique, item, seed, write))
        if "implicit" in chosen:
            rules = ImplicitRules(
                rephrase_threshold=config.implicit.rephrase_threshold,
                topic_threshold=config.implicit.topic_threshold,
            )
            for episode in episodes:
                if episode.messages:
                    jobs.append(_implicit_job(episode, raters, rules, config, store.done, write))
        await _bounded(jobs, config.concurrency, failures)
    finally:
        try:
            store.close()
        finally:
            lock.release()
            if owns_pool:
                await asyncio.shield(models.aclose())
    records = read_feedback(run_dir)
    summary = summarize_feedback(
        records,
        run=run_dir.name,
        config=config,
        kinds=chosen,
        rater_models=raters.rater_models,
        described=raters.described,
        target=target_identity(run_dir),
        labels=labels,
    )
    summary.skipped_pairs = [SkippedPair.model_validate(pair) for pair in skipped]
    summary.failed_judgements = FailedJudgements(count=len(failures), first=failures[:5])
    try:
        write_json_atomic(run_dir / FEEDBACK_SUMMARY, summary.to_dict())
    except OSError as exc:
        raise StorageError.from_os_error(exc, doing="writing the feedback summary") from None
    return JudgeResult(run_dir=run_dir, summary=summary, written=written, already=already)


def _rubric_job(
    rater: Rubric, item: ResponseItem, seed: int, write: Callable[[Mapping[str, Any]], None]
) -> Callable[[], Awaitable[None]]:
    async def job() -> None:
        for score in await rater.rate(item, seed=seed):
            write(score.to_record())

    return job


def _satisfaction_job(
    rater: Satisfaction,
    item: ResponseItem,
    seed: int,
    write: Callable[[Mapping[str, Any]], None],
) -> Callable[[], Awaitable[None]]:
    async def job() -> None:
        write((await rater.rate(item, seed=seed)).to_record())

    return job


def _critique_job(
    rater: Critic, item: ResponseItem, seed: int, write: Callable[[Mapping[str, Any]], None]
) -> Callable[[], Awaitable[None]]:
    async def job() -> None:
        write((await rater.critique(item, seed=seed)).to_record())

    return job


def _implicit_job(
    episode: Episode,
    raters: RaterSet,
    rules: ImplicitRules,
    config: RatersConfig,
    done: set[str],
    write: Callable[[Mapping[str, Any]], None],
) -> Callable[[], Awaitable[None]]:
    async def job() -> None:
        messages = conversation(episode)
        turns = label_turns(
            messages,
            episode=episode.id,
            item_id=f"episode:{episode.id}",
            goal=episode.task.goal,
            stop_reason=episode.stop_reason or None,
            rules=rules,
        )
        if raters.implicit_model is not None:
            pending = [
                t
                for t in turns
                if record_key("implicit", t.item_id, raters.implicit_rater, t.turn) not in done
            ]
            if not pending:
                return
            turns = await classify_turns(
                turns,
                messages,
                raters.implicit_model,
                template=config.implicit.template,
                rater=raters.implicit_rater,
                seed=episode.seed + config.seed,
            )
        for turn in turns:
            write(turn.to_record())

    return job


def summarize_judgements(
    records: Sequence[Mapping[str, Any] | FeedbackRecord],
    *,
    seed: int = 0,
    rater_models: Mapping[str, str | None] | None = None,
    side_models: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> FeedbackSummary:
    """What the judgements themselves say: counts, win rates per pairing, bias
    diagnostics, rubric means, critique counts and implicit signals. The one computation
    of these numbers: ``simulacra judge`` writes it (with the run's setup) to
    ``feedback_summary.json``, and the report uses it on a run still being judged."""
    rows: list[Mapping[str, Any]] = []
    for number, record in enumerate(records):
        row = (
            record.model_dump(mode="json", exclude_unset=True)
            if isinstance(record, FeedbackRecord)
            else record
        )
        if not row.get("item_id"):  # a judgement written by something else: its own item
            row = {**row, "item_id": str(row.get("key") or f"item-{number}")}
        rows.append(row)
    pairwise = [r for r in rows if r.get("kind") == "pairwise"]
    by_pairing: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for record in pairwise:
        by_pairing[str(record.get("pairing") or "other")].append(record)
    critiques = [r for r in rows if r.get("kind") == "critique"]
    counts: dict[str, int] = defaultdict(int)
    for record in rows:
        counts[str(record.get("kind"))] += 1
    summary: dict[str, Any] = {
        "judgements": dict(counts),
        "pairwise": {
            pairing: win_rates(group, seed=seed) for pairing, group in sorted(by_pairing.items())
        },
        "bias": bias_report(
            pairwise,
            rater_models=rater_models or {},
            side_models=side_models or {},
            seed=seed,
        )
        if pairwise
        else None,
        "rubric": rubric_report(rows, seed=seed),
        "critique": {
            "written": sum(1 for r in critiques if not r.get("abstained")),
            "abstained": sum(1 for r in critiques if r.get("abstained")),
        },
        "implicit": implicit_report(rows),
    }
    return FeedbackSummary.from_dict(summary)


def summarize_feedback(
    records: Sequence[Mapping[str, Any]],
    *,
    run: str,
    config: RatersConfig,
    kinds: Sequence[str],
    rater_models: Mapping[str, str | None],
    described: Mapping[str, Any],
    target: str | None,
    labels: Mapping[str, str] | None = None,
) -> FeedbackSummary:
    """``feedback_summary.json``: what the judgements say (:func:`summarize_judgements`),
    the run's judging setup, and agreement with human labels."""
    side_models = {
        str(r["item_id"]): (target, target if r.get("pairing") == "repeats" else None)
        for r in records
        if r.get("kind") == "pairwise"
    }
    found = summarize_judgements(
        records, seed=config.seed, rater_models=rater_models, side_models=side_models
    ).to_dict()
    summary: dict[str, Any] = {
        "run": run,
        "kinds": list(kinds),
        "judgements": found.pop("judgements"),
        "target_model": target,
        "raters": dict(described),
        "options": {
            "noise": config.noise,
            "both_orders": config.both_orders,
            "judges_per_item": config.judges_per_item,
            "pairing": list(config.pairing),
            "unit": config.unit,
            "seed": config.seed,
        },
        **found,
    }
    if labels:
        summary["human"] = human_report([r for r in records if r.get("kind") == "pairwise"], labels)
    return FeedbackSummary.from_dict(summary)


def judge_run(
    run_dir: str | Path, config: RatersConfig | None = None, **kwargs: Any
) -> JudgeResult:
    """Synchronous :func:`ajudge_run`."""
    return asyncio.run(ajudge_run(run_dir, config, **kwargs))


# --- compare ------------------------------------------------------------------------------


async def acompare_runs(
    run_a: str | Path,
    run_b: str | Path,
    config: RatersConfig | None = None,
    *,
    out: str | Path | None = None,
    human_labels: str | Path | None = None,
    use_cache: bool = True,
    pool: ModelPool | None = None,
    progress: Progress | None = None,
) -> ComparisonResult:
    """Judge run A's episodes against run B's; write and return the comparison.

    The result holds the win rate of A (bootstrap CI over items), the length-controlled
    win rate, the bias diagnostics, how episodes matched, and every judgement. It is
    written to ``out`` (default ``RUN_A/compare_<RUN_B name>.json``) atomically.
    """
    run_a, run_b = Path(run_a), Path(run_b)
    config = config or parse_raters_config(None)
    episodes_a, episodes_b = load_episodes(run_a), load_episodes(run_b)
    items, matching = between_run_pairs(episodes_a, episodes_b, config)
    if not items:
        raise ConfigError(
            f"no episodes of {run_a} and {run_b} match by persona × task × mode × repeat",
            source=str(run_b),
        )
    labels: dict[str, str] = {}
    if human_labels is not None:
        labels = load_human_labels(human_labels)
        check_label_ids(labels, {i.item_id for i in items}, source=str(human_labels))
    owns_pool = pool is None
    models = pool or ModelPool(use_cache=use_cache)
    done = 0

    def count(_: Any) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress("pairwise", done)

    failures: list[str] = []
    try:
        raters = build_raters(config, models)
        judgements = await raters.pool.judge_all(
            items, concurrency=config.concurrency, on_judgement=count, failures=failures
        )
    finally:
        if owns_pool:
            await asyncio.shield(models.aclose())
    records = [j.to_record() for j in judgements]
    identity_a, identity_b = target_identity(run_a), target_identity(run_b)
    result: dict[str, Any] = {
        "run_a": str(run_a),
        "run_b": str(run_b),
        "target_models": {"a": identity_a, "b": identity_b},
        "matching": matching,
        "raters": raters.described,
        "options": {
            "noise": config.noise,
            "both_orders": config.both_orders,
            "judges_per_item": config.judges_per_item,
            "unit": config.unit,
            "seed": config.seed,
        },
        **win_rates(records, seed=config.seed),
        "bias": bias_report(
            records,
            rater_models=raters.rater_models,
            side_models={i.item_id: (identity_a, identity_b) for i in items},
            seed=config.seed,
        ),
    }
    if labels:
        result["human"] = human_report(records, labels)
    result["failed_judgements"] = {"count": len(failures), "first": failures[:5]}
    result["judgements"] = records
    comparison = Comparison.from_dict(result)
    path = Path(out) if out is not None else run_a / f"compare_{run_b.name}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, comparison.to_dict())
    except OSError as exc:
        raise StorageError.from_os_error(exc, doing="writing the comparison") from None
    return ComparisonResult(path=path, comparison=comparison)


@dataclass(kw_only=True)
class ComparisonResult:
    """What ``compare_runs`` found, and where it wrote it."""

    path: Path
    comparison: Comparison
    flipped: bool = False
    """Read from run B's file, and seen from A."""


def compare_runs(
    run_a: str | Path, run_b: str | Path, config: RatersConfig | None = None, **kwargs: Any
) -> ComparisonResult:
    """Synchronous :func:`acompare_runs`."""
    return asyncio.run(acompare_runs(run_a, run_b, config, **kwargs))


def read_comparison(run_a: str | Path, run_b: str | Path) -> ComparisonResult | None:
    """What ``simulacra compare`` found about A against B: ``RUN_A/compare_<B>.json``
    or, written the other way round, ``RUN_B/compare_<A>.json`` seen from A (B's shares
    turned into A's: ``1 - x``, each interval's bounds swapped). None when neither file
    is there or is a comparison of these runs."""
    a, b = Path(run_a), Path(run_b)
    for path, other, flip in (
        (a / f"compare_{b.name}.json", b, False),
        (b / f"compare_{a.name}.json", a, True),
    ):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found = Comparison.from_dict(data) if isinstance(data, dict) else None
        except (OSError, ValueError):  # pydantic's ValidationError is a ValueError
            continue
        if found is None or Path(found.run_b).name != other.name:
            continue
        if flip:
            return ComparisonResult(path=path, comparison=found.flipped(), flipped=True)
        return ComparisonResult(path=path, comparison=found)
    return None
