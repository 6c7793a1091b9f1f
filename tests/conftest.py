from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_openai import FakeOpenAIServer, ServerState

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


# A test run started in the background by a shell without job control inherits SIGINT
# ignored, and so would every `simulacra` process the tests start and then interrupt:
# give SIGINT its usual meaning here, so that children start with the default.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def clean_environ(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test sees a real key, and no test writes to the user's cache."""
    for name in (
        "OPENAI_API_KEY",
        "SIMULACRA_CONCURRENCY",
        "SIMULACRA_RESUME",
        "SIMULACRA_NO_CACHE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIMULACRA_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def model_cache_dir() -> Path:
    """The real cache directory, where the embedded model is assembled once."""
    from simulacra.llm._weights import cache_dir

    return cache_dir()


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(ServerState()) as server:
        yield server


@pytest.fixture(autouse=True)
def forget_secrets() -> Iterator[None]:
    """Each test starts with no registered secrets (the registry is process-wide)."""
    from simulacra import _secrets

    _secrets.forget_all()
    yield
    _secrets.forget_all()


# the project's own tests use its pytest plugin (as an installed simulacra does by itself)
pytest_plugins = ["simulacra.testing", "pytester"]


@pytest.fixture(autouse=True)
def _simulacra_logger_as_it_was() -> Iterator[None]:
    """A command run in-process sets up the ``simulacra`` logger for a terminal (its
    handler, level, no propagation); the next test gets it back as it was, so caplog
    sees the records."""
    import logging

    logger = logging.getLogger("simulacra")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate
