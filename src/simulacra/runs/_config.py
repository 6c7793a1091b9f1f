"""Run configuration: one typed object, loaded from YAML or built in Python.

Unknown keys, wrong types, missing files and unknown persona, task, model or simulator
names are all ``ConfigError``s that name the file and the field, raised before anything
is written or any model is called.
"""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from simulacra._records import read_records, validate_config
from simulacra.errors import ConfigError, ConfigWarning
from simulacra.feedback import CheckJudgeConfig
from simulacra.llm import ModelConfig
from simulacra.people import Persona, Population, builtin_personas, load_personas, parse_personas
from simulacra.registry import Chosen, Entry, Registry, relocated
from simulacra.rundir import DEFAULT_MODE, Mode
from simulacra.runs._executors import ExecutorConfig
from simulacra.sim.targets import CallableTargetOptions, TargetOptions, target_kinds
from simulacra.sim.users import Simulator, simulator_entry, simulators
from simulacra.tasks import (
    Task,
    judged_assertions,
    load_tasks,
    parse_tasks,
    suite_entry,
    suite_tasks,
    suites,
)

NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"


def timestamped_name(prefix: str = "run") -> str:
    """``PREFIX-YYYYMMDD-HHMMSS`` (local time), the name of a run whose config gives none;
    characters a run name may not hold are replaced in the prefix."""
    stem = re.sub(r"[^A-Za-z0-9_.\-]+", "-", prefix).strip("-.") or "run"
    return f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"


def _default_modes() -> list[Mode]:
    return [DEFAULT_MODE]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserConfig(Chosen):
    """The simulated user: which simulator, on which model, with which options.

    ``options`` are the simulator's own, checked against the options model it was
    registered with (an unknown one is an error).
    """

    registry: ClassVar[Registry[Any]] = simulators
    key: ClassVar[str] = "simulator"
    nested: ClassVar[bool] = True

    simulator: str = "llm"
    model: str = "local"
    max_regenerations: int = Field(default=2, ge=0, le=10)
    temperature: float = Field(default=0.8, ge=0, le=2)
    max_tokens: int = Field(default=96, ge=8)

    def simulator_spec(self) -> Simulator:
        """The registered simulator (its factory, and whether it needs a model)."""
        return simulator_entry(self.simulator)[0]


class TargetConfig(Chosen):
    """The system under test: its kind (``type``) and that kind's options beside it."""

    registry: ClassVar[Registry[Any]] = target_kinds
    key: ClassVar[str] = "type"

    type: str = "model"
    name: str | None = None
    options: SerializeAsAny[TargetOptions] = Field(default_factory=TargetOptions)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)

    def label(self) -> str:
        return self.name or self.options.label()


class PersonasConfig(_Strict):
    """Where personas come from: built-in names (or "all"), a file, inline, or a population."""

    builtin: list[str] | Literal["all"] | None = None
    file: str | None = None
    inline: list[dict[str, Any]] | None = None
    population: Population | None = None
    limit: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _some_source(self) -> PersonasConfig:
        if not (self.builtin or self.file or self.inline) and self.population is None:
            raise ValueError("give builtin, file, inline or population")
        return self


class SuiteConfig(Chosen):
    """A task suite with options: ``{name: tau-retail, data_dir: ...}``."""

    registry: ClassVar[Registry[Any]] = suites
    key: ClassVar[str] = "name"

    name: str

    @classmethod
    def lookup(cls, name: str) -> Entry[Any]:
        return suite_entry(name)


class TauRetailConfig(_Strict):
    """``tasks: {tau_retail: {data_dir: DIR, tasks_file: ..., suite: ...}}``: any split in
    the public retail task format (the same as suite ``{name: tau-retail, ...}``)."""

    data_dir: str = Field(min_length=1)
    tasks_file: str = Field(default="retail_tasks_dev.json", min_length=1)
    suite: str | None = Field(default=None, min_length=1)


class Tau2TelecomConfig(_Strict):
    """``tasks: {tau2_telecom: {data_dir: DIR, tasks_file: ..., suite: ...}}``: tasks in
    the τ² format on the telecom domain (the same as suite ``{name: tau2-telecom, ...}``)."""

    data_dir: str = Field(min_length=1)
    tasks_file: str = Field(default="tasks_train.json", min_length=1)
    suite: str | None = Field(default=None, min_length=1)
    tech_support: str = Field(default="tech_support_manual.md", min_length=1)


class TasksConfig(_Strict):
    suite: str | list[str | SuiteConfig] | None = Field(
        default=None, description="a suite's name, or a list of names and {name: ..., <options>}"
    )

    @field_validator("suite", mode="before")
    @classmethod
    def _suite_options(cls, value: Any, info: ValidationInfo) -> Any:
        # each {name: ..., <options>} is checked here, so a problem names its place
        if not isinstance(value, list):
            return value
        items: list[Any] = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                try:
                    item = SuiteConfig.model_validate(item, context=info.context)
                except ValidationError as exc:
                    raise relocated(exc, (index,)) from None
            items.append(item)
        return items

    file: str | None = None
    tau_retail: str | TauRetailConfig | None = Field(
        default=None,
        description="a directory holding retail tasks in the public tau-bench format, or "
        "{data_dir, tasks_file, suite} (the same as suite {name: tau-retail, ...})",
    )
    tau2_telecom: str | Tau2TelecomConfig | None = Field(
        default=None,
        description="a directory holding telecom tasks in the public tau2-bench format, or "
        "{data_dir, tasks_file, suite, tech_support} (the same as suite {name: tau2-telecom, ...})",
    )
    inline: list[dict[str, Any]] | None = None
    ids: list[str] | None = None
    limit: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _some_source(self) -> TasksConfig:
        if not (self.suite or self.file or self.inline or self.tau_retail or self.tau2_telecom):
            raise ValueError("give suite, file, inline, tau_retail or tau2_telecom")
        return self


class RunConfig(_Strict):
    """One experiment. ``simulacra run CONFIG.yaml`` and ``simulacra.run(config)`` take this."""

    name: str = Field(
        pattern=NAME_PATTERN,
        description="the run directory's name under output_dir (default: a timestamped one)",
    )
    seed: int = 0
    models: dict[str, ModelConfig] = Field(default_factory=lambda: {"local": ModelConfig()})
    user: UserConfig = Field(default_factory=UserConfig)
    target: TargetConfig = Field(default_factory=TargetConfig)
    personas: PersonasConfig = Field(default_factory=lambda: PersonasConfig(builtin="all"))
    tasks: TasksConfig = Field(default_factory=lambda: TasksConfig(suite="everyday"))
    repeats: int = Field(default=1, ge=1, le=100_000)
    modes: list[Mode] = Field(
        default_factory=_default_modes,
        min_length=1,
        description="how tasks reach the assistant",
    )
    max_turns: int | None = Field(default=None, ge=1, le=100)
    judge: CheckJudgeConfig | None = Field(
        default=None,
        description="who scores judged tasks (default: the user's model, checklist template) "
        "and, only when given, the NL assertions of τ² tasks",
    )
    concurrency: int = Field(default=4, ge=1, le=4096)
    output_dir: str = "runs"
    cache: bool = True
    max_errors: int | float | None = Field(
        default=None,
        ge=0,
        description="the errored episodes a run may have and still succeed (exit 0): a count "
        "(a whole number, 3) or a share (0.1); default: a run fails only when every episode "
        "errored",
    )
    fail_under: dict[str, float] = Field(
        default_factory=dict,
        description="gates on the summary: {success: 0.8, pass^2: 0.5} fails the run (exit 1) "
        "when a measure's estimate is under its threshold",
    )
    base_dir: str | None = Field(default=None, description="where relative paths resolve")
    executor: ExecutorConfig = Field(
        default_factory=ExecutorConfig,
        description="where the episodes are played: local (this process, the default) or "
        "ray (a Ray cluster), with the executor's options beside its name",
    )
    _source: str = PrivateAttr(default="<config>")

    @property
    def source(self) -> str:
        """The file this config was read from (``<config>`` when built in Python)."""
        return self._source

    @model_validator(mode="before")
    @classmethod
    def _mode_spellings(cls, data: Any) -> Any:
        # `mode:` is accepted for `modes:`, and a single mode may be a plain string.
        if not isinstance(data, dict):
            return data
        if "name" not in data:
            data = {**data, "name": timestamped_name()}
        target = data.get("target")
        if callable(target) and not isinstance(target, BaseModel | type):
            # in Python, the target may be the function itself
            data = {**data, "target": {"type": "callable", "callable": target}}
        if "mode" in data:
            if "modes" in data:
                raise ValueError("modes and mode are the same setting: give only one")
            data = {k: v for k, v in data.items() if k != "mode"} | {"modes": data["mode"]}
        if isinstance(data.get("modes"), str):
            data = {**data, "modes": [data["modes"]]}
        return data

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if set(value) == {"."}:
            raise ValueError(f"name {value!r} is not a directory name of its own")
        return value

    @field_validator("max_errors")
    @classmethod
    def _count_or_share(cls, value: int | float | None) -> int | float | None:
        if isinstance(value, float) and value > 1:
            raise ValueError(
                f"{value} is neither a share (0 to 1) nor a count (a whole number, as 3)"
            )
        return value

    @field_validator("fail_under")
    @classmethod
    def _gates(cls, value: dict[str, float]) -> dict[str, float]:
        from simulacra.runs._plan import check_metric_name

        for name, threshold in value.items():
            check_metric_name(name)
            if not 0 <= threshold <= 1:
                raise ValueError(f"{name}: {threshold} is not a share between 0 and 1")
        return value

    @field_validator("modes")
    @classmethod
    def _distinct_modes(cls, value: list[Mode]) -> list[Mode]:
        repeated = sorted({m for m in value if value.count(m) > 1})
        if repeated:
            raise ValueError(f"mode listed twice: {', '.join(repeated)}")
        return value

    @field_validator("models")
    @classmethod
    def _model_names(cls, value: dict[str, ModelConfig]) -> dict[str, ModelConfig]:
        if not value:
            raise ValueError("define at least one model")
        return value

    @model_validator(mode="after")
    def _references(self) -> RunConfig:
        for name in self.fail_under:
            if name.startswith("pass^") and int(name[5:]) > self.repeats:
                raise ValueError(
                    f"fail_under: {name} needs repeats of at least {name[5:]} "
                    f"(repeats is {self.repeats})"
                )
        if self.user.simulator_spec().needs_model and self.user.model not in self.models:
            raise ValueError(
                f"user.model {self.user.model!r} is not a key of models ({', '.join(self.models)})"
            )
        judge = self.judge.model if self.judge is not None else None
        if judge is not None and judge not in self.models:
            raise ValueError(
                f"judge.model {judge!r} is not a key of models ({', '.join(self.models)})"
            )
        for key in self.target.options.models_used():
            if key not in self.models:
                raise ValueError(
                    f"target.model {key!r} is not a key of models ({', '.join(self.models)})"
                )
        return self

    # -- resolution ---------------------------------------------------------------------

    def judge_settings(self) -> tuple[str, CheckJudgeConfig]:
        """The judge of judged tasks: its model's key (default: the user's) and settings."""
        judge = self.judge or CheckJudgeConfig()
        return judge.model or self.user.model, judge

    def path(self, value: str) -> Path:
        path = Path(value).expanduser()
        if not path.is_absolute() and self.base_dir:
            path = Path(self.base_dir) / path
        return path

    def run_dir(self) -> Path:
        return self.path(self.output_dir) / self.name

    def resolve_personas(self) -> list[Persona]:
        source = self.personas
        personas: list[Persona] = []
        library = {p.name: p for p in builtin_personas()}
        if source.builtin == "all":
            personas.extend(library.values())
        elif source.builtin:
            for index, name in enumerate(source.builtin):
                if name not in library:
                    raise ConfigError(
                        f"unknown persona {name!r} (known: {', '.join(sorted(library))})",
                        source=self.source,
                        field=f"personas.builtin[{index}]",
                    )
                personas.append(library[name])
        if source.file:
            path = self.path(source.file)
            if not path.exists():
                raise ConfigError(
                    f"file {path} not found", source=self.source, field="personas.file"
                )
            personas.extend(load_personas(path))
        if source.inline:
            personas.extend(parse_personas(source.inline, source="personas.inline"))
        if source.population is not None:
            source.population.check_paths()
            personas = source.population.sample(personas or list(library.values()))
        names = [p.name for p in personas]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(
                f"duplicate persona names: {', '.join(duplicates)}",
                source=self.source,
                field="personas",
            )
        return personas[: source.limit] if source.limit else personas

    def resolve_tasks(self) -> list[Task]:
        source = self.tasks
        tasks: list[Task] = []
        chosen = source.suite if isinstance(source.suite, list) else [source.suite]
        chosen = [s for s in chosen if s is not None]
        for index, suite in enumerate(chosen):
            where = f"tasks.suite[{index}]"
            try:
                if isinstance(suite, SuiteConfig):
                    tasks.extend(suite_tasks(suite.name, suite.options))
                else:
                    options = suite_entry(suite).parse({}, field=where)
                    tasks.extend(suite_tasks(suite, options))
            except ConfigError as exc:
                raise ConfigError(
                    exc.message, source=self.source, field=exc.field or where
                ) from None
        if source.file:
            path = self.path(source.file)
            if not path.exists():
                raise ConfigError(f"file {path} not found", source=self.source, field="tasks.file")
            tasks.extend(load_tasks(path))
        if source.inline:
            tasks.extend(parse_tasks(source.inline, source="tasks.inline"))
        routes: list[tuple[str, str, Any, type[TauRetailConfig] | type[Tau2TelecomConfig]]] = [
            ("tau_retail", "tau-retail", source.tau_retail, TauRetailConfig),
            ("tau2_telecom", "tau2-telecom", source.tau2_telecom, Tau2TelecomConfig),
        ]
        for key, suite_name, given, model in routes:
            if not given:
                continue
            settings_model = model(data_dir=given) if isinstance(given, str) else given
            where = f"tasks.{key}" + ("" if isinstance(given, str) else ".data_dir")
            path = self.path(settings_model.data_dir)
            if not path.is_dir():
                raise ConfigError(f"directory {path} not found", source=self.source, field=where)
            settings = settings_model.model_dump(exclude_none=True) | {
                "data_dir": str(path.resolve())
            }
            try:
                entry = suite_entry(suite_name)
                tasks.extend(suite_tasks(suite_name, entry.parse(settings, field=f"tasks.{key}")))
            except ConfigError as exc:
                raise ConfigError(
                    str(exc), source=self.source, field=exc.field or f"tasks.{key}"
                ) from None
        if source.ids:
            by_id = {t.id: t for t in tasks}
            for index, task_id in enumerate(source.ids):
                if task_id not in by_id:
                    raise ConfigError(
                        f"unknown task id {task_id!r}",
                        source=self.source,
                        field=f"tasks.ids[{index}]",
                    )
            tasks = [by_id[i] for i in source.ids]
        ids = [t.id for t in tasks]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ConfigError(
                f"duplicate task ids: {', '.join(duplicates)}", source=self.source, field="tasks"
            )
        tasks = tasks[: source.limit] if source.limit else tasks
        self._warn_unjudged(tasks)
        return tasks

    def _warn_unjudged(self, tasks: list[Task]) -> None:
        """Warn when tasks whose score needs a judge's verdict on their assertions (a τ²
        task with NL_ASSERTION in its reward basis) meet a config without ``judge:``:
        they are recorded as not judged and cannot succeed."""
        if self.judge is not None:
            return
        needing = [task.id for task in tasks if judged_assertions(task)]
        if not needing:
            return
        shown = ", ".join(needing[:10]) + (
            f" and {len(needing) - 10} more" if len(needing) > 10 else ""
        )
        warnings.warn(
            f"{self.source}: {len(needing)} selected task(s) have NL_ASSERTION in their reward "
            f"basis but the config has no judge: section, so their assertions are not judged "
            f"and they cannot succeed: {shown}",
            ConfigWarning,
            stacklevel=2,
        )

    def check_run_dir(self) -> Path:
        """The run directory, checked: neither it nor ``output_dir`` is a file."""
        output = self.path(self.output_dir)
        if output.exists() and not output.is_dir():
            raise ConfigError(
                f"{output} is not a directory", source=self.source, field="output_dir"
            )
        # the name pattern has no "/" and the name is not "." or "..", so the run
        # directory is a child of output_dir
        run_dir = self.run_dir()
        if run_dir.exists() and not run_dir.is_dir():
            raise ConfigError(f"{run_dir} is not a directory", source=self.source, field="name")
        return run_dir

    def validate_references(self) -> tuple[list[Persona], list[Task]]:
        """Resolve everything a run needs; raise ``ConfigError`` on the first problem."""
        self.check_run_dir()
        if isinstance(self.target.options, CallableTargetOptions):
            try:
                self.target.options.function(self.base_dir)
            except ConfigError as exc:
                raise ConfigError(
                    exc.message, source=self.source, field="target.callable"
                ) from None
        personas = self.resolve_personas()
        tasks = self.resolve_tasks()
        if not personas:
            raise ConfigError("no personas selected", source=self.source, field="personas")
        if not tasks:
            raise ConfigError("no tasks selected", source=self.source, field="tasks")
        return personas, tasks

    def with_overrides(self, *, source: str | None = None, **changes: Any) -> RunConfig:
        """A copy with some settings replaced, validated as if they had been in the file.

        An invalid value is a ``ConfigError`` naming ``source`` (say, the command-line
        option it came from); the copy keeps this config's file as its source.
        """
        data = self.model_dump(mode="json", exclude_unset=True) | changes
        function = getattr(self.target.options, "callable", None)
        if "target" not in changes and callable(function):
            # a function given as the target stays that function (its dumped path may not
            # import: a function defined inside another one has none)
            data["target"] = {**data["target"], "callable": function}
        try:
            config = parse_config(data, source=self.source)
        except ConfigError as exc:
            if source is None:
                raise
            raise ConfigError(exc.message, source=source) from None
        return config


def parse_config(data: Any, *, source: str = "<config>", base_dir: str | None = None) -> RunConfig:
    config = validate_config(RunConfig, data, source=source, base_dir=base_dir)
    config._source = source
    return config


def load_config(path: str | Path) -> RunConfig:
    """Read a run config from YAML (safely: no tags, no code)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError("config file not found", source=str(path))
    data = read_records(path, what="config")
    if isinstance(data, dict) and "name" not in data:
        data = {**data, "name": timestamped_name(path.stem)}
    return parse_config(data, source=str(path), base_dir=str(path.parent.resolve()))
