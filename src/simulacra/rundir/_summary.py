"""``summary.json``: what a run amounts to, computed from ``episodes.jsonl`` alone."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from simulacra.llm import Usage
from simulacra.rundir._breakdowns import breakdowns
from simulacra.rundir._judged import judge_figures
from simulacra.rundir._models import SCHEMA_VERSION, Episode, JudgedSummary, Summary


def summarize(episodes: Iterable[Episode], *, seed: int = 0) -> Summary:
    """Success with a 95% CI over tasks (a warning under ``warnings`` when there are
    fewer than 10 tasks), turns, tokens per role, guard
    events, stop reasons and errors; by persona, task, suite and mode; and, when the run
    has the data, pass^k and aptitude/unreliability over repeats (overall and, for a run
    of several suites, per suite under ``reliability_by_suite``), the multi-turn drop
    (sharded vs full), success by turn of feedback episodes, and the policy violations
    of episodes scored on a tool environment (with success counting only clean ones),
    the verdicts of judged tasks with the judge's position and length figures;
    and success broken down by persona and task attributes (``breakdowns``). This is the
    one computation of what a run amounts to: the report and the live view lay it out."""
    from simulacra.stats import few_tasks_warning, success_rate

    records: list[dict[str, Any]] = []
    usage: dict[str, Usage] = defaultdict(Usage)
    guards: Counter[str] = Counter()
    fallbacks = 0
    stops: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    turns: list[int] = []
    first_success: list[int | None] = []
    rules: Counter[str] = Counter()
    seen: list[Episode] = []
    played: list[Episode] = []
    for episode in episodes:
        seen.append(episode)
        stops[episode.stop_reason or "unknown"] += 1
        for role, counts in episode.usage.items():
            usage[role] = usage[role] + counts.usage()
        for event in episode.guard_events:
            guards[event.guard] += 1
            fallbacks += event.action == "fallback"
        if episode.status == "error":
            errors[(episode.error or "unknown error").split(":")[0]] += 1
            continue
        turns.append(episode.user_turns)
        played.append(episode)
        if "first_success_turn" in episode.extra:
            first_success.append(episode.extra["first_success_turn"])
        if episode.score is not None:
            persona, task, mode = episode.persona.name, episode.task.id, episode.mode
            record: dict[str, Any] = {
                "task": task,
                "persona": persona,
                "suite": episode.task.suite,
                "mode": mode,
                "unit": f"{task}|{persona}|{mode}",
                "score": episode.score,
            }
            violations = _violations(episode)
            if violations is not None:
                record["violated"] = bool(violations)
                rules.update(str(v.get("rule", "?")) for v in violations if isinstance(v, dict))
            records.append(record)
    success = success_rate(records, seed=seed) if records else None
    few = few_tasks_warning(success.n) if success is not None else None
    summary: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "episodes": len(seen),
        "scored": len(records),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "success": success.to_dict() if success is not None else None,
        "mean_user_turns": round(sum(turns) / len(turns), 3) if turns else None,
        "stop_reasons": dict(stops),
        "guard_events": {"total": sum(guards.values()), "fallbacks": fallbacks, **dict(guards)},
        "usage": {role: u.to_dict() for role, u in sorted(usage.items())},
        "tokens": sum(u.total_tokens for u in usage.values()),
        "by_persona": _rates(records, "persona"),
        "by_task": _rates(records, "task"),
        "by_suite": _rates(records, "suite"),
        "by_mode": _rates(records, "mode"),
    }
    summary.update(_reliability(records, seed=seed))
    summary["breakdowns"] = breakdowns(seen, seed=seed)
    if few is not None:
        summary["warnings"] = [few]
    checked = [r for r in records if "violated" in r]
    if checked:
        strict = [{**r, "score": 0.0 if r["violated"] else r["score"]} for r in checked]
        summary["policy"] = {
            "episodes": len(checked),
            "with_violations": sum(r["violated"] for r in checked),
            "violations": dict(rules.most_common()),
            "success_without_violation": success_rate(strict, seed=seed).to_dict(),
        }
    judged = judged_summary(played)
    if judged is not None:
        summary["judged"] = judged.to_dict()
    if first_success:
        from simulacra.stats import success_by_turn

        summary["success_by_turn"] = success_by_turn(first_success, seed=seed).to_dict()
    return Summary.from_dict(summary)


_JUDGED_COUNTS = (
    *("episodes", "passed", "failed", "abstained", "judge_errors"),
    *("criteria", "criteria_met", "inconsistent"),
)


def judged_summary(episodes: Iterable[Episode]) -> JudgedSummary | None:
    """The judged episodes among ``episodes`` (played ones: ``summarize`` leaves out
    those that errored): verdicts counted, an abstention apart, and the judge's position
    and length figures (:func:`judge_figures`). None when none was judged."""
    counts: Counter[str] = Counter()
    judgements: list[dict[str, Any]] = []
    for episode in episodes:
        judgement = episode.judgement
        if judgement is None:
            continue
        counts["episodes"] += 1
        counts[{"pass": "passed", "fail": "failed"}.get(judgement.verdict, "abstained")] += 1
        counts["judge_errors"] += judgement.error is not None and judgement.verdict == "abstain"
        counts["criteria"] += len(judgement.criteria)
        counts["criteria_met"] += judgement.met
        counts["inconsistent"] += judgement.consistent is False
        judgements.append(judgement.model_dump(mode="json"))
    if not judgements:
        return None
    return JudgedSummary.model_validate(
        {**{key: counts[key] for key in _JUDGED_COUNTS}, **judge_figures(judgements)}
    )


def _violations(episode: Episode) -> list[Any] | None:
    """The policy violations an environment check recorded; None for other checks."""
    extracted = episode.check.get("extracted")
    if not isinstance(extracted, dict):
        return None
    violations = extracted.get("violations")
    return violations if isinstance(violations, list) else None


def _pass_curve(records: list[dict[str, Any]], *, seed: int) -> dict[str, Any]:
    """pass^1..pass^K over the units that have all K trials (K: the most any unit has).

    One set of units for the whole curve, so it never rises with k: mid-run, or where
    episodes errored, a unit with fewer trials is left out of every k (and counted in
    ``excluded``) instead of only of the k above its trials, which would let pass^2 be
    computed on easier units than pass^1."""
    from simulacra.stats import pass_hat_k

    trials = Counter(r["unit"] for r in records)
    most = max(trials.values())
    complete = {unit for unit, n in trials.items() if n == most}
    curve = pass_hat_k([r for r in records if r["unit"] in complete], task_key="unit", seed=seed)
    left_out = len(trials) - len(complete)
    return {
        str(k): {**estimate.to_dict(), "excluded": estimate.excluded + left_out}
        for k, estimate in sorted(curve.items())
    }


def _reliability(records: list[dict[str, Any]], *, seed: int) -> dict[str, Any]:
    """pass^k, aptitude and unreliability over repeats; the sharded-vs-full drop."""
    from simulacra.stats import aptitude, multi_turn_drop, unreliability

    out: dict[str, Any] = {}
    trials = Counter(r["unit"] for r in records)
    if trials and max(trials.values()) >= 2:
        out["pass_hat_k"] = _pass_curve(records, seed=seed)
        out["aptitude"] = aptitude(records, task_key="unit", seed=seed).to_dict()
        out["unreliability"] = unreliability(records, task_key="unit", seed=seed).to_dict()
    modes = {r["mode"] for r in records}
    if "pass_hat_k" in out and len(modes) > 1:
        out["pass_hat_k_by_mode"] = {
            mode: _pass_curve([r for r in records if r["mode"] == mode], seed=seed)
            for mode in sorted(modes)
        }
    if {"full", "sharded"} <= modes:
        out["multi_turn_drop"] = multi_turn_drop(records, seed=seed).to_dict()
    suites = {r["suite"] for r in records}
    if "pass_hat_k" in out and len(suites) > 1:
        # one domain's reliability apart from another's (e.g. retail vs airline)
        out["reliability_by_suite"] = {
            suite: _suite_reliability([r for r in records if r["suite"] == suite], seed=seed)
            for suite in sorted(suites)
        }
    return out


def _suite_reliability(records: list[dict[str, Any]], *, seed: int) -> dict[str, Any]:
    from simulacra.stats import aptitude, unreliability

    if max(Counter(r["unit"] for r in records).values()) < 2:
        return {}
    return {
        "pass_hat_k": _pass_curve(records, seed=seed),
        "aptitude": aptitude(records, task_key="unit", seed=seed).to_dict(),
        "unreliability": unreliability(records, task_key="unit", seed=seed).to_dict(),
    }


def _rates(records: list[dict[str, Any]], key: str) -> dict[str, dict[str, float]]:
    groups: dict[str, list[float]] = defaultdict(list)
    for record in records:
        groups[record[key]].append(record["score"])
    return {
        name: {"n": len(scores), "success": round(sum(scores) / len(scores), 4)}
        for name, scores in sorted(groups.items())
    }
