"""What a run will do before it does it, and whether a finished run passes its gates.

``select`` narrows a schedule (``--filter``, ``--limit``); ``plan`` describes it (the
shape personas × tasks × repeats × modes, and an estimate of model calls, tokens and
cost per role for ``--dry-run``); ``gate_failures`` reads a summary against the run's
gates (``fail_under``, ``max_errors``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulacra.errors import ConfigError

if TYPE_CHECKING:
    from simulacra.runs._config import RunConfig
    from simulacra.runs._runner import Slot
    from simulacra.sim.targets import ReplyCalls

# --- selecting episodes -------------------------------------------------------------------

_FIELDS = ("task", "persona")


@dataclass(frozen=True)
class EpisodeFilter:
    """``--filter`` patterns (shell globs): ``task=PATTERN``, ``persona=PATTERN``, or a
    bare ``PATTERN`` that may match either. An episode is kept when, for each field
    that has patterns, one of them matches (bare patterns: the task id or the persona)."""

    task: tuple[str, ...] = ()
    persona: tuple[str, ...] = ()
    either: tuple[str, ...] = ()

    @classmethod
    def parse(cls, given: Iterable[str], *, source: str = "--filter") -> EpisodeFilter:
        found: dict[str, list[str]] = {"task": [], "persona": [], "either": []}
        for text in given:
            key, sep, pattern = text.partition("=")
            if not sep:
                key, pattern = "either", text
            elif key.strip() not in _FIELDS:
                raise ConfigError(
                    f"{text!r}: filter on task=PATTERN or persona=PATTERN (or a bare PATTERN "
                    "for either)",
                    source=source,
                )
            if not pattern.strip():
                raise ConfigError(f"{text!r} has an empty pattern", source=source)
            found[key.strip()].append(pattern.strip())
        return cls(
            task=tuple(found["task"]),
            persona=tuple(found["persona"]),
            either=tuple(found["either"]),
        )

    def __bool__(self) -> bool:
        return bool(self.task or self.persona or self.either)

    def keeps(self, task_id: str, persona: str) -> bool:
        def any_match(value: str, patterns: tuple[str, ...]) -> bool:
            return any(fnmatch.fnmatchcase(value, p) for p in patterns)

        if self.task and not any_match(task_id, self.task):
            return False
        if self.persona and not any_match(persona, self.persona):
            return False
        return not self.either or any_match(task_id, self.either) or any_match(persona, self.either)

    def describe(self) -> str:
        parts = [f"task={p}" for p in self.task] + [f"persona={p}" for p in self.persona]
        return ", ".join(parts + list(self.either))


def select(
    slots: Sequence[Slot], *, only: EpisodeFilter | None = None, limit: int | None = None
) -> list[Slot]:
    """The scheduled episodes ``only`` keeps, the first ``limit`` of them (schedule order);
    a ``ConfigError`` when a filter keeps none."""
    kept = [s for s in slots if not only or only.keeps(s.task.id, s.persona.name)]
    if only and not kept:
        raise ConfigError(
            f"--filter {only.describe()} matches none of the {len(slots)} scheduled episodes"
        )
    return kept[:limit] if limit is not None else kept


# --- describing a run -----------------------------------------------------------------------

DEFAULT_TARGET_TOKENS = 512
"""Reply length assumed for a target with no ``max_tokens`` setting, in the estimate."""
CHARS_PER_TOKEN = 4
"""Roughly how many characters of English text one token holds, in the estimate."""
_USER_INSTRUCTIONS = 350
"""Tokens of a simulated user's standing instructions, beside its persona and goal."""
_TARGET_INSTRUCTIONS = 60


@dataclass(kw_only=True)
class RoleEstimate:
    """Model calls and tokens of one role over the run: at most (every episode runs to
    its turn limit), and as measured on earlier episodes of the same run when there are."""

    role: str
    model: str | None
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    measured: dict[str, float] | None = None
    """Mean calls and tokens per episode on earlier episodes, scaled to this run."""
    cost: float | None = None
    """Cost of the upper bound, when the role's model has a price."""
    measured_cost: float | None = None
    currency: str = "USD"

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "model": self.model,
            "at_most": {
                "calls": self.calls,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "tokens": self.tokens,
                "cost": self.cost,
            },
            "measured": self.measured,
            "measured_cost": self.measured_cost,
            "currency": self.currency,
        }


@dataclass(kw_only=True)
class RunPlan:
    """What ``simulacra run`` is about to do."""

    run_dir: Path
    episodes: int
    scheduled: int
    personas: int
    tasks: int
    repeats: int
    modes: list[str]
    already_done: int = 0
    roles: list[RoleEstimate] = field(default_factory=list)
    measured_on: int = 0

    def shape(self) -> str:
        """``14 personas × 4 tasks × 1 repeat × 1 mode``."""

        def n(count: int, word: str) -> str:
            return f"{count} {word}{'' if count == 1 else 's'}"

        return " × ".join(
            [
                n(self.personas, "persona"),
                n(self.tasks, "task"),
                n(self.repeats, "repeat"),
                n(len(self.modes), "mode") + f" ({', '.join(self.modes)})",
            ]
        )

    def headline(self) -> str:
        """One line: how many episodes, of what, where."""
        chosen = (
            f"{self.episodes} of {self.scheduled} episodes"
            if self.episodes != self.scheduled
            else f"{self.episodes} episode{'' if self.episodes == 1 else 's'}"
        )
        done = f", {self.already_done} already done" if self.already_done else ""
        return f"{chosen} ({self.shape()}{done}) into {self.run_dir}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "episodes": self.episodes,
            "scheduled": self.scheduled,
            "personas": self.personas,
            "tasks": self.tasks,
            "repeats": self.repeats,
            "modes": self.modes,
            "already_done": self.already_done,
            "measured_on": self.measured_on,
            "roles": [r.to_dict() for r in self.roles],
        }


def plan(
    config: RunConfig,
    slots: Sequence[Slot],
    *,
    scheduled: int,
    personas: int,
    tasks: int,
    done: Iterable[str] = (),
) -> RunPlan:
    """Describe the run of ``slots`` (the selected part of ``scheduled`` episodes) and
    estimate what it costs. Reads the run directory's episodes, if any; writes nothing."""
    from simulacra.rundir import EPISODES, read_episodes

    finished = set(done)
    todo = [s for s in slots if s.id not in finished]
    earlier: list[dict[str, Any]] = []
    path = config.run_dir() / EPISODES
    if path.exists():
        try:
            earlier = [e for e in read_episodes(config.run_dir()) if e.get("usage")]
        except (OSError, ValueError):
            earlier = []
    result = RunPlan(
        run_dir=config.run_dir(),
        episodes=len(todo),
        scheduled=scheduled,
        personas=personas,
        tasks=tasks,
        repeats=config.repeats,
        modes=list(config.modes),
        already_done=len(slots) - len(todo),
        measured_on=len(earlier),
    )
    result.roles = _estimate(config, todo, earlier)
    return result


def _tokens(text: str) -> int:
    return max(1, len(text) // CHARS_PER_TOKEN)


def _estimate(
    config: RunConfig, slots: Sequence[Slot], earlier: list[dict[str, Any]]
) -> list[RoleEstimate]:
    user_model = config.user.model if config.user.simulator_spec().needs_model else None
    # what each reply of the target costs, by role: the target kind says (one call of its
    # model; a best-of-n target's candidates and its chooser's comparisons)
    replies = config.target.options.reply_calls()
    target_model = config.models.get(replies[0].model if replies else "")
    user_reply = config.user.max_tokens
    target_reply = (
        config.target.max_tokens
        or (target_model.max_tokens if target_model is not None else None)
        or DEFAULT_TARGET_TOKENS
    )
    user = RoleEstimate(role="user", model=user_model)
    estimates = {"user": user}
    for each in replies:
        estimates.setdefault(each.role, RoleEstimate(role=each.role, model=each.model))
    attempts = 1 + config.user.max_regenerations
    for slot in slots:
        turns = config.max_turns or slot.task.max_turns
        base = _USER_INSTRUCTIONS + _tokens(
            slot.persona.background + slot.task.goal + " ".join(f.text for f in slot.task.facts)
        )
        for turn in range(turns):
            history = turn * (user_reply + target_reply)
            if user_model is not None:
                user.calls += attempts
                user.prompt_tokens += attempts * (base + history)
                user.completion_tokens += attempts * user_reply
            for each in replies:  # a tool-using target may call more
                _count_reply(estimates[each.role], each, history + user_reply, target_reply)
    roles = list(estimates.values())
    # a target that calls no configured model (a callable, an HTTP service) makes no
    # model calls this run can count
    roles = [r for r in roles if r.calls and r.model is not None]
    if earlier:
        scale = len(slots) / len(earlier)
        for role in roles:
            used = [e["usage"].get(role.role) or {} for e in earlier]
            role.measured = {
                key: round(sum(float(u.get(key) or 0) for u in used) * scale)
                for key in ("calls", "prompt_tokens", "completion_tokens", "total_tokens")
            }
    for role in roles:
        model = config.models.get(role.model or "")
        price = model.price if model is not None else None
        if price is None:
            continue
        role.currency = price.currency
        role.cost = price.cost(role.prompt_tokens, role.completion_tokens)
        if role.measured is not None:
            role.measured_cost = price.cost(
                int(role.measured["prompt_tokens"]), int(role.measured["completion_tokens"])
            )
    return roles


def _count_reply(role: RoleEstimate, calls: ReplyCalls, context: int, reply: int) -> None:
    """Add one reply's calls of ``role`` at most: each reads the instructions, the
    conversation so far (``context`` tokens) and the replies it judges, and writes its
    own; a retry reads the prompt again with the reply it retries."""
    cut = calls.max_read_chars // CHARS_PER_TOKEN if calls.max_read_chars else None
    read = min(context, cut) if cut else context
    each_reply = min(reply, cut) if cut else reply
    instructions = (
        _TARGET_INSTRUCTIONS if calls.instructions is None else _tokens(calls.instructions)
    )
    writes = calls.writes or reply
    prompt = instructions + read + calls.reads_replies * each_reply
    for attempt in range(calls.attempts):
        role.calls += calls.calls
        role.prompt_tokens += calls.calls * (prompt + attempt * writes)
        role.completion_tokens += calls.calls * writes


# --- gates ----------------------------------------------------------------------------------

_PASS_K = re.compile(r"^pass\^([1-9]\d*)$")
GATE_METRICS = ("success", "pass^K", "aptitude", "success_without_violation")
"""Summary measures a ``fail_under`` gate may name (``pass^K`` for any K >= 1)."""


def check_metric_name(name: str) -> str:
    """``name`` if a gate may use it, else a ``ValueError`` listing the ones that may."""
    if name in GATE_METRICS or _PASS_K.match(name):
        return name
    raise ValueError(f"unknown measure {name!r} (known: {', '.join(GATE_METRICS)})")


def metric_value(summary: dict[str, Any], name: str) -> float | None:
    """The point estimate of ``name`` in ``summary``, or None when it has none."""
    found: Any
    if (match := _PASS_K.match(name)) is not None:
        found = (summary.get("pass_hat_k") or {}).get(match.group(1))
    elif name == "success_without_violation":
        found = (summary.get("policy") or {}).get(name)
    else:
        found = summary.get(name)
    value = found.get("value") if isinstance(found, dict) else None
    return float(value) if isinstance(value, int | float) else None


def parse_fail_under(given: Iterable[str], *, source: str = "--fail-under") -> dict[str, float]:
    """``success=0.8`` (or ``success=80%``), one a string, as ``{measure: threshold}``."""
    out: dict[str, float] = {}
    for text in given:
        name, sep, raw = text.partition("=")
        if not sep:
            raise ConfigError(f"{text!r}: write MEASURE=THRESHOLD, e.g. success=0.8", source=source)
        try:
            check_metric_name(name.strip())
            threshold = parse_share(raw)
        except ValueError as exc:
            raise ConfigError(f"{text!r}: {exc}", source=source) from None
        out[name.strip()] = threshold
    return out


def parse_share(raw: str) -> float:
    """``0.8`` or ``80%`` as 0.8; a ``ValueError`` for anything outside 0..1."""
    text = raw.strip()
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ValueError(f"{raw!r} is not a number") from None
    if not 0 <= value <= 1:
        raise ValueError(f"{raw!r} is not a share between 0 and 1")
    return value


def parse_max_errors(raw: str, *, source: str = "--max-errors") -> int | float:
    """A count (``3``: whole number) or a share (``0.1`` or ``10%``) of errored episodes."""
    text = raw.strip()
    if text.isdigit():
        return int(text)
    try:
        return parse_share(text)
    except ValueError as exc:
        raise ConfigError(
            f"{exc}; give a count of episodes (3) or a share (0.1 or 10%)", source=source
        ) from None


def _share(value: float) -> str:
    return f"{value:.1%}".replace(".0%", "%")


def gate_failures(
    summary: dict[str, Any], *, fail_under: dict[str, float], max_errors: int | float | None
) -> list[str]:
    """Why a finished run counts as failed, one reason per gate it misses (none: it passes).

    ``max_errors``: a count (int) or a share (float) of errored episodes the run may have;
    None: the run fails only when every episode errored. ``fail_under``: each measure's
    point estimate must be at least its threshold; a measure the summary lacks (no scored
    episode, fewer repeats than pass^k needs) misses its gate."""
    reasons: list[str] = []
    episodes, failed = int(summary.get("episodes") or 0), int(summary.get("errors") or 0)
    if episodes and failed:
        if max_errors is None:
            over, limit = failed == episodes, "at least one must not"
        elif isinstance(max_errors, int):
            over, limit = failed > max_errors, f"at most {max_errors} may"
        else:
            over, limit = failed / episodes > max_errors, f"at most {_share(max_errors)} may"
        if over:
            kinds = ", ".join(f"{k} {v}" for k, v in (summary.get("error_kinds") or {}).items())
            reasons.append(
                f"{failed} of {episodes} episodes errored ({kinds}); {limit} (--max-errors)"
            )
    for name, threshold in fail_under.items():
        value = metric_value(summary, name)
        if value is None:
            reasons.append(f"{name} is not in the summary, so it cannot reach {_share(threshold)}")
        elif value < threshold:
            reasons.append(f"{name} {_share(value)} is under {_share(threshold)} (--fail-under)")
    return reasons
