"""Reading user files of records (YAML or JSONL) with errors that say where, and writing
the files simulacra makes: atomically, as valid UTF-8, with every known secret scrubbed
(see :mod:`simulacra._secrets`)."""

from __future__ import annotations

import contextlib
import errno
import gc
import json
import os
import re
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from simulacra._secrets import contains_secret, scrub, scrub_value
from simulacra.errors import ConfigError, RunError

ModelT = TypeVar("ModelT", bound=BaseModel)


def validation_message(error: ValidationError) -> str:
    """Every problem of a pydantic error as ``field.path: message``, joined."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in error.errors()
    )


MAX_INPUT_BYTES = 256 * 1024 * 1024
"""The largest user file read (configs, personas, tasks, labels): a guard against a
device or a runaway file, far above any real one."""


def read_text(path: Path, *, what: str = "file", max_bytes: int = MAX_INPUT_BYTES) -> str:
    """A user's text file; a missing, unreadable, non-regular (a FIFO, a device),
    oversized or non-UTF-8 file is a ``ConfigError`` naming it (``what`` names its kind:
    "persona file")."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"no such {what}", source=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} ({exc.strerror})", source=str(path)) from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"is a directory, expected a {what}", source=str(path))
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"is not a regular file, expected a {what}", source=str(path))
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read {what} ({exc.strerror})", source=str(path)) from None
    if len(data) > max_bytes:
        raise ConfigError(
            f"{what} is larger than {max_bytes // (1024 * 1024)} MiB", source=str(path)
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} is not UTF-8 text ({exc.reason})", source=str(path)) from None


def read_jsonl_values(path: Path, *, what: str = "file") -> Iterator[tuple[int, Any]]:
    """``(line number, parsed value)`` for every non-blank line of a JSONL file; a line
    that is not JSON is a ``ConfigError`` naming it."""
    for number, raw in enumerate(read_text(path, what=what).splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"invalid JSON ({exc.msg})", source=str(path), field=f"line {number}"
            ) from None
        except RecursionError:
            raise ConfigError(TOO_DEEP, source=str(path), field=f"line {number}") from None


TOO_DEEP = "nested too deeply to be a config or a record"


def read_json(path: Path, *, what: str = "JSON file") -> Any:
    """A user's JSON file, parsed; any problem is a ``ConfigError`` naming the file (and
    the line of a syntax error)."""
    text = read_text(path, what=what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"invalid JSON ({exc.msg})", source=str(path), field=f"line {exc.lineno}"
        ) from None
    except RecursionError:
        raise ConfigError(TOO_DEEP, source=str(path)) from None


def read_records(path: Path, *, what: str) -> Any:
    """The parsed content of a YAML file (safely loaded) or a JSONL file (a list).

    ``what`` names the file's kind in errors ("persona file"); errors name the line.
    """
    if path.suffix == ".jsonl":
        return [value for _, value in read_jsonl_values(path, what=what)]
    text = read_text(path, what=what)
    try:
        return yaml.safe_load(text)
    except RecursionError:
        raise ConfigError(TOO_DEEP, source=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise ConfigError(
            f"invalid YAML: {getattr(exc, 'problem', exc)}", source=str(path), field=where
        ) from None


def validate_config(
    model: type[ModelT], data: Any, *, source: str, base_dir: str | None = None
) -> ModelT:
    """A config mapping as ``model``; relative paths resolve against ``base_dir``. Any
    problem is a ``ConfigError`` naming ``source`` and the field."""
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping of settings", source=source)
    if base_dir is not None and "base_dir" not in data:
        data = {**data, "base_dir": base_dir}
    try:  # (options that are paths resolve against base_dir: registry.ConfigPath)
        return model.model_validate(data, context={"base_dir": data.get("base_dir")})
    except ValidationError as exc:
        field, message = format_validation(exc)
        raise ConfigError(message, source=source, field=field) from None
    except RecursionError:
        raise ConfigError(TOO_DEEP, source=source) from None


def format_validation(error: ValidationError) -> tuple[str, str]:
    """The first problem of a pydantic error as ``(field path, message)``, with a count
    of the others: what a config error shows."""
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    named = re.match(r"([a-z_]+(?:\.[a-z_]+)+) ", message)
    if field == "(top level)" and named:
        field = named.group(1)
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    more = len(error.errors()) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return field, message


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """``data`` to ``path`` via a synced temporary file and a rename: never half-written,
    and no temporary file left behind when writing fails. Known secrets in the bytes (read
    as UTF-8) are scrubbed."""
    text = data.decode("utf-8", "surrogateescape")
    if contains_secret(text):
        data = scrub(text).encode("utf-8", "surrogateescape")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_json_atomic(path: Path, data: Any) -> None:
    """JSON to ``path``, atomically (see :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, json_bytes(data, indent=2) + b"\n")


_SURROGATE = re.compile("[\ud800-\udfff]")


def json_bytes(data: Any, *, indent: int | None = None) -> bytes:
    """``data`` as UTF-8 JSON that is safe to write whatever it holds.

    Known secrets and ``Bearer`` tokens become ``<redacted>`` (in strings, keys and the
    text of objects JSON cannot hold, which are written as ``str``); lone surrogates,
    which UTF-8 cannot encode (a parsed JSON ``"\\ud800"`` holds one), become U+FFFD.
    """
    separators = None if indent is not None else (",", ":")
    text = json.dumps(data, ensure_ascii=False, indent=indent, separators=separators, default=str)
    if contains_secret(text):
        text = json.dumps(
            scrub_value(data),
            ensure_ascii=False,
            indent=indent,
            separators=separators,
            default=lambda value: scrub(str(value)),
        )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cycle collector off while a stage builds many objects at once.

    Reading records makes hundreds of thousands of small objects and no reference cycles,
    yet each of the collector's passes walks every object still alive: reading 10,000
    episodes took 4.4 s of CPU with it running and 1.3 s without. What became garbage in
    the meantime is collected once it is back on.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _lines(path: Path) -> Iterator[tuple[bytes, dict[str, Any] | None]]:
    """Each raw line with its parsed object (``None`` for a torn or invalid line)."""
    with path.open("rb") as handle:
        for raw in handle:
            item = None
            if raw.endswith(b"\n"):
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = None
                if isinstance(parsed, dict):
                    item = parsed
            yield raw, item


def read_jsonl(path: Path, *, key: str | None = None) -> Iterator[dict[str, Any]]:
    """The complete JSON lines of a file (a torn or invalid line is skipped); with
    ``key``, each value of that field once (the first)."""
    if not path.exists():
        return
    seen: set[str] = set()
    for _, item in _lines(path):
        if item is None:
            continue
        if key is not None:
            value = str(item.get(key))
            if value in seen:
                continue
            seen.add(value)
        yield item


class KeyedLog:
    """An append-only JSONL file whose lines each carry a unique ``key`` field.

    Each line is written with a single ``write`` on an unbuffered file, so a crash loses
    at most the line in flight. ``repair()`` cuts a torn last line and drops duplicated
    keys (rewriting the file atomically only when needed) and learns which keys are done.
    """

    def __init__(self, path: Path, *, key: str) -> None:
        self.path = path
        self.key = key
        self.done: set[str] = set()
        self._handle: Any = None

    def repair(self) -> int:
        self.done.clear()
        if not self.path.exists():
            return 0
        good: list[bytes] = []
        changed = False
        for raw, item in _lines(self.path):
            if item is None or self.key not in item or str(item[self.key]) in self.done:
                changed = True
                continue
            self.done.add(str(item[self.key]))
            good.append(raw)
        if changed:
            write_bytes_atomic(self.path, b"".join(good))
        return len(self.done)

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("ab", buffering=0)

    def append(self, record: Mapping[str, Any]) -> bool:
        """Write one record as a single line; False if its key is already there."""
        if self._handle is None:
            raise RunError(f"{self.path} is not open for writing")
        value = str(record[self.key])
        if value in self.done:
            return False
        self._write(json_bytes(record) + b"\n")
        self.done.add(value)
        return True

    def _write(self, data: bytes) -> None:
        """``data`` at the end of the file, whole or not at all: a write the disk cuts
        short (full, quota) is taken back, so the file never ends in a torn line."""
        fd = self._handle.fileno()
        end = os.fstat(fd).st_size
        try:
            done = 0
            while done < len(data):
                step = self._handle.write(data[done:])
                if not step:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))
                done += step
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, end)
            if exc.filename is None:
                exc.filename = str(self.path)
            raise

    def close(self) -> None:
        if self._handle is not None:
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None


LOCK = ".lock"


class RunLock:
    """An exclusive lock on a run directory, so two processes never write one.

    It is an ``flock`` on ``RUN_DIR/.lock``, which holds the owner's pid and command. The
    kernel drops the lock when its process dies, so a lock left by a killed process is
    taken over at once; the file is removed on release. A second process gets a
    ``RunError`` naming the holder.
    """

    def __init__(self, run_dir: Path, *, purpose: str) -> None:
        self.run_dir = run_dir
        self.path = run_dir / LOCK
        self.purpose = purpose
        self._fd: int | None = None
        self._created_dir = False

    def acquire(self) -> RunLock:
        import fcntl

        if not self.run_dir.is_dir():
            try:
                self.run_dir.mkdir(parents=True)
            except FileExistsError:
                pass
            else:
                self._created_dir = True
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise RunError(
                    f"{self.run_dir} is in use by another process ({holder}); wait for it to "
                    "finish or stop it, then try again"
                ) from None
            except BaseException:
                os.close(fd)
                raise
            # the file may have been removed by a releasing owner between open and lock
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} ({self.purpose})\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
            if self._created_dir and not any(self.run_dir.iterdir()):
                self.run_dir.rmdir()  # nothing was written: leave nothing behind
        except OSError:
            pass
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "pid unknown"
