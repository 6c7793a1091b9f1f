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
    └── RunError             a run directory is unusable (e.g. belongs to another config)

    ToolError                raised inside a tool; never escapes an episode: it becomes
                             the tool's result message, so the agent can react to it

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
    connections); ``retry_after`` is the server's ``Retry-After`` in seconds, if it gave one.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
    ):
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


class WeightsError(ModelError):
    """The embedded model's weights are missing, incomplete or fail verification."""


class TargetError(SimulacraError):
    """The system under test raised, or returned something that is not a message."""


class SandboxError(SimulacraError):
    """The sandbox itself could not run (not: the code in it failed)."""


class RunError(SimulacraError):
    """A run directory cannot be used as asked."""


class ToolError(Exception):
    """Raised by a tool to report a failure back to the agent as the tool's result."""


__all__ = [
    "ConfigError",
    "ModelError",
    "RunError",
    "SandboxError",
    "SimulacraError",
    "TargetError",
    "ToolError",
    "WeightsError",
]
