"""A target that writes several candidate replies and lets a rater choose: best-of-n.

``type: best_of_n`` samples ``n`` replies of its model to each user turn (each with a
seed of its own, so a sampling temperature above 0 makes them differ) and a pairwise
rater (any pool entry of a raters config: a prompted model, a learned rater, a fixed
rule) picks one by a knockout: the first candidate is the champion, each other one
challenges it, and a challenger that wins takes its place (a tie keeps the champion).
With ``both_orders`` each comparison is judged in both orders and a verdict that flips
with the order counts as a tie, so a rater's position bias does not pick the winner.

The chosen reply goes on as the conversation's; every candidate, the comparisons and
the choice are recorded in the episode, in the ``meta.best_of_n`` of the reply's last
message. A rater that fails (its model keeps failing) leaves the first candidate
chosen, the error recorded there too.

::

    target:
      type: best_of_n
      model: local
      n: 4
      temperature: 0.9
      chooser: {model: judge, template: brief}    # or {fixed: longer}, {learned: r.json}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from simulacra._records import format_validation
from simulacra.errors import ConfigError, ModelError, describe_error, stops_run
from simulacra.llm import ChatModel, ChatParams, Completion, Message, Usage
from simulacra.rundir import Comparison, Estimate
from simulacra.sim.targets import (
    ModelTarget,
    ReplyCalls,
    TargetContext,
    TargetOptions,
    TargetReply,
    ToolBox,
    target_kinds,
)

if TYPE_CHECKING:
    from simulacra.feedback import PairRater

_CHOOSER_USAGE: ContextVar[list[Usage] | None] = ContextVar("chooser_usage", default=None)
"""Where the chooser's model calls add their usage while one reply is being chosen (a
context variable: replies of concurrent episodes are chosen at once)."""


class _MeteredModel:
    """The chooser's model, counting what each call spends into ``_CHOOSER_USAGE``."""

    def __init__(self, model: ChatModel) -> None:
        self.model = model

    @property
    def name(self) -> str:
        return self.model.name

    async def chat(self, messages: list[Message], params: ChatParams | None = None) -> Completion:
        completion = await self.model.chat(messages, params)
        spent = _CHOOSER_USAGE.get()
        if spent is not None:
            spent.append(completion.usage)
        return completion

    async def aclose(self) -> None:
        await self.model.aclose()


Verdict = Literal["A", "B", "tie"]


class BestOfNOptions(TargetOptions):
    """``type: best_of_n``: ``n`` candidates of ``model``, chosen by ``chooser``."""

    model: str = Field(default="local", description="a key of `models`")
    system_prompt: str | None = "You are a helpful assistant."
    n: int = Field(default=4, ge=2, le=16, description="candidates per turn")
    chooser: dict[str, Any] = Field(
        description="the rater that chooses: a pool entry as in raters.yaml "
        "({fixed: longer}, {model: judge, template: brief}, {learned: rater.json})"
    )
    both_orders: bool = Field(default=True, description="judge each comparison both ways")

    @field_validator("chooser")
    @classmethod
    def _a_rater(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """A pool entry, checked as raters.yaml checks one (feedback loads only here, so
        importing the targets stays cheap)."""
        from simulacra.feedback import RaterConfig

        entry = RaterConfig.model_validate({"id": "chooser", **value}, context=info.context)
        return dict(entry.model_dump(mode="json"))

    def rater_config(self) -> Any:
        from simulacra.feedback import RaterConfig

        return RaterConfig.model_validate(self.chooser)

    def label(self) -> str:
        return f"best_of_{self.n}:{self.model}"

    def models_used(self) -> list[str]:
        used = [self.model]
        chosen = self.chooser.get("model")
        if isinstance(chosen, str) and chosen not in used:
            used.append(chosen)
        return used

    def reply_calls(self) -> list[ReplyCalls]:
        """``n`` candidates of the target's model, and the chooser's calls when it is a
        prompted model: ``n - 1`` comparisons of the knockout, each in both orders with
        ``both_orders``, each retried once at most for a reply without a verdict, each
        reading the conversation and two candidates (as the rater cuts them)."""
        calls = [ReplyCalls(role="target", model=self.model, calls=self.n)]
        chosen = self.chooser.get("model")
        if not isinstance(chosen, str):
            return calls  # a rule or a learned rater calls no model
        from simulacra.feedback import RatersConfig, templates

        template = templates.get(str(self.chooser.get("template") or "default"))
        fields = RatersConfig.model_fields  # the chooser's pool takes their defaults
        writes = self.chooser.get("max_tokens")
        calls.append(
            ReplyCalls(
                role="chooser",
                model=chosen,
                calls=(self.n - 1) * (2 if self.both_orders else 1),
                attempts=1 + int(fields["max_retries"].default),
                instructions=template.system + template.user,
                reads_replies=2,
                max_read_chars=int(fields["max_chars"].default),
                writes=writes if isinstance(writes, int) else None,
            )
        )
        return calls


class BestOfNTarget(ModelTarget):
    """A model target whose first completion of each turn is the best of ``n``."""

    def __init__(
        self,
        model: ChatModel,
        *,
        rater: PairRater,
        n: int = 4,
        both_orders: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(model, **options)
        if n < 2:
            raise ConfigError("best_of_n needs n of at least 2", field="target.n")
        self.rater = rater
        self.n = n
        self.both_orders = both_orders

    async def respond(
        self, transcript: list[Message], *, seed: int, tools: ToolBox | None = None
    ) -> TargetReply:
        prefix = self.prefix(tools)
        reply = TargetReply(messages=[])
        candidates: list[Completion] = []
        for index in range(self.n):
            params = self.tool_params(seed + 7919 * index, tools)
            completion = await self.model.chat(prefix + transcript, params)
            reply.usage = reply.usage + completion.usage
            reply.latency_s += completion.latency_s
            candidates.append(completion)
        spent: list[Usage] = []
        token = _CHOOSER_USAGE.set(spent)
        try:
            record = await self._choose(transcript, candidates, seed=seed)
        finally:
            _CHOOSER_USAGE.reset(token)
        if spent:
            reply.other_usage["chooser"] = sum(spent, Usage())
        reply.meta = {"best_of_n": record}
        chosen = [candidates[record["chosen"]].message()]
        return await self.run_tools(prefix, transcript, chosen, seed=seed, tools=tools, reply=reply)

    async def _choose(
        self, transcript: Sequence[Message], candidates: Sequence[Completion], *, seed: int
    ) -> dict[str, Any]:
        shown = [_content(c.message()) for c in candidates]
        record: dict[str, Any] = {
            "n": len(candidates),
            "rater": self.rater.id,
            "candidates": [c.message().to_dict() for c in candidates],
            "chosen": 0,
            "comparisons": [],
            "error": None,
        }
        context = [m.to_dict() for m in transcript if m.role in ("user", "assistant")]
        champion = 0
        for challenger in range(1, len(candidates)):
            verdict, orders = await self._compare(
                context, shown[champion], shown[challenger], seed=seed + challenger, record=record
            )
            record["comparisons"].append(
                {
                    "champion": champion,
                    "challenger": challenger,
                    "verdict": verdict,
                    "orders": orders,
                }
            )
            if record["error"] is not None:
                champion = 0  # a failing rater chooses nothing: the first candidate stands
                break
            if verdict == "B":
                champion = challenger
        record["chosen"] = champion
        return record

    async def _compare(
        self, context: list[dict[str, Any]], a: Any, b: Any, *, seed: int, record: dict[str, Any]
    ) -> tuple[Verdict | None, list[dict[str, Any]]]:
        if not _said(a) or not _said(b):  # an empty reply loses to anything said
            return ("tie" if _said(a) == _said(b) else "A" if _said(a) else "B"), []
        from simulacra.feedback import PairItem

        item = PairItem(
            item_id=f"best_of_n:{seed}",
            context=context or "(no context)",
            response_a=a,
            response_b=b,
        )
        firsts: list[Literal["A", "B"]] = (
            ["A", "B"] if self.both_orders else ["A" if seed % 2 else "B"]
        )
        orders: list[dict[str, Any]] = []
        verdicts: list[Verdict] = []
        for first in firsts:
            try:
                judged = await self.rater.compare(item, first_shown=first, seed=seed)
            except Exception as exc:
                if stops_run(exc) or not isinstance(exc, ModelError | ValueError):
                    raise
                record["error"] = describe_error(exc)
                return None, orders
            orders.append(
                {
                    "first_shown": first,
                    "verdict": judged.verdict,
                    "parse": judged.parse,
                    "error": judged.error,
                }
            )
            if judged.error is not None and judged.verdict is None:
                # the rater's model failed (it says so rather than raising): nothing chosen
                record["error"] = judged.error
                return None, orders
            if judged.verdict is not None:
                verdicts.append(judged.verdict)
        if not verdicts:
            return None, orders
        return (verdicts[0] if len(set(verdicts)) == 1 else "tie"), orders


def _content(message: Message) -> Any:
    """What the rater sees of a candidate: its text, or the message when it calls tools."""
    return [message.to_dict()] if message.tool_calls else message.content


def _said(content: Any) -> bool:
    return bool(content if not isinstance(content, str) else content.strip())


@target_kinds.register("best_of_n", options=BestOfNOptions)
def _best_of_n_target(options: BestOfNOptions, context: TargetContext) -> BestOfNTarget:
    from simulacra.feedback import RaterContext, RatersConfig, rater_kinds

    chooser = options.rater_config()

    def model(key: str) -> ChatModel:
        if key not in context.models:
            raise ConfigError(f"no model {key!r} in models", field="target.chooser.model")
        return _MeteredModel(context.pool.build(context.models[key], seed=context.seed))

    try:
        raters = RatersConfig.model_validate({"models": dict(context.models), "pool": [chooser]})
    except ValidationError as exc:
        field, message = format_validation(exc)
        raise ConfigError(message, field=f"target.chooser ({field})") from None
    build = rater_kinds.get(chooser.kind)
    members = build(
        chooser,
        chooser.options,
        RaterContext(config=raters, model=model, where="target.chooser"),
    )
    if len(members) != 1:
        raise ConfigError("the chooser must be one rater (no population)", field="target.chooser")
    try:
        target_model = context.pool.build(context.models[options.model], seed=context.seed)
    except (ConfigError, KeyError) as exc:
        raise ConfigError(str(exc), field=f"models.{options.model}") from None
    return BestOfNTarget(
        target_model,
        rater=members[0].rater,
        n=options.n,
        both_orders=options.both_orders,
        system_prompt=options.system_prompt,
        params=context.params,
        name=context.name,
    )


@dataclass(frozen=True, kw_only=True)
class SingleSampleComparison:
    """One ``simulacra compare`` of a best-of-n run with a run of plain samples (n = 1),
    seen from the best-of-n run."""

    run: str
    """The run of plain samples (its directory's name)."""
    same_model: bool
    """Whether both runs sample the same model (else the rate mixes two effects)."""
    comparison: Comparison
    path: Path
    """The comparison file it was read from (in either run)."""

    @property
    def win_rate(self) -> Estimate | None:
        """The raters' win rate of best-of-n, ties half."""
        return self.comparison.win_rate

    @property
    def length_controlled(self) -> Estimate | None:
        """The win rate at equal length: what is left once the raters' taste for longer
        replies (and the chooser's) is taken out."""
        lc = self.comparison.length_controlled
        return lc.win_rate if lc is not None else None

    @property
    def warning(self) -> str | None:
        lc = self.comparison.length_controlled
        return lc.warning if lc is not None else None


@dataclass(frozen=True, kw_only=True)
class SingleSampleComparisons:
    """What the ``simulacra compare`` files in and beside a best-of-n run say of it
    against plain samples, and, for runs not compared yet, the command that compares."""

    run_dir: Path
    n: int | None
    model: str | None
    comparisons: list[SingleSampleComparison]
    plain: list[Path]
    """Runs of plain samples beside it, not compared with it yet (those of the same
    model first)."""

    def command(self) -> str:
        """``simulacra compare`` of this run with the first plain run beside it (or a
        placeholder for one): what writes the comparison the win rate is read from."""
        other = _shown(self.plain[0]) if self.plain else "RUN_OF_PLAIN_SAMPLES"
        return f"simulacra compare {_shown(self.run_dir)} {other}"


def comparisons_with_single_samples(run_dir: str | Path) -> SingleSampleComparisons | None:
    """How a best-of-n run fared against runs of plain samples (n = 1), from the
    ``simulacra compare`` files in either run: for each, the other run, the raters' win
    rate of best-of-n and the length-controlled win rate beside it (each an estimate
    with its interval; a rater that prefers longer replies inflates the first, not the
    second). None when the run is not best-of-n; ``comparisons`` empty when nothing was
    compared yet. What ``simulacra show`` prints and the report lays out."""
    from simulacra.feedback import read_comparison

    run = Path(run_dir)
    mine = _target_of(run)
    if mine.get("type") != "best_of_n":
        return None
    here = run.resolve()
    others: set[Path] = set()
    for path in here.glob("compare_*.json"):
        others.add(here.parent / path.name[len("compare_") : -len(".json")])
    for path in here.parent.glob(f"*/compare_{here.name}.json"):
        others.add(path.parent)
    found: list[SingleSampleComparison] = []
    for other in sorted(others):
        theirs = _target_of(other)
        if not _plain(theirs, other):
            continue
        read = read_comparison(here, other)
        if read is None:
            continue
        found.append(
            SingleSampleComparison(
                run=other.name,
                same_model=theirs.get("model") == mine.get("model"),
                comparison=read.comparison,
                path=read.path,
            )
        )
    compared = {c.run for c in found}
    plain = [
        here.parent / other.name
        for other in sorted(here.parent.iterdir() if here.parent.is_dir() else [])
        if other != here and other.name not in compared and _plain(_target_of(other), other)
    ]
    plain.sort(key=lambda p: _target_of(p).get("model") != mine.get("model"))
    n, model = mine.get("n"), mine.get("model")
    return SingleSampleComparisons(
        run_dir=run,
        n=n if isinstance(n, int) else None,
        model=model if isinstance(model, str) else None,
        comparisons=found,
        plain=plain,
    )


def _target_of(path: Path) -> dict[str, Any]:
    """The ``target`` section of a run's ``config.json`` ({} when there is none)."""
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = config.get("target") if isinstance(config, dict) else None
    return found if isinstance(found, dict) else {}


def _plain(target: dict[str, Any], path: Path) -> bool:
    """A run directory of plain samples: a ``model`` target, and episodes."""
    return (
        bool(target)
        and target.get("type", "model") == "model"
        and (path / "episodes.jsonl").exists()
    )


def _shown(path: Path) -> str:
    """A path as a person would type it here: relative to the working directory when
    it is under it, else absolute."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(resolved)
