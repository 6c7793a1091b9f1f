"""Host-side plumbing of the code sandbox (Linux only).

Everything here runs in the parent process, or in the forked child between ``fork`` and
``exec`` (:func:`child_setup`). The child-side function must not import anything, take
locks or log: it runs in a copy of a possibly multi-threaded process, so every module and
every value it needs is prepared before the fork.

Pieces:

- thin ``ctypes`` wrappers for ``unshare(2)``, ``mount(2)`` and ``prctl(2)``;
- :class:`ChildPlan`, the complete description of what the child does before ``exec``:
  enter new namespaces, build a private read-only root (whose work directory is a
  size-limited tmpfs holding a copy of the host's) and ``chroot`` into it, set
  resource limits, drop to an unprivileged uid, forbid privilege gain;
- a pool of per-run uids, leased with ``flock`` so concurrent runs (in this or another
  process) never share one: a shared uid would let one run signal another, or exhaust the
  other's process limit;
- :func:`sweep_uid`, which kills every process owned by a leased uid, including ones that
  left the process group with ``setsid``.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import pwd
import random
import resource
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from simulacra.errors import SandboxError

# Namespace flags of unshare(2).
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000

# Flags of mount(2).
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_RELATIME = 0x200000

# statvfs f_flag bits that mount(2) refuses to clear on a bind remount in a user namespace.
_ST_RELATIME = 0x1000
_LOCKED_STATVFS_BITS = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38

#: Exit status the child uses when its own setup (before ``exec``) failed.
SETUP_FAILED_EXIT = 125

#: Directories that make up the read-only system part of a private root, when present.
SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/libx32")
#: Individual files of ``/etc`` that the dynamic loader and the stdlib may want.
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/hosts",
    "/etc/mime.types",
)
#: Character devices exposed (read-write) in a private root.
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")

#: The pool of uids handed to sandbox runs when running as root. Chosen away from the usual
#: ranges of login users (1000+), system users (<1000), systemd's dynamic users
#: (61184-65519) and ``nobody``; uids that have an account or a live process are skipped.
UID_POOL = range(60100, 61100)


class Libc:
    """The three libc calls Python 3.11's ``os`` module lacks, loaded on first use."""

    def __init__(self) -> None:
        try:
            self._load()
        except AttributeError as exc:  # not Linux: the calls do not exist
            raise OSError(errno.ENOSYS, f"libc lacks a sandbox call: {exc}") from exc

    def _load(self) -> None:
        lib = ctypes.CDLL(None, use_errno=True)
        self._unshare = lib.unshare
        self._unshare.argtypes = [ctypes.c_int]
        self._unshare.restype = ctypes.c_int
        self._mount = lib.mount
        self._mount.argtypes = [
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_ulong,
            ctypes.c_char_p,
        ]
        self._mount.restype = ctypes.c_int
        self._prctl = lib.prctl
        self._prctl.argtypes = [
            ctypes.c_int,
            ctypes.c_ulong,
            ctypes.c_ulong,
            ctypes.c_ulong,
            ctypes.c_ulong,
        ]
        self._prctl.restype = ctypes.c_int

    @staticmethod
    def _check(result: int, what: str) -> None:
        if result != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"{what}: {os.strerror(code)}")

    def unshare(self, flags: int) -> None:
        self._check(self._unshare(flags), "unshare")

    def mount(
        self,
        source: bytes | None,
        target: bytes,
        fstype: bytes | None,
        flags: int,
        data: bytes | None = None,
    ) -> None:
        self._check(self._mount(source, target, fstype, flags, data), f"mount {target!r}")

    def prctl(self, option: int, arg: int) -> None:
        self._check(self._prctl(option, arg, 0, 0, 0), "prctl")


_libc: Libc | None = None
_libc_lock = threading.Lock()


def libc() -> Libc:
    """The shared :class:`Libc`, created on first use (never inside a forked child)."""
    global _libc
    with _libc_lock:
        if _libc is None:
            _libc = Libc()
        return _libc


@dataclass(frozen=True)
class Bind:
    """One entry of a private root: a path made visible at the same place inside it.

    A ``tmpfs`` entry is a fresh size-limited tmpfs at that place instead, which gets a
    copy of the host directory's files (the work directory: its size is the disk quota).
    """

    path: str
    kind: Literal["dir", "file", "link", "tmpfs"]
    writable: bool = False
    #: For links: what the symbolic link points to.
    link_target: str = ""
    #: Mount flags that must be kept on a read-only remount (from the source's statvfs).
    keep_flags: int = 0
    #: For tmpfs: the mount options (``size=...,nr_inodes=...,mode=...,uid=...,gid=...``).
    tmpfs_options: bytes = b""


def tmpfs_bind(path: str, size_bytes: int, owner: int | None) -> Bind:
    """The work directory as a tmpfs of ``size_bytes``, owned by ``owner`` (``None``:
    root), holding at most one inode per 4 KiB of it (so that many empty files cannot
    get past the quota either)."""
    uid = 0 if owner is None else owner
    inodes = max(16, size_bytes // 4096)
    options = f"size={size_bytes},nr_inodes={inodes},mode=0700,uid={uid},gid={uid}"
    return Bind(path=path, kind="tmpfs", writable=True, tmpfs_options=options.encode())


def _copy_tree(source: str, target: str) -> None:
    """Copy the regular files and directories under ``source`` into ``target`` (which
    exists), keeping owners and modes; runs in the forked child, so only ``os`` calls
    and no recursion."""
    pending = [""]
    while pending:
        relative = pending.pop()
        for name in os.listdir(os.path.join(source, relative)):
            inner = os.path.join(relative, name)
            origin = os.path.join(source, inner)
            copy = os.path.join(target, inner)
            info = os.lstat(origin)
            if stat.S_ISDIR(info.st_mode):
                os.mkdir(copy, 0o700)
                pending.append(inner)
            elif stat.S_ISREG(info.st_mode):
                reader = os.open(origin, os.O_RDONLY | os.O_NOFOLLOW)
                writer = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    while block := os.read(reader, 1 << 16):
                        view = memoryview(block)
                        while view:
                            view = view[os.write(writer, view) :]
                finally:
                    os.close(reader)
                    os.close(writer)
            else:
                continue
            # the same owner and mode as on the host
            os.lchown(copy, info.st_uid, info.st_gid)
            os.chmod(copy, stat.S_IMODE(info.st_mode))


@dataclass(frozen=True)
class ChildPlan:
    """What the forked child does before ``exec`` (see :func:`child_setup`)."""

    workdir: str
    unshare_flags: int
    #: Host directory on which a private tmpfs root is mounted, or ``None`` for no chroot.
    root: str | None
    binds: tuple[Bind, ...]
    rlimits: tuple[tuple[int, tuple[int, int]], ...]
    uid: int | None
    #: Bytes written to stderr, before the reason, when setup fails.
    failure_tag: bytes


def _encoded(path: str) -> bytes:
    return os.fsencode(path)


def _build_root(plan: ChildPlan, lib: Libc, root: str) -> None:
    # Nothing mounted from here on may propagate back to the host's namespace.
    lib.mount(None, b"/", None, MS_REC | MS_PRIVATE)
    lib.mount(b"tmpfs", _encoded(root), b"tmpfs", MS_NOSUID | MS_NODEV, b"size=1m,mode=0755")
    for bind in plan.binds:
        target = root + bind.path
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        if bind.kind == "link":
            os.symlink(bind.link_target, target)
            continue
        if bind.kind == "tmpfs":
            os.makedirs(target, mode=0o700, exist_ok=True)
            lib.mount(
                b"tmpfs", _encoded(target), b"tmpfs", MS_NOSUID | MS_NODEV, bind.tmpfs_options
            )
            _copy_tree(bind.path, target)
            continue
        if bind.kind == "dir":
            os.makedirs(target, mode=0o755, exist_ok=True)
        else:
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
        lib.mount(_encoded(bind.path), _encoded(target), None, MS_BIND | MS_REC)
        if bind.kind == "dir" or not bind.writable:
            flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | bind.keep_flags
            if not bind.writable:
                flags |= MS_RDONLY
            lib.mount(None, _encoded(target), None, flags)
    lib.mount(None, _encoded(root), None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chroot(root)


def child_setup(plan: ChildPlan, lib: Libc | None) -> None:
    """Runs in the child between ``fork`` and ``exec`` (``preexec_fn``).

    On any failure it writes ``plan.failure_tag`` and the reason to stderr and exits with
    :data:`SETUP_FAILED_EXIT`, so the parent can tell "the sandbox could not start" from
    "the code failed".
    """
    try:
        if plan.unshare_flags:
            assert lib is not None
            lib.unshare(plan.unshare_flags)
        if plan.root is not None:
            assert lib is not None
            _build_root(plan, lib, plan.root)
        os.chdir(plan.workdir)
        for which, limit in plan.rlimits:
            resource.setrlimit(which, limit)
        if plan.uid is not None:
            os.setgroups([])
            os.setresgid(plan.uid, plan.uid, plan.uid)
            os.setresuid(plan.uid, plan.uid, plan.uid)
        if lib is not None:
            lib.prctl(PR_SET_NO_NEW_PRIVS, 1)
            # After the uid change, which would have cleared it: die with the parent.
            lib.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.umask(0o077)
    except BaseException as exc:
        with contextlib.suppress(BaseException):
            os.write(2, plan.failure_tag + repr(exc).encode("utf-8", "replace") + b"\n")
        os._exit(SETUP_FAILED_EXIT)


def interpreter() -> str:
    """The real path of the running interpreter, which the sandbox runs too."""
    if not sys.executable:
        raise SandboxError("cannot locate the Python interpreter (sys.executable is empty)")
    return os.path.realpath(sys.executable)


def keep_flags(path: str) -> int:
    flags = os.statvfs(path).f_flag
    kept = flags & _LOCKED_STATVFS_BITS
    if flags & _ST_RELATIME:
        kept |= MS_RELATIME
    return kept


def _under(path: str, roots: Iterable[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def interpreter_dirs() -> tuple[str, ...]:
    """Directories the interpreter needs: its prefixes and the directory of its binary."""
    found: list[str] = []
    for path in (
        os.path.realpath(sys.base_prefix),
        os.path.realpath(sys.base_exec_prefix),
        os.path.dirname(interpreter()),
    ):
        if path != "/" and path not in found:
            found.append(path)
    return tuple(found)


def system_binds() -> tuple[Bind, ...]:
    """The read-only part of a private root shared by every run."""
    binds: list[Bind] = []
    bound_dirs: list[str] = []

    def add_path(path: str) -> None:
        if not os.path.lexists(path) or _under(path, bound_dirs):
            return
        if os.path.islink(path):
            binds.append(Bind(path=path, kind="link", link_target=os.readlink(path)))
            real = os.path.realpath(path)
            if os.path.isdir(real):
                add_path(real)
            return
        if os.path.isdir(path):
            binds.append(Bind(path=path, kind="dir", keep_flags=keep_flags(path)))
            bound_dirs.append(path)
        elif os.path.isfile(path):
            binds.append(Bind(path=path, kind="file", keep_flags=keep_flags(path)))

    for path in SYSTEM_DIRS:
        add_path(path)
    for path in interpreter_dirs():
        add_path(path)
    for path in ETC_FILES:
        add_path(path)
    for path in DEVICES:
        if os.path.exists(path) and stat.S_ISCHR(os.stat(path).st_mode):
            binds.append(Bind(path=path, kind="file", writable=True))
    # A bind inside another bind's target would land on a read-only mount: drop those,
    # keeping the outer one (their content is visible through it anyway).
    dirs = [b.path for b in binds if b.kind == "dir"]
    return tuple(b for b in binds if not any(b.path.startswith(d.rstrip("/") + "/") for d in dirs))


def clamp_rlimits(
    wanted: Iterable[tuple[int, tuple[int, int]]],
) -> tuple[tuple[int, tuple[int, int]], ...]:
    """Never ask for more than the current hard limit (an unprivileged caller cannot)."""
    result: list[tuple[int, tuple[int, int]]] = []
    for which, (soft, hard) in wanted:
        current_hard = resource.getrlimit(which)[1]
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
            soft = min(soft, hard)
        result.append((which, (soft, hard)))
    return tuple(result)


def _process_uids() -> dict[int, set[int]]:
    """Map of uid to live (non-zombie) pids, from ``/proc``."""
    owners: dict[int, set[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return owners
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as handle:
                text = handle.read()
        except OSError:
            continue
        uids: set[int] = set()
        state = b""
        for line in text.splitlines():
            if line.startswith(b"State:"):
                state = line.split()[1]
            elif line.startswith(b"Uid:"):
                uids = {int(part) for part in line.split()[1:]}
                break
        if state in (b"Z", b"X"):
            continue  # dead, waiting to be reaped: it can do nothing more
        for uid in uids:
            owners.setdefault(uid, set()).add(int(entry))
    return owners


def process_count(uid: int) -> int:
    """How many live processes ``uid`` has now."""
    return len(_process_uids().get(uid, ()))


def sweep_uid(uid: int) -> int:
    """Send SIGKILL to every live process that runs under ``uid``; return how many."""
    pids = _process_uids().get(uid, set())
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return len(pids)


def kill_group(pgid: int) -> bool:
    """SIGKILL a process group; return whether it still had members (dying ones count)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class UidLease:
    """A uid from :data:`UID_POOL`, reserved for one run until :meth:`release`."""

    def __init__(self, uid: int, lock_fd: int) -> None:
        self.uid = uid
        self._lock_fd: int | None = lock_fd

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None


def _lock_dir() -> str:
    for base in ("/run", tempfile.gettempdir()):
        path = os.path.join(base, "simulacra-sandbox-uids")
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        except OSError:
            continue
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if (
            stat.S_ISDIR(info.st_mode)
            and info.st_uid == os.geteuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        ):
            return path
    raise SandboxError("no safe directory for the sandbox's uid locks")


def lease_uid() -> UidLease:
    """Reserve a uid nobody else uses: no account, no process, no other run's lock."""
    directory = _lock_dir()
    busy = _process_uids()
    candidates = [uid for uid in UID_POOL if uid not in busy]
    random.shuffle(candidates)
    for uid in candidates:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            pass
        else:
            continue
        fd = os.open(os.path.join(directory, str(uid)), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                continue
            raise SandboxError(f"cannot lock a sandbox uid: {exc}") from exc
        return UidLease(uid, fd)
    raise SandboxError("every uid of the sandbox pool is in use")
