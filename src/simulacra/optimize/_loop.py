"""The prompt-optimisation loop: propose, evaluate on held-out tasks, keep what is better.

Each round the optimiser model reads the incumbent prompt's failed conversations on the
*training* tasks (the transcripts, the users' feedback in them, what the success check
said) and proposes ``candidates`` revised system prompts. Each is evaluated on the
*held-out* tasks with the same personas, repeats and seeds as the incumbent, so the two
runs differ only in the prompt; the gain is the mean of the paired differences in
success, with a cluster-bootstrap interval over held-out tasks. The best candidate
replaces the incumbent only when that interval lies above zero; a round without such a
gain ends the loop.

Everything is in one directory: ``optimize.json`` (the settings, the split, every
candidate with its prompt, scores and whether it was kept; rewritten atomically after
each step) and one run directory per evaluation (``c003-heldout/``, ``c003-train/``).
Running again with the same settings picks up where it stopped: recorded candidates
are not proposed again, and a half-played evaluation is resumed episode by episode.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from simulacra._records import read_json, write_json_atomic
from simulacra.errors import ConfigError, describe_error, stops_run
from simulacra.llm import ChatModel, ChatParams, Message, ModelPool
from simulacra.rundir import Episode
from simulacra.runs import RunConfig, arun, load_config
from simulacra.stats import Estimate, cluster_bootstrap

STATE = "optimize.json"
"""The optimisation's record in its directory."""

Progress = Callable[[str], None]


class OptimizeSettings(BaseModel):
    """How the loop searches (``simulacra optimize`` takes each as an option)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    optimizer: str | None = Field(
        default=None, description="a key of the config's models (default: the target's model)"
    )
    rounds: int = Field(default=3, ge=1, le=50, description="rounds of proposals at most")
    candidates: int = Field(default=2, ge=1, le=16, description="proposals per round")
    heldout: float = Field(
        default=0.5, gt=0, lt=1, description="share of the tasks held out for evaluation"
    )
    level: float = Field(default=0.95, gt=0.5, lt=1, description="confidence level")
    resamples: int = Field(default=2000, ge=100)
    failures_shown: int = Field(
        default=4, ge=1, le=50, description="failed conversations the optimiser reads"
    )
    temperature: float = Field(default=0.8, ge=0, le=2)
    max_tokens: int = Field(default=200, ge=16)
    out: str | None = Field(
        default=None, description="the directory (default: <output_dir>/<name>-optimize)"
    )


@dataclass(frozen=True, kw_only=True)
class Split:
    """Which tasks the optimiser learns from and which score the candidates."""

    train: list[str]
    heldout: list[str]


def split_tasks(task_ids: Sequence[str], share: float, seed: int) -> Split:
    """A seeded split of task ids, the same for the same ids, share and seed."""
    if len(task_ids) < 2:
        raise ConfigError(
            "prompt optimisation needs at least 2 tasks (some to learn from, some held out)",
            field="tasks",
        )
    ranked = sorted(task_ids, key=lambda t: hashlib.sha256(f"{seed}\x1f{t}".encode()).hexdigest())
    held = min(len(ranked) - 1, max(1, round(len(ranked) * share)))
    heldout = set(ranked[:held])
    return Split(
        train=[t for t in task_ids if t not in heldout],
        heldout=[t for t in task_ids if t in heldout],
    )


@dataclass(kw_only=True)
class OptimizeResult:
    """What the loop found: the best prompt, every candidate, and why it stopped."""

    out: Path
    best: dict[str, Any]
    baseline: dict[str, Any]
    candidates: list[dict[str, Any]]
    stopped: str
    split: Split

    @property
    def best_prompt(self) -> str:
        return str(self.best["prompt"])


# --- scoring ----------------------------------------------------------------------------


def _slot(episode: Episode) -> tuple[str, str, str, int]:
    return (episode.persona.name, episode.task.id, episode.mode, episode.repeat)


def successes(episodes: Sequence[Episode]) -> dict[tuple[str, str, str, int], float]:
    """Each episode's success by (persona, task, mode, repeat); an errored or unchecked
    episode counts as a failure (the prompt did not get the user there)."""
    return {_slot(e): 1.0 if e.status == "ok" and e.success else 0.0 for e in episodes}


def score(
    episodes: Sequence[Episode], *, level: float, resamples: int, seed: int
) -> dict[str, Any]:
    """Success on a split: the share, its cluster-bootstrap interval over tasks, counts."""
    values = successes(episodes)
    keys = sorted(values)
    estimate = cluster_bootstrap(
        [values[k] for k in keys],
        [k[1] for k in keys],
        level=level,
        resamples=resamples,
        seed=seed,
    )
    return {
        "success": estimate.to_dict(),
        "episodes": len(keys),
        "errors": sum(e.status != "ok" for e in episodes),
    }


def paired_gain(
    candidate: Sequence[Episode],
    incumbent: Sequence[Episode],
    *,
    level: float,
    resamples: int,
    seed: int,
) -> Estimate:
    """The candidate's success minus the incumbent's on the conversations both played
    (same persona, task, mode, repeat, hence the same seed), with a cluster-bootstrap
    interval over tasks: the paired comparison that decides whether a prompt is kept."""
    a, b = successes(candidate), successes(incumbent)
    keys = sorted(set(a) & set(b))
    return cluster_bootstrap(
        [a[k] - b[k] for k in keys],
        [k[1] for k in keys],
        level=level,
        resamples=resamples,
        seed=seed,
    )


def significant(gain: Estimate | dict[str, Any]) -> bool:
    """Whether an interval of a gain lies wholly above zero."""
    low = gain.low if isinstance(gain, Estimate) else gain.get("low")
    return isinstance(low, int | float) and low == low and low > 0


# --- proposing --------------------------------------------------------------------------

OPTIMISER_SYSTEM = (
    "You improve the system prompt of an AI assistant. You are shown the current system "
    "prompt and conversations in which it failed the user: what the user asked, what the "
    "assistant answered, what the user said back and why the answer did not count. Write a "
    "better system prompt that would make the assistant succeed for users like these. Do "
    "not quote the answers to these particular questions: the prompt must work for new "
    "ones. Reply with the new system prompt only, between <prompt> and </prompt>."
)


def _abridged(text: str, limit: int = 600) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_failure(episode: Episode) -> str:
    """One failed conversation as the optimiser reads it."""
    lines = [f"Task: {_abridged(episode.task.goal, 300)}"]
    for message in episode.messages:
        if message.role == "user":
            act = message.meta.get("act") if isinstance(message.meta, dict) else None
            label = "User (feedback)" if act == "feedback" else "User"
            lines.append(f"{label}: {_abridged(message.content)}")
        elif message.role == "assistant" and message.content.strip():
            lines.append(f"Assistant: {_abridged(message.content)}")
    check = episode.check or {}
    if episode.status != "ok":
        lines.append(f"Outcome: the conversation failed ({_abridged(episode.error or '', 200)})")
    else:
        detail = check.get("detail") or check.get("reason") or ""
        lines.append(
            "Outcome: the answer did not pass the task's check"
            + (f" ({_abridged(str(detail), 200)})" if detail else "")
        )
    return "\n".join(lines)


def _request(prompt: str, shown: str) -> str:
    return (
        f"Current system prompt:\n<prompt>\n{prompt}\n</prompt>\n\n"
        f"Failed conversations:\n\n{shown}\n\nNow write the new system prompt for the "
        "assistant, a few sentences between <prompt> and </prompt>."
    )


# One worked exchange before the real request, on a task unlike any suite's: without it
# a small optimiser (the embedded 0.5B model) copies the failed conversations or the
# current prompt back instead of writing a prompt (4 of 4 replies in a probe; with it,
# 3 of 4 were a new prompt).
_EXAMPLE_REQUEST = _request(
    "Answer in one word, in French.",
    "Conversation 1:\nTask: How many grams of flour for 10 people if 4 people need 300 g?\n"
    "User: How many grams of flour for 10 people if 4 people need 300 g?\n"
    "Assistant: Farine.\nUser (feedback): that's not a number, I asked how much\n"
    "Outcome: the answer did not pass the task's check",
)
_EXAMPLE_REPLY = (
    "<prompt>\nYou are a helpful assistant. Read the user's question carefully and answer "
    "it directly, in the user's language, with the specific fact or number they asked "
    "for. Keep the answer short and correct.\n</prompt>"
)


def optimiser_messages(prompt: str, failures: Sequence[Episode]) -> list[Message]:
    """What the optimiser reads: its instructions, one worked exchange, then the current
    prompt and the failed conversations."""
    shown = "\n\n".join(
        f"Conversation {i}:\n{describe_failure(e)}" for i, e in enumerate(failures, 1)
    )
    return [
        Message(role="system", content=OPTIMISER_SYSTEM),
        Message(role="user", content=_EXAMPLE_REQUEST),
        Message(role="assistant", content=_EXAMPLE_REPLY),
        Message(role="user", content=_request(prompt, shown)),
    ]


_TAGGED = re.compile(r"<prompt>\s*(.*?)\s*(?:</prompt>|$)", re.DOTALL | re.IGNORECASE)


def parse_prompt(text: str) -> str | None:
    """The prompt in an optimiser's reply: between ``<prompt>`` tags when it used them,
    else the reply without code fences or quotes; None when nothing is left."""
    match = _TAGGED.search(text)
    found = match.group(1) if match else text
    found = re.sub(r"^```\w*\s*|\s*```$", "", found.strip()).strip().strip("\"'").strip()
    return found or None


# --- the loop ---------------------------------------------------------------------------


def _with_prompt(config: RunConfig, prompt: str | None) -> RunConfig:
    options = config.target.options
    if "system_prompt" not in type(options).model_fields:
        raise ConfigError(
            f"a target of type {config.target.type!r} has no system prompt to optimise",
            source=config.source,
            field="target.type",
        )
    target = config.target.model_copy(
        update={"options": options.model_copy(update={"system_prompt": prompt})}
    )
    return config.model_copy(update={"target": target})


def _evaluation(config: RunConfig, out: Path, name: str, tasks: list[str]) -> RunConfig:
    tasks_config = config.tasks.model_copy(update={"ids": tasks, "limit": None})
    return config.model_copy(update={"name": name, "output_dir": str(out), "tasks": tasks_config})


class _Loop:
    def __init__(
        self,
        config: RunConfig,
        settings: OptimizeSettings,
        *,
        pool: ModelPool,
        progress: Progress,
        concurrency: int | None,
    ) -> None:
        self.config = config
        self.settings = settings
        self.pool = pool
        self.say = progress
        self.concurrency = concurrency
        self.out = (
            config.path(settings.out)
            if settings.out
            else config.path(config.output_dir) / f"{config.name}-optimize"
        )
        _, tasks = config.validate_references()
        self.split = split_tasks([t.id for t in tasks], settings.heldout, config.seed)
        key = settings.optimizer or getattr(config.target.options, "model", None)
        if not isinstance(key, str) or key not in config.models:
            raise ConfigError(
                f"optimizer model {key!r} is not a key of models ({', '.join(config.models)})",
                source=config.source,
                field="optimizer",
            )
        self.optimizer_key = key
        self._optimizer: ChatModel | None = None
        self.state = self._load_state()

    # -- the record --------------------------------------------------------------------

    def _identity(self) -> dict[str, Any]:
        return {
            "config": self.config.source,
            "run": self.config.name,
            "seed": self.config.seed,
            "optimizer": self.optimizer_key,
            "settings": self.settings.model_dump(mode="json", exclude={"out", "rounds"}),
            "split": {"train": self.split.train, "heldout": self.split.heldout},
        }

    def _load_state(self) -> dict[str, Any]:
        path = self.out / STATE
        identity = self._identity()
        if not path.exists():
            return {**identity, "candidates": [], "stopped": None}
        state = read_json(path, what="optimisation record")
        if not isinstance(state, dict) or not isinstance(state.get("candidates"), list):
            raise ConfigError("not an optimisation record", source=str(path))
        for key in ("seed", "optimizer", "settings", "split"):
            if state.get(key) != identity[key]:
                raise ConfigError(
                    f"this directory holds an optimisation with other {key}; give another "
                    "--out or the same settings",
                    source=str(path),
                )
        return state

    def _save(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.out / STATE, self.state)

    # -- evaluation --------------------------------------------------------------------

    async def _play(self, index: int, prompt: str | None, split: str) -> list[Episode]:
        tasks = self.split.heldout if split == "heldout" else self.split.train
        config = _evaluation(
            _with_prompt(self.config, prompt), self.out, f"c{index:03d}-{split}", tasks
        )
        self.say(f"candidate {index}: playing {split} tasks ({len(tasks)})")
        result = await arun(config, resume=True, concurrency=self.concurrency, pool=self.pool)
        return result.episodes()

    def _score(self, episodes: list[Episode], salt: int) -> dict[str, Any]:
        return score(
            episodes,
            level=self.settings.level,
            resamples=self.settings.resamples,
            seed=self.config.seed + salt,
        )

    async def _heldout(self, candidate: dict[str, Any]) -> list[Episode]:
        episodes = await self._play(candidate["index"], candidate["prompt"], "heldout")
        candidate["heldout"] = self._score(episodes, candidate["index"])
        return episodes

    async def _train(self, candidate: dict[str, Any]) -> list[Episode]:
        episodes = await self._play(candidate["index"], candidate["prompt"], "train")
        candidate["train"] = self._score(episodes, candidate["index"])
        return episodes

    # -- proposing ---------------------------------------------------------------------

    def optimizer(self) -> ChatModel:
        if self._optimizer is None:
            self._optimizer = self.pool.build(
                self.config.models[self.optimizer_key], seed=self.config.seed
            )
        return self._optimizer

    async def _propose(
        self, incumbent: dict[str, Any], failures: list[Episode], round_: int, number: int
    ) -> dict[str, Any]:
        index = len(self.state["candidates"])
        candidate: dict[str, Any] = {
            "index": index,
            "round": round_,
            "parent": incumbent["index"],
            "prompt": None,
            "error": None,
            "kept": False,
        }
        params = ChatParams(
            temperature=self.settings.temperature,
            max_tokens=self.settings.max_tokens,
            seed=self.config.seed + 1009 * round_ + number,
        )
        try:
            completion = await self.optimizer().chat(
                optimiser_messages(incumbent["prompt"] or "", failures), params
            )
        except Exception as exc:
            if stops_run(exc):
                raise
            candidate["error"] = f"the optimiser failed: {describe_error(exc)}"
            return candidate
        prompt = parse_prompt(completion.text)
        known = {c["prompt"] for c in self.state["candidates"]}
        if prompt is None:
            candidate["error"] = "the optimiser wrote no prompt"
        elif prompt in known:
            candidate["error"] = "the optimiser repeated a prompt already tried"
        candidate["prompt"] = prompt
        candidate["optimizer_reply"] = completion.text
        return candidate

    # -- the rounds --------------------------------------------------------------------

    async def run(self) -> OptimizeResult:
        candidates = self.state["candidates"]
        if not candidates:
            prompt = getattr(self.config.target.options, "system_prompt", None)
            candidates.append(
                {"index": 0, "round": 0, "parent": None, "prompt": prompt, "kept": True}
            )
            self._save()
        baseline = candidates[0]
        incumbent = next(c for c in reversed(candidates) if c.get("kept"))
        incumbent_heldout = await self._heldout(incumbent)
        self._save()
        self.say(f"baseline held-out success {_shown(baseline.get('heldout'))}")
        stopped = self.state.get("stopped")
        if str(stopped).endswith(" rounds"):
            stopped = None  # the rounds ran out last time: more may be asked for now
        for round_ in range(1, self.settings.rounds + 1):
            if stopped:
                break
            done = [c for c in candidates if c.get("round") == round_]
            if any(c.get("kept") for c in done) or (done and all(c.get("decided") for c in done)):
                continue  # a round finished before: its choice is in the record
            train = await self._train(incumbent)  # its failures are what the optimiser reads
            self._save()
            failures = [e for e in train if e.status != "ok" or not e.success]
            if not failures:
                stopped = "every training conversation succeeded"
                break
            failures = failures[: self.settings.failures_shown]
            while len(done) < self.settings.candidates:
                proposal = await self._propose(incumbent, failures, round_, len(done))
                candidates.append(proposal)
                done.append(proposal)
                self._save()
            best: tuple[float, dict[str, Any]] | None = None
            for candidate in done:
                if candidate.get("error") or not candidate.get("prompt"):
                    candidate["decided"] = True
                    continue
                played = await self._heldout(candidate)
                gain = paired_gain(
                    played,
                    incumbent_heldout,
                    level=self.settings.level,
                    resamples=self.settings.resamples,
                    seed=self.config.seed + candidate["index"],
                )
                candidate["gain"] = {**gain.to_dict(), "over": incumbent["index"]}
                candidate["decided"] = True
                self._save()
                self.say(
                    f"candidate {candidate['index']}: held-out success "
                    f"{_shown(candidate['heldout'])}, gain {_estimate(gain.to_dict())}"
                )
                if significant(gain) and (best is None or gain.value > best[0]):
                    best = (gain.value, candidate)
            if best is None:
                stopped = f"no significant gain in round {round_}"
                break
            chosen = best[1]
            chosen["kept"] = True
            incumbent = chosen
            incumbent_heldout = await self._heldout(incumbent)
            self._save()
        else:
            stopped = stopped or f"{self.settings.rounds} rounds"
        self.state["stopped"] = stopped
        self._save()
        kept = [c for c in candidates if c.get("kept")]
        return OptimizeResult(
            out=self.out,
            best=kept[-1],
            baseline=baseline,
            candidates=list(candidates),
            stopped=str(stopped),
            split=self.split,
        )


def _estimate(value: Any) -> str:
    if not isinstance(value, dict) or value.get("value") is None:
        return "n/a"
    low, high = value.get("low"), value.get("high")
    if low is None or high is None:
        return f"{value['value']:+.3f}"
    return f"{value['value']:+.3f} [{low:+.3f}, {high:+.3f}]"


def _shown(score: Any) -> str:
    if not isinstance(score, dict):
        return "n/a"
    success = score.get("success") or {}
    value, low, high = success.get("value"), success.get("low"), success.get("high")
    if value is None:
        return "n/a"
    interval = f" [{low:.3f}, {high:.3f}]" if low is not None and high is not None else ""
    return f"{value:.3f}{interval} over {score.get('episodes')} conversations"


async def aoptimize(
    config: RunConfig | str | Path,
    settings: OptimizeSettings | None = None,
    *,
    progress: Progress | None = None,
    concurrency: int | None = None,
    pool: ModelPool | None = None,
) -> OptimizeResult:
    """Optimise the system prompt of ``config``'s target (see the module docstring)."""
    if not isinstance(config, RunConfig):
        config = load_config(config)
    settings = settings or OptimizeSettings()
    owns_pool = pool is None
    pool = pool or ModelPool(use_cache=config.cache)
    try:
        loop = _Loop(
            config,
            settings,
            pool=pool,
            progress=progress or (lambda _: None),
            concurrency=concurrency,
        )
        return await loop.run()
    finally:
        if owns_pool:
            await asyncio.shield(pool.aclose())


def optimize(
    config: RunConfig | str | Path, settings: OptimizeSettings | None = None, **kwargs: Any
) -> OptimizeResult:
    """Synchronous :func:`aoptimize`."""
    return asyncio.run(aoptimize(config, settings, **kwargs))
