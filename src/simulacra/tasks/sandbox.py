"""Run model-written Python code in a sandbox (Linux).

Model-written code runs only through this module::

    result = run_python("print(sum(range(10)))")
    result.ok, result.stdout            # True, "45\\n"

    outcome = run_tests(solution, tests)
    outcome.passed, outcome.failed, outcome.first_failure

``arun_python`` and ``arun_tests`` are the same for ``async`` code; they do not block
the event loop. A program that misbehaves (loops, allocates, forks, floods its output,
reaches for files or the network) never raises: it ends as a failed
:class:`SandboxResult` that says which limit stopped it, and the caller goes on.
:class:`~simulacra.errors.SandboxError` is raised only when the sandbox itself cannot run.

Each run gets a separate interpreter (``sys.executable`` with ``-I -S -B``: no
environment variables of Python's own, no ``site-packages``, no bytecode files), a fresh
work directory that is deleted afterwards, a minimal environment (``PATH=/usr/bin:/bin``,
``LANG=C.UTF-8``, ``HOME`` and ``TMPDIR`` set to the work directory, nothing inherited:
API keys in the caller's environment are not visible), and a new session whose process
group is killed when the run ends. The work directory has a disk quota
(``SandboxLimits.max_disk_bytes``): with the private root it is a tmpfs of that size,
otherwise the parent measures it while the code runs and ends the run when it is over.

Isolation layers, strongest first. :func:`available_isolation` says which ones this
machine supports (probed once per process); pass ``isolation=`` to insist on some.

============  ==========================================================================
layer         guarantees / does not guarantee
============  ==========================================================================
private root  (root only; ``Isolation.private_root``) new mount, IPC and UTS namespaces;
              the process is chrooted into a read-only tmpfs that holds only ``/usr``,
              ``/bin``, ``/lib*``, the interpreter's installation, a few ``/etc`` files,
              ``/dev/{null,zero,full,random,urandom}`` and the work directory. Every
              other file of the host (``/root``, ``/home``, ``/tmp``, ``/proc``, the
              project) does not exist for the code. Writes are possible only in the
              work directory, which is a tmpfs of ``max_disk_bytes`` in the run's own
              mount namespace (one inode per 4 KiB of it): a hard bound on the total
              disk use, and nothing the code writes ever reaches the host's disk.
own uid       (root only; ``Isolation.own_uid``) the code runs under a uid of its own,
              leased per run from a pool, with no groups and ``no_new_privs``: it cannot
              read files other users keep private, signal any process but its own, or
              regain privileges through set-uid programs. This is what makes the
              process limit real (``RLIMIT_NPROC`` counts processes per uid and is not
              enforced for root) and lets the run end with every process of that uid
              killed, including ones that left the process group with ``setsid``.
no network    (``Isolation.no_network``) a new network namespace with only a loopback
              device that is down: no connection anywhere, not even to ``127.0.0.1``.
              For non-root callers this needs unprivileged user namespaces.
limits        (always) ``RLIMIT_CPU``, ``RLIMIT_AS``, ``RLIMIT_NPROC``,
              ``RLIMIT_FSIZE``, ``RLIMIT_NOFILE`` and no core files, set in the child
              before ``exec``; a wall-clock deadline and output caps enforced by the
              parent, which reads both pipes incrementally and kills the run at the
              first byte over a cap. The child dies with the parent (``PDEATHSIG``).
              Without the private root, the disk quota is enforced by the parent,
              which measures the work directory every 20 ms and kills the run when it
              is over (and checks once more at the end): the quota may be passed by
              what the code writes between two measurements.
guard         (always) an audit hook installed before the code runs: no reads outside
              the work directory and the interpreter's installation, no writes outside
              the work directory, no connect/bind/sendto or name lookups, no running
              other programs, no ``ctypes``, no signals outside the process group. The
              rules are the same on every machine, so a program behaves the same
              whichever kernel layers are present. It is *not* a security boundary:
              it lives inside the interpreter it guards, and code that corrupts the
              interpreter gets past it. Where the kernel layers are missing it is what
              stands between casual misbehaviour and the host.
============  ==========================================================================

What a sandbox without the kernel layers does not guarantee (a non-root caller without
user namespaces): that world-readable and caller-owned files stay unread by a determined
program, that processes which escape the process group are killed, that the process
limit holds (it then counts all of the caller's processes, so it may also be hit early).
For untrusted code at scale, run as root in a container or VM, where every layer applies.

Running as root leaves small lock files (one per uid ever leased) in
``/run/simulacra-sandbox-uids`` (or the temp directory); they coordinate the uid pool
between processes and may be deleted while no sandbox runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import functools
import json
import logging
import os
import resource
import secrets
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from simulacra.errors import SandboxError
from simulacra.tasks import _sandbox_child as child
from simulacra.tasks import _sandbox_host as host

__all__ = [
    "DEFAULT_LIMITS",
    "Isolation",
    "SandboxLimits",
    "SandboxResult",
    "TestCaseResult",
    "TestOutcome",
    "arun_python",
    "arun_tests",
    "available_isolation",
    "run_python",
    "run_tests",
]

_T = TypeVar("_T")
_log = logging.getLogger(__name__)

#: Interpreter flags: isolated mode (no PYTHON* variables, no user site, no script dir on
#: the path), no ``site`` import, no ``.pyc`` writing.
_PYTHON_FLAGS = ("-I", "-S", "-B")
_CHILD_SOURCE = Path(child.__file__).read_text(encoding="utf-8")
_MAX_RESULT_BYTES = 4 * 2**20
#: After the main process exits, how long to let the pipes drain before killing the rest.
_EXIT_GRACE_S = 0.2
#: How long to wait for killed processes to close their pipes and be reaped.
_KILL_WAIT_S = 2.0
#: What the disk quota counts at least per file or directory.
_BLOCK = 4096
#: How often the parent measures the work directory when no tmpfs bounds it.
_DISK_POLL_S = 0.02


@dataclass(frozen=True, kw_only=True)
class SandboxLimits:
    """Resource limits of one run. Every limit is enforced by the kernel or the parent."""

    #: Wall-clock deadline, measured by the parent from the moment the process starts.
    wall_seconds: float = 10.0
    #: CPU time per process (``RLIMIT_CPU``; SIGXCPU at the limit, SIGKILL a second later).
    cpu_seconds: int = 10
    #: Address space per process (``RLIMIT_AS``); allocations beyond it fail.
    memory_bytes: int = 512 * 2**20
    #: Bytes kept of stdout and of stderr each; one byte more ends the run.
    max_output_bytes: int = 64 * 1024
    #: Processes and threads of the sandbox's uid (``RLIMIT_NPROC``); stops fork bombs.
    max_processes: int = 64
    #: Largest file the code may write (``RLIMIT_FSIZE``).
    max_file_bytes: int = 16 * 2**20
    #: Open file descriptors per process (``RLIMIT_NOFILE``).
    max_open_files: int = 256
    #: Total bytes kept in the work directory (which is also ``TMPDIR``), each file and
    #: directory counting at least 4 KiB. With ``private_root`` the work directory is a
    #: tmpfs of this size (writes past it fail with ``ENOSPC``); otherwise the parent
    #: measures the directory while the code runs and ends the run when it is over.
    max_disk_bytes: int = 64 * 2**20

    def __post_init__(self) -> None:
        for name in (
            "wall_seconds",
            "cpu_seconds",
            "memory_bytes",
            "max_output_bytes",
            "max_processes",
            "max_file_bytes",
            "max_open_files",
            "max_disk_bytes",
        ):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"SandboxLimits.{name} must be positive, got {value!r}")
        if self.max_open_files < 16:
            raise ValueError("SandboxLimits.max_open_files must be at least 16")

    def rlimits(self) -> tuple[tuple[int, tuple[int, int]], ...]:
        """The ``setrlimit`` calls these limits translate to."""
        cpu = max(1, int(self.cpu_seconds))
        return (
            (resource.RLIMIT_CPU, (cpu, cpu + 1)),
            (resource.RLIMIT_AS, (self.memory_bytes, self.memory_bytes)),
            (resource.RLIMIT_NPROC, (self.max_processes, self.max_processes)),
            (resource.RLIMIT_FSIZE, (self.max_file_bytes, self.max_file_bytes)),
            (resource.RLIMIT_NOFILE, (self.max_open_files, self.max_open_files)),
            (resource.RLIMIT_CORE, (0, 0)),
        )


DEFAULT_LIMITS = SandboxLimits()


@dataclass(frozen=True, kw_only=True)
class Isolation:
    """Which kernel layers a run uses (the limits and the guard always apply)."""

    #: Mount namespace and chroot into a minimal read-only tree (root only).
    private_root: bool = False
    #: Network namespace without usable interfaces.
    no_network: bool = False
    #: A per-run unprivileged uid (root only).
    own_uid: bool = False

    @property
    def complete(self) -> bool:
        """True when every kernel layer is in use."""
        return self.private_root and self.no_network and self.own_uid


@dataclass(frozen=True, kw_only=True)
class SandboxResult:
    """What happened to one program."""

    #: Exited with status 0 and no limit was hit.
    ok: bool
    #: Exit status, or ``None`` when a signal ended the main process.
    exit_code: int | None
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    #: The wall-clock or CPU limit ended the run.
    timed_out: bool
    #: The limit that ended or broke the run: ``"wall_time"``, ``"cpu_time"``,
    #: ``"memory"``, ``"output"``, ``"file_size"``, ``"disk"``, ``"processes"``, or
    #: ``"signal:N"`` for another fatal signal; ``None`` when no limit was involved (a
    #: program that merely fails has ``ok=False`` and ``killed_by=None``).
    killed_by: str | None
    duration_s: float
    #: The kernel layers the run used.
    isolation: Isolation = field(default_factory=Isolation)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready data."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, kw_only=True)
class TestCaseResult:
    """One case of a test file: a top-level statement or a ``test_*`` function."""

    __test__ = False  # not a pytest test class

    name: str
    passed: bool
    #: Why it failed: ``"AssertionError: ... (tests.py line 3: assert f(2) == 4)"``.
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class TestOutcome:
    """The verdict of :func:`run_tests`, built only from the harness's own reports."""

    __test__ = False  # not a pytest test class

    passed: int
    failed: int
    total: int
    cases: tuple[TestCaseResult, ...]
    #: ``"<case>: <message>"`` of the first failed case, or the error.
    first_failure: str | None
    #: Why not every case could run (solution did not load, setup failed, timeout, ...).
    error: str | None
    #: The sandboxed process (stdout and stderr are the program's own output).
    run: SandboxResult

    @property
    def all_passed(self) -> bool:
        """At least one case, all passed, nothing went wrong."""
        return self.total > 0 and self.passed == self.total and self.error is None

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready data."""
        data = dataclasses.asdict(self)
        data["all_passed"] = self.all_passed
        return data


# -- preparing a run ---------------------------------------------------------------------


@dataclass
class _Job:
    base: str
    workdir: str
    plan: host.ChildPlan
    lib: host.Libc | None
    lease: host.UidLease | None
    isolation: Isolation
    env: dict[str, str]
    mode: Literal["script", "tests"]
    guard: bool
    #: The parent enforces the disk quota by measuring (no tmpfs work directory).
    watch_disk: bool


def _check_file_name(name: str, reserved: tuple[str, ...]) -> None:
    parts = name.split("/")
    if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"sandbox file name must be a plain relative path, got {name!r}")
    if name in reserved:
        raise ValueError(f"sandbox file name {name!r} is reserved")


def _write_files(workdir: str, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = os.path.join(workdir, name)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)


def _give_tree(path: str, uid: int) -> None:
    os.chown(path, uid, uid)
    for parent, dirs, names in os.walk(path):
        for name in (*dirs, *names):
            os.lchown(os.path.join(parent, name), uid, uid)


def _remove_tree(path: str) -> None:
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        return
    except OSError:
        # A caller-owned tree with unreadable directories: open them up and retry.
        for parent, dirs, _ in os.walk(path):
            for name in dirs:
                with contextlib.suppress(OSError):
                    os.chmod(os.path.join(parent, name), stat.S_IRWXU)
        shutil.rmtree(path, ignore_errors=True)


def _prepare(
    files: Mapping[str, str],
    limits: SandboxLimits,
    isolation: Isolation,
    mode: Literal["script", "tests"],
    *,
    guard: bool = True,
) -> _Job:
    root_user = os.geteuid() == 0
    if (isolation.private_root or isolation.own_uid) and not root_user:
        raise SandboxError("private_root and own_uid isolation need root privileges")
    seeded = sum(len(text.encode("utf-8")) + _BLOCK for text in files.values())
    if seeded > limits.max_disk_bytes:
        raise ValueError(
            f"the sandbox's files take {seeded:,} bytes, more than max_disk_bytes "
            f"({limits.max_disk_bytes:,})"
        )
    base = tempfile.mkdtemp(prefix="simulacra-sandbox-")
    lease: host.UidLease | None = None
    try:
        workdir = os.path.join(base, "work")
        os.mkdir(workdir, 0o700)
        _write_files(workdir, files)
        if isolation.own_uid:
            lease = host.lease_uid()
            # The uid must reach its work directory: traversable, not listable.
            os.chmod(base, 0o711)
            _give_tree(workdir, lease.uid)
        flags = 0
        root: str | None = None
        binds: tuple[host.Bind, ...] = ()
        if isolation.private_root:
            flags |= host.CLONE_NEWNS | host.CLONE_NEWIPC | host.CLONE_NEWUTS
            root = os.path.join(base, "root")
            os.mkdir(root, 0o700)
            # the work directory is a tmpfs of the quota's size, in the child's namespace
            # only: it goes away with the run's last process, whatever happens to this one
            workdir_bind = host.tmpfs_bind(
                workdir, limits.max_disk_bytes, lease.uid if lease else None
            )
            binds = (*_system_binds(), workdir_bind)
        if isolation.no_network:
            flags |= host.CLONE_NEWNET if root_user else host.CLONE_NEWUSER | host.CLONE_NEWNET
        lib = host.libc() if flags else _optional_libc()
        rlimits = limits.rlimits()
        if not isolation.own_uid and not root_user:
            # RLIMIT_NPROC counts every process of the caller's uid: allow that many more.
            extra = limits.max_processes + host.process_count(os.geteuid())
            rlimits = tuple(
                (which, (extra, extra)) if which == resource.RLIMIT_NPROC else (which, limit)
                for which, limit in rlimits
            )
        plan = host.ChildPlan(
            workdir=workdir,
            unshare_flags=flags,
            root=root,
            binds=binds,
            rlimits=host.clamp_rlimits(rlimits),
            uid=lease.uid if lease else None,
            failure_tag=b"simulacra-sandbox-setup-" + secrets.token_hex(8).encode() + b": ",
        )
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": workdir, "TMPDIR": workdir}
        return _Job(
            base=base,
            workdir=workdir,
            plan=plan,
            lib=lib,
            lease=lease,
            isolation=isolation,
            env=env,
            mode=mode,
            guard=guard,
            watch_disk=not isolation.private_root,
        )
    except BaseException as exc:
        if lease is not None:
            lease.release()
        _remove_tree(base)
        if isinstance(exc, SandboxError | ValueError):
            raise
        if isinstance(exc, OSError):
            raise SandboxError(f"cannot prepare the sandbox: {exc}") from exc
        raise


@functools.cache
def _system_binds() -> tuple[host.Bind, ...]:
    return host.system_binds()


def _optional_libc() -> host.Libc | None:
    try:
        return host.libc()
    except OSError:
        return None


# -- running -----------------------------------------------------------------------------


class _Streams(asyncio.SubprocessProtocol):
    """Collects stdout/stderr up to a cap each, and notices exit and overflow."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data: dict[int, bytearray] = {1: bytearray(), 2: bytearray()}
        self.truncated: dict[int, bool] = {1: False, 2: False}
        self.open_pipes = {1, 2}
        self.overflow = asyncio.Event()
        self.exited = asyncio.Event()
        self.pipes_closed = asyncio.Event()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        buffer = self.data.get(fd)
        if buffer is None or self.truncated[fd]:
            return
        room = self.cap - len(buffer)
        buffer += data[:room]
        if len(data) > room:
            # Keep reading (and dropping) until the kill closes the pipe.
            self.truncated[fd] = True
            self.overflow.set()

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self.open_pipes.discard(fd)
        if not self.open_pipes:
            self.pipes_closed.set()

    def process_exited(self) -> None:
        self.exited.set()


class _ResultPipe(asyncio.Protocol):
    """Collects the harness's JSON lines from the extra pipe."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.overflow = False
        self.closed = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        if len(self.data) + len(data) > _MAX_RESULT_BYTES:
            self.overflow = True
            return
        self.data += data

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


@dataclass
class _Raw:
    result: SandboxResult
    reports: bytes


def _classify(returncode: int | None, stderr: str) -> str | None:
    if returncode is not None and returncode < 0:
        sig = -returncode
        if sig == signal.SIGXCPU:
            return "cpu_time"
        if sig == signal.SIGXFSZ:
            return "file_size"
        return f"signal:{sig}"
    if not returncode:
        return None
    tail = stderr[-2000:]
    if "MemoryError" in tail or "Cannot allocate memory" in tail:
        return "memory"
    if "[Errno 27]" in tail or "File too large" in tail:
        return "file_size"
    if "[Errno 28]" in tail or "No space left on device" in tail:
        return "disk"
    if "BlockingIOError: [Errno 11]" in tail or "can't start new thread" in tail:
        return "processes"
    return None


def _disk_use(path: str, limit: int) -> int:
    """Bytes allocated under ``path``, each entry counting at least :data:`_BLOCK`;
    stops counting once over ``limit``. Symbolic links are not followed, entries that
    vanish while counting are skipped, and a directory the code made unreadable is
    opened up again (the parent owns or outranks it)."""
    total = 0
    pending = [path]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except PermissionError:
            try:
                os.chmod(directory, stat.S_IRWXU)
                entries = list(os.scandir(directory))
            except OSError:
                continue
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            total += max(info.st_blocks * 512, _BLOCK)
            if total > limit:
                return total
            if stat.S_ISDIR(info.st_mode):
                pending.append(entry.path)
    return total


async def _watch_disk(workdir: str, limit: int) -> None:
    """Return as soon as the work directory holds more than ``limit`` bytes."""
    while True:
        if await asyncio.to_thread(_disk_use, workdir, limit) > limit:
            return
        await asyncio.sleep(_DISK_POLL_S)


async def _sweep(job: _Job, pid: int) -> None:
    """Kill the process group and every process of the run's uid, until none is left."""
    for _ in range(int(_KILL_WAIT_S / 0.01)):
        alive = host.kill_group(pid)
        if job.lease is not None:
            alive = host.sweep_uid(job.lease.uid) > 0 or alive
        if not alive:
            break
        await asyncio.sleep(0.01)


async def _execute(job: _Job, limits: SandboxLimits, stdin: bytes) -> _Raw:
    loop = asyncio.get_running_loop()
    streams = _Streams(limits.max_output_bytes)
    reports: _ResultPipe | None = None
    report_transport: asyncio.ReadTransport | None = None
    transport: asyncio.SubprocessTransport | None = None
    read_fd = write_fd = -1
    config: dict[str, object] = {"mode": job.mode, "workdir": job.workdir, "guard": job.guard}
    pid: int | None = None
    try:
        if job.mode == "tests":
            read_fd, write_fd = os.pipe()
            config["result_fd"] = write_fd
        argv = [
            host.interpreter(),
            *_PYTHON_FLAGS,
            "-c",
            child.STUB,
            _CHILD_SOURCE,
            json.dumps(config),
        ]
        started = time.monotonic()
        try:
            transport, _ = await loop.subprocess_exec(
                lambda: streams,
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=job.env,
                cwd=job.workdir,
                preexec_fn=functools.partial(host.child_setup, job.plan, job.lib),
                start_new_session=True,
                pass_fds=(write_fd,) if write_fd >= 0 else (),
            )
        except OSError as exc:
            raise SandboxError(f"cannot start the sandboxed interpreter: {exc}") from exc
        finally:
            if write_fd >= 0:
                os.close(write_fd)
        pid = transport.get_pid()
        if read_fd >= 0:
            reports = _ResultPipe()
            pipe = os.fdopen(read_fd, "rb", buffering=0)
            read_fd = -1
            report_transport, _ = await loop.connect_read_pipe(lambda: reports, pipe)

        stdin_pipe = transport.get_pipe_transport(0)
        if isinstance(stdin_pipe, asyncio.WriteTransport):
            with contextlib.suppress(OSError):
                if stdin:
                    stdin_pipe.write(stdin)
                stdin_pipe.write_eof()

        stopped_by: str | None = None
        exit_wait = asyncio.ensure_future(streams.exited.wait())
        overflow_wait = asyncio.ensure_future(streams.overflow.wait())
        waits: list[asyncio.Future[Any]] = [exit_wait, overflow_wait]
        if job.watch_disk:
            waits.append(asyncio.ensure_future(_watch_disk(job.workdir, limits.max_disk_bytes)))
        try:
            remaining = limits.wall_seconds - (time.monotonic() - started)
            done, _ = await asyncio.wait(
                waits, timeout=max(remaining, 0.0), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for wait in waits:
                wait.cancel()
        if overflow_wait in done:
            stopped_by = "output"
        elif waits[-1] in done and job.watch_disk:
            stopped_by = "disk"
        elif exit_wait not in done:
            stopped_by = "wall_time"
        else:
            # Exited: let the pipes drain, unless a leftover child keeps them open.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(streams.pipes_closed.wait(), _EXIT_GRACE_S)
        duration = time.monotonic() - started
        await _sweep(job, pid)
        if stopped_by is None and job.watch_disk:
            # what was written between the last measurement and the end counts too
            used = await asyncio.to_thread(_disk_use, job.workdir, limits.max_disk_bytes)
            if used > limits.max_disk_bytes:
                stopped_by = "disk"
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(streams.exited.wait(), _KILL_WAIT_S)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(streams.pipes_closed.wait(), _KILL_WAIT_S)
        if reports is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reports.closed.wait(), _KILL_WAIT_S)

        returncode = transport.get_returncode()
        stdout = bytes(streams.data[1]).decode("utf-8", "replace")
        stderr = bytes(streams.data[2]).decode("utf-8", "replace")
        tag = job.plan.failure_tag.decode()
        if returncode == host.SETUP_FAILED_EXIT and tag in stderr:
            reason = stderr.split(tag, 1)[1].strip()
            raise SandboxError(f"the sandbox could not be set up: {reason}")
        killed_by = stopped_by or _classify(returncode, stderr)
        result = SandboxResult(
            ok=returncode == 0 and killed_by is None,
            exit_code=returncode if returncode is not None and returncode >= 0 else None,
            stdout=stdout,
            stderr=stderr,
            stdout_truncated=streams.truncated[1],
            stderr_truncated=streams.truncated[2],
            timed_out=killed_by in ("wall_time", "cpu_time"),
            killed_by=killed_by,
            duration_s=round(duration, 6),
            isolation=job.isolation,
        )
        raw_reports = b"" if reports is None or reports.overflow else bytes(reports.data)
        return _Raw(result=result, reports=raw_reports)
    finally:
        # Also reached on cancellation: nothing of the run may outlive it.
        if read_fd >= 0:
            os.close(read_fd)
        if pid is not None and (transport is None or transport.get_returncode() is None):
            host.kill_group(pid)
        if job.lease is not None:
            host.sweep_uid(job.lease.uid)
        if report_transport is not None:
            report_transport.close()
        if transport is not None:
            transport.close()


async def _run_job(job: _Job, limits: SandboxLimits, stdin: bytes) -> _Raw:
    try:
        return await _execute(job, limits, stdin)
    finally:
        _release(job)


def _release(job: _Job) -> None:
    """Last cleanup of a run; synchronous so that it also completes on cancellation."""
    if job.lease is not None:
        # A last pass: the uid may be leased again as soon as it is released.
        deadline = time.monotonic() + _KILL_WAIT_S
        while host.sweep_uid(job.lease.uid) and time.monotonic() < deadline:
            time.sleep(0.005)
        job.lease.release()
    _remove_tree(job.base)


def _run_sync(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to completion from synchronous code, even inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


# -- isolation probe ---------------------------------------------------------------------

_probe_lock = threading.Lock()
_probed: Isolation | None = None


def _candidates() -> list[Isolation]:
    if os.geteuid() == 0:
        return [
            Isolation(private_root=True, no_network=True, own_uid=True),
            Isolation(no_network=True, own_uid=True),
            Isolation(own_uid=True),
            Isolation(no_network=True),
            Isolation(),
        ]
    return [Isolation(no_network=True), Isolation()]


def available_isolation() -> Isolation:
    """The strongest isolation that works here (tried once per process, then cached).

    Raises :class:`~simulacra.errors.SandboxError` if not even the plain sandbox starts.
    """
    global _probed
    with _probe_lock:
        if _probed is not None:
            return _probed
        reasons: list[str] = []
        probe_limits = SandboxLimits(wall_seconds=10.0)
        for candidate in _candidates():
            try:
                job = _prepare({child.SCRIPT: "print('ok')"}, probe_limits, candidate, "script")
                raw = _run_sync(_run_job(job, probe_limits, b""))
            except SandboxError as exc:
                reasons.append(f"{candidate}: {exc}")
                continue
            if raw.result.ok and raw.result.stdout == "ok\n":
                if not candidate.complete:
                    _log.warning(
                        "code sandbox: only %s is available here (%s); see "
                        "simulacra.tasks.sandbox for what that does not guarantee",
                        candidate,
                        "; ".join(reasons) or "not running as root",
                    )
                _probed = candidate
                return candidate
            reasons.append(f"{candidate}: {raw.result.stderr.strip()[-300:]}")
        raise SandboxError("the sandbox cannot run here: " + "; ".join(reasons))


async def _aisolation(isolation: Isolation | None) -> Isolation:
    if isolation is not None:
        return isolation
    if _probed is not None:
        return _probed
    return await asyncio.to_thread(available_isolation)


# -- public API --------------------------------------------------------------------------


async def arun_python(
    code: str,
    *,
    stdin: str = "",
    limits: SandboxLimits = DEFAULT_LIMITS,
    files: Mapping[str, str] | None = None,
    isolation: Isolation | None = None,
) -> SandboxResult:
    """Run ``code`` as ``main.py`` in a fresh sandbox; see the module docstring.

    ``files`` are extra text files put in the work directory first (relative names,
    no ``..``; ``main.py`` is reserved); the code can import the ``.py`` ones. ``isolation``
    defaults to :func:`available_isolation`; asking for more than the machine supports
    raises :class:`~simulacra.errors.SandboxError`.
    """
    return await _arun_script(code, stdin=stdin, limits=limits, files=files, isolation=isolation)


async def _arun_script(
    code: str,
    *,
    stdin: str = "",
    limits: SandboxLimits = DEFAULT_LIMITS,
    files: Mapping[str, str] | None = None,
    isolation: Isolation | None = None,
    guard: bool = True,
) -> SandboxResult:
    """:func:`arun_python`, with the guard optional: only for testing the kernel layers."""
    all_files = dict(files or {})
    for name in all_files:
        _check_file_name(name, (child.SCRIPT,))
    all_files[child.SCRIPT] = code
    chosen = await _aisolation(isolation)
    job = _prepare(all_files, limits, chosen, "script", guard=guard)
    raw = await _run_job(job, limits, stdin.encode("utf-8"))
    return raw.result


def run_python(
    code: str,
    *,
    stdin: str = "",
    limits: SandboxLimits = DEFAULT_LIMITS,
    files: Mapping[str, str] | None = None,
    isolation: Isolation | None = None,
) -> SandboxResult:
    """Synchronous :func:`arun_python` (usable from inside an event loop, too)."""
    return _run_sync(
        arun_python(code, stdin=stdin, limits=limits, files=files, isolation=isolation)
    )


def _outcome(names: list[str], raw: _Raw, nonce: str) -> TestOutcome:
    reported: dict[str, TestCaseResult] = {}
    error: str | None = None
    done = False
    for line in raw.reports.decode("utf-8", "replace").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if not isinstance(item, dict) or item.get("nonce") != nonce:
            continue  # not from the harness
        if item.get("done") is True:
            done = True
        elif isinstance(item.get("error"), str) and error is None:
            error = item["error"]
        elif item.get("case") in names and item["case"] not in reported:
            message = item.get("message")
            reported[item["case"]] = TestCaseResult(
                name=item["case"],
                passed=item.get("passed") is True,
                message=message if isinstance(message, str) else None,
            )
    run = raw.result
    if error is None and not done:
        if run.killed_by is not None:
            error = f"the run was stopped: {run.killed_by}"
        else:
            error = f"the harness did not finish (exit code {run.exit_code})"
    elif error is None and run.exit_code != 0:
        error = f"the run ended with exit code {run.exit_code} after the tests"
    if error is None and not names:
        error = "no test cases found"
    missing = f"not run: {error}" if error else "not run"
    cases = tuple(
        reported.get(name) or TestCaseResult(name=name, passed=False, message=missing)
        for name in names
    )
    passed = sum(case.passed for case in cases)
    first = next((c for c in cases if not c.passed), None)
    first_failure = f"{first.name}: {first.message}" if first is not None else error
    return TestOutcome(
        passed=passed,
        failed=len(cases) - passed,
        total=len(cases),
        cases=cases,
        first_failure=first_failure,
        error=error,
        run=run,
    )


async def arun_tests(
    solution: str,
    tests: str,
    *,
    limits: SandboxLimits = DEFAULT_LIMITS,
    files: Mapping[str, str] | None = None,
    isolation: Isolation | None = None,
) -> TestOutcome:
    """Run unit tests against a solution, in the sandbox; never raises for bad code.

    ``solution`` is loaded as the module ``solution`` (so ``__name__ == "__main__"``
    blocks do not run) and the tests run in that same namespace, as if appended to it;
    ``from solution import f`` works too. The cases of ``tests``, in order:

    - each top-level ``assert``, expression statement (``check(f)``) and ``for``,
      ``while``, ``with``, ``try``, ``if`` or ``match`` block; an
      ``if __name__ == ...`` block is skipped;
    - then each top-level function whose name starts with ``test`` (``async`` ones are
      run with ``asyncio.run``), called without arguments.

    Other statements (imports, assignments, definitions) are setup: if one raises, the
    remaining cases are not run and count as failed. A case fails on any exception.

    The harness reports each case as a JSON line on a private pipe, tagged with a random
    nonce that the caller gives it on stdin; the parent keeps only lines with that nonce
    and only the case names it computed itself from ``tests``, and nothing the program
    prints can add to or change the counts. This stops accidental or naive forgery; it
    does not stop code that deliberately digs the nonce out of the harness's memory.
    """
    try:
        names = child.case_names(tests)
    except SyntaxError as exc:
        empty = SandboxResult(
            ok=False,
            exit_code=None,
            stdout="",
            stderr="",
            stdout_truncated=False,
            stderr_truncated=False,
            timed_out=False,
            killed_by=None,
            duration_s=0.0,
        )
        message = f"the tests do not parse: {exc}"
        return TestOutcome(
            passed=0,
            failed=0,
            total=0,
            cases=(),
            first_failure=message,
            error=message,
            run=empty,
        )
    all_files = dict(files or {})
    for name in all_files:
        _check_file_name(name, (child.SCRIPT, child.SOLUTION, child.TESTS))
    all_files[child.SOLUTION] = solution
    all_files[child.TESTS] = tests
    chosen = await _aisolation(isolation)
    nonce = secrets.token_hex(16)
    job = _prepare(all_files, limits, chosen, "tests")
    raw = await _run_job(job, limits, (nonce + "\n").encode())
    return _outcome(names, raw, nonce)


def run_tests(
    solution: str,
    tests: str,
    *,
    limits: SandboxLimits = DEFAULT_LIMITS,
    files: Mapping[str, str] | None = None,
    isolation: Isolation | None = None,
) -> TestOutcome:
    """Synchronous :func:`arun_tests`."""
    return _run_sync(arun_tests(solution, tests, limits=limits, files=files, isolation=isolation))
