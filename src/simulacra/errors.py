"""Errors raised by simulacra.

The tree, drawn once::

    SimulacraError
    ├── ConfigError          a user's mistake in a config, persona, task or label file;
    │                        names the file and the field (or line) at fault
    ├── ModelError           a model call failed at run time; ``retryable``, ``status``
    │   │                    and ``retry_after`` tell the retry layer what to do
    │   └── WeightsError     the embedded model's weights are missing or corrupt
    ├── TargetError          the system under test raised or returned something unusable
    ├── SandboxError         model-written code could not be run in the sandbox
    ├── RunError             a run directory is unusable (e.g. belongs to another config,
    │                        or another process holds it)
    └── StorageError         the file system failed (disk full, read-only, permissions);
                             names the path

    ToolError                raised inside a tool; never escapes an episode: it becomes
                             the tool's result message, so the agent can react to it
    TaskWarning              (a UserWarning) task data that loads but deserves a look,
                             such as a ground-truth action that fails on replay
    ConfigWarning            (a UserWarning) a config that loads but will not do all it
                             could, such as tasks whose score needs a judge it lacks

``ToolError`` deliberately does not derive from ``SimulacraError``: it is part of a
conversation, not a failure of the framework.
"""

from __future__ import annotations


class SimulacraError(Exception):
    """Base class of every error simulacra raises on purpose."""


class ConfigError(SimulacraError):
    """Invalid user input: a config, persona, task or label file.

    ``source`` is the file (or ``"<config>"`` for an in-memory object) and ``field`` the
    dotted path or line at fault, so the message can say exactly where to look.
    """

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.message = message
        self.source = source
        self.field = field
        where = ": ".join(part for part in (source, field) if part)
        super().__init__(f"{where}: {message}" if where else message)


class ModelError(SimulacraError):
    """A model call failed.

    ``retryable`` is true for failures worth another try (429, 5xx, timeouts, dropped
    connections); ``retry_after`` is the server's ``Retry-After`` in seconds, if it gave one;
    ``timed_out`` says the call got no reply within its timeout (the retry layer then
    lowers the endpoint's concurrency, as for a 429).
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
        timed_out: bool = False,
    ):
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.timed_out = timed_out
        super().__init__(message)

    @property
    def fatal(self) -> bool:
        """The endpoint refused the credentials (401/403): every further call would too,
        so the run stops at once instead of recording the same error in every episode."""
        return self.status in (401, 403)


class WeightsError(ModelError):
    """The embedded model's weights are missing, incomplete or fail verification."""


class TargetError(SimulacraError):
    """The system under test raised, or returned something that is not a message."""


class SandboxError(SimulacraError):
    """The sandbox itself could not run (not: the code in it failed)."""


class RunError(SimulacraError):
    """A run directory cannot be used as asked."""


class StorageError(SimulacraError):
    """Reading or writing a run's files failed in the environment (disk, permissions).

    Every record finished before it stays on disk; ``--resume`` continues once the
    cause is fixed.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)

    @classmethod
    def from_os_error(cls, error: OSError, *, doing: str) -> StorageError:
        """``doing`` says what failed ("writing episodes"); the path comes from the error."""
        reason = error.strerror or type(error).__name__
        path = error.filename if error.filename is not None else None
        return cls(f"{doing} failed: {reason}", path=None if path is None else str(path))


class ToolError(Exception):
    """Raised by a tool to report a failure back to the agent as the tool's result."""


class TaskWarning(UserWarning):
    """Task data that loads but deserves a look: e.g. a ground-truth action that fails
    when replayed (the public benchmarks include such actions on purpose; the replay
    records the error and goes on, as theirs does). The message names the task."""


class ConfigWarning(UserWarning):
    """A config that loads but will not do all it could: e.g. selected tasks whose score
    needs a judge the config does not name. The message names the tasks."""


def stops_run(error: BaseException) -> bool:
    """Whether an error raised inside one episode or judgement must stop the whole run
    rather than be recorded there: the endpoint refused the credentials (every call
    would fail alike), or the file system failed (nothing more can be kept)."""
    return isinstance(error, StorageError) or (isinstance(error, ModelError) and error.fatal)


def first_error(error: BaseException) -> BaseException:
    """The first leaf of a (nested) exception group; the error itself otherwise."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def describe_error(error: BaseException, *, limit: int = 2000) -> str:
    """``Type: message`` of an error as an episode or a judgement records it (cut at
    ``limit`` characters: an error may quote a whole reply)."""
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "ConfigError",
    "ConfigWarning",
    "ModelError",
    "RunError",
    "SandboxError",
    "SimulacraError",
    "StorageError",
    "TargetError",
    "TaskWarning",
    "ToolError",
    "WeightsError",
    "describe_error",
    "first_error",
    "stops_run",
]
