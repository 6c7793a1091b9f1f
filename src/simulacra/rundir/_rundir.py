"""``RunDir``: one run directory, checked once, read as typed records.

Every stage after the runner opens a run through ``RunDir.open(path)``, which raises one
error type (``RunError``) naming why a path is not a run directory, and reads its files
through it: ``episodes()``, ``summary()``, ``config()``, ``feedback()``. Records are
upgraded from older versions as they are read; a line that is not a record of its kind
is skipped and named in ``warnings``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from simulacra._records import KeyedLog, gc_paused, read_jsonl
from simulacra.errors import RunError
from simulacra.rundir._documents import FeedbackSummary, Fidelity
from simulacra.rundir._files import CONFIG, EPISODES, FEEDBACK, FEEDBACK_SUMMARY, FIDELITY, SUMMARY
from simulacra.rundir._models import (
    DEFAULT_MODE,
    SCHEMA_VERSION,
    Episode,
    FeedbackRecord,
    Summary,
    upgrade,
)


def match_key(episode: Episode | Mapping[str, Any]) -> tuple[str, str, str, int]:
    """Persona, task, mode and repeat: what pairs an episode with its counterpart in
    another run (``compare``) or another repeat of the same run."""
    if isinstance(episode, Episode):
        return episode.match_key()
    persona, task = episode.get("persona"), episode.get("task")
    name = persona.get("name") if isinstance(persona, Mapping) else None
    task_id = task.get("id") if isinstance(task, Mapping) else None
    mode, repeat = episode.get("mode"), episode.get("repeat")
    return (
        name if isinstance(name, str) else "",
        task_id if isinstance(task_id, str) else "",
        mode if isinstance(mode, str) and mode else DEFAULT_MODE,
        repeat if isinstance(repeat, int) and not isinstance(repeat, bool) else 0,
    )


def _first_error(exc: ValidationError) -> str:
    """Where and what the first problem of a record is, e.g. ``bias.position: ...``."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def _episode_line(raw: bytes) -> Episode | dict[str, Any] | None:
    """One line of ``episodes.jsonl``: the episode when it is a valid one of the current
    version, else its JSON object to upgrade and check, or None for a torn or invalid line."""
    if not raw.endswith(b"\n"):
        return None  # torn: the episode in flight when a run stopped
    try:
        item = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            item = json.loads(raw)  # NaN and the infinities, which orjson refuses
        except ValueError:
            return None
    if not isinstance(item, dict):
        return None
    if item.get("schema_version") == SCHEMA_VERSION:
        with contextlib.suppress(ValidationError):  # not an episode: the caller says why
            return Episode.model_validate(item)
    return item


class EpisodeStore(KeyedLog):
    """The writer of ``episodes.jsonl``: one whole line per finished episode, flushed at
    once; on resume a torn last line is cut and duplicated ids dropped (``repair``)."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(run_dir / EPISODES, key="id")


def read_episodes(run_dir: str | Path) -> list[dict[str, Any]]:
    """Every episode line of a run directory as JSON, each id once (the first)."""
    return RunDir(run_dir).episode_records()


class RunDir:
    """A run directory. ``RunDir.open`` checks it; the methods read its files."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.warnings: list[str] = []

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """``path`` as a run directory, or a ``RunError`` saying why it is not one."""
        run_dir = Path(path)
        if not run_dir.exists():
            raise RunError(f"{run_dir}: no such directory")
        if not run_dir.is_dir():
            raise RunError(f"{run_dir}: not a directory")
        if not (run_dir / EPISODES).is_file():
            raise RunError(f"{run_dir}: no {EPISODES} here (is this a run directory?)")
        return cls(run_dir)

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def name(self) -> str:
        """The run's name: from the summary or the config, else the directory's."""
        summary, config = self._json(SUMMARY) or {}, self.config() or {}
        for candidate in (summary.get("run"), config.get("name")):
            if isinstance(candidate, str) and candidate:
                return candidate
        return self.path.resolve().name or str(self.path)

    # -- episodes ----------------------------------------------------------------------------

    def episode_records(self) -> list[dict[str, Any]]:
        """Every episode line as upgraded JSON (each id once, the first; torn lines
        skipped): for stages that lay records out rather than compute with them."""
        try:
            return [upgrade(item) for item in read_jsonl(self.file(EPISODES), key="id")]
        except OSError as exc:
            raise RunError(f"{self.file(EPISODES)}: cannot read ({exc.strerror})") from None

    def iter_episodes(self) -> Iterator[Episode]:
        """Every episode, typed, in file order (each id once, the first).

        Lines are parsed by orjson (with the standard library for what it refuses, such
        as NaN); a line of the current version is validated as it is, any other one is
        upgraded first, as in ``episode_records``, so both read the same.
        """
        path = self.file(EPISODES)
        seen: set[str] = set()
        number = 0
        try:
            with path.open("rb") as handle:
                for raw in handle:
                    parsed = _episode_line(raw)
                    if parsed is None:
                        continue
                    key = parsed.id if isinstance(parsed, Episode) else str(parsed.get("id"))
                    if key in seen:
                        continue
                    seen.add(key)
                    number += 1
                    if isinstance(parsed, Episode):
                        yield parsed
                        continue
                    try:
                        yield Episode.from_dict(upgrade(parsed))
                    except ValidationError as exc:
                        self.warnings.append(
                            f"{EPISODES}: episode {number} ({parsed.get('id', '?')}) is not an "
                            f"episode record ({exc.errors()[0]['loc']}: "
                            f"{exc.errors()[0]['msg']}); skipped"
                        )
        except FileNotFoundError:
            return
        except OSError as exc:
            raise RunError(f"{path}: cannot read ({exc.strerror})") from None

    def episodes(self) -> list[Episode]:
        """Every episode, typed (each id once; lines that are not episodes are skipped
        and named in ``warnings``)."""
        with gc_paused():
            return list(self.iter_episodes())

    # -- the other files ---------------------------------------------------------------------

    def summary(self) -> Summary | None:
        """``summary.json``, or None when it is missing or unreadable (see ``warnings``)."""
        data = self.summary_data()
        return None if data is None else Summary.from_dict(data)

    def summary_data(self) -> dict[str, Any] | None:
        """``summary.json`` as written, when it is a summary (else None, with a warning)."""
        data = self._json(SUMMARY)
        if data is None:
            return None
        try:
            Summary.from_dict(data)
        except ValidationError as exc:
            self._warn(f"{SUMMARY}: not a summary ({_first_error(exc)})")
            return None
        return data

    def config(self) -> dict[str, Any] | None:
        """``config.json``: the resolved config the run was made with."""
        return self._json(CONFIG)

    def feedback(self) -> list[FeedbackRecord]:
        """Every judgement of ``feedback.jsonl`` (each key once), typed."""
        out: list[FeedbackRecord] = []
        for item in self.feedback_records():
            try:
                out.append(FeedbackRecord.from_dict(item))
            except ValidationError:
                self._warn(f"{FEEDBACK}: a line that is not a judgement (no kind); skipped")
        return out

    def feedback_records(self) -> list[dict[str, Any]]:
        """Every judgement line as upgraded JSON; of lines sharing a key, the first."""
        seen: set[str] = set()
        out: list[dict[str, Any]] = []
        try:
            for item in read_jsonl(self.file(FEEDBACK)):
                key = item.get("key")
                if isinstance(key, str):
                    if key in seen:
                        continue
                    seen.add(key)
                out.append(upgrade(item))
        except OSError as exc:
            self._warn(f"{FEEDBACK}: cannot read ({exc.strerror})")
        return out

    def feedback_summary(self) -> FeedbackSummary | None:
        """``feedback_summary.json``, or None when it is missing or is not one (see
        ``warnings``)."""
        data = self._json(FEEDBACK_SUMMARY)
        if data is None:
            return None
        try:
            return FeedbackSummary.from_dict(data)
        except ValidationError as exc:
            self._warn(f"{FEEDBACK_SUMMARY}: not a feedback summary ({_first_error(exc)})")
            return None

    def fidelity(self) -> Fidelity | None:
        """``fidelity.json``, or None when it is missing or is not one (see ``warnings``)."""
        data = self._json(FIDELITY)
        if data is None:
            return None
        try:
            return Fidelity.from_dict(data)
        except ValidationError as exc:
            self._warn(f"{FIDELITY}: not a fidelity report ({_first_error(exc)})")
            return None

    def _json(self, name: str) -> dict[str, Any] | None:
        path = self.file(name)
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            self._warn(f"{name}: cannot read ({exc.strerror})")
            return None
        except ValueError as exc:
            self._warn(f"{name}: not valid JSON ({exc})")
            return None
        if not isinstance(data, dict):
            self._warn(f"{name}: expected a JSON object")
            return None
        return data

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"
