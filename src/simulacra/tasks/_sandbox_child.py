"""The program that runs inside the sandbox.

The host runs ``python -I -S -B -c STUB SOURCE CONFIG``, where the stub compiles this
file's source under the name :data:`FRAME_NAME` (so its frames can be left out of the
program's tracebacks) and CONFIG is a JSON object ``{"mode": "script" | "tests",
"workdir": ..., "result_fd": ..., "guard": true}``. It then:

1. installs :class:`Guard`, an audit hook that stays for the life of the interpreter;
2. in ``script`` mode runs ``main.py`` from the work directory as ``__main__``;
   in ``tests`` mode loads ``solution.py`` and runs the cases of ``tests.py`` against it,
   writing one JSON line per result to the inherited pipe ``result_fd``.

It imports only the standard library and nothing at module level that the host process
would not already have, because the host imports it too, for :func:`plan_tests`.

The guard is a second line of defence, not a boundary: it runs inside the same
interpreter as the code it watches, so code that corrupts the interpreter can get past it.
Its rules are the same whatever the kernel layers underneath, so a program behaves the
same on every machine:

- files: reads only inside the work directory, the interpreter's own installation and the
  time-zone database; writes, renames, deletes and links only inside the work directory;
  ``chdir`` nowhere else;
- network: no ``connect``, ``bind``, ``sendto``, ``sendmsg`` or name lookups (unconnected
  socket pairs, which ``asyncio`` uses internally, still work);
- processes: ``fork`` is allowed (the kernel's process limit applies), running another
  program is not (``exec*``, ``posix_spawn``, ``system``, ``subprocess``); signals only
  within the sandbox's own process group;
- native code: no ``ctypes``.
"""

from __future__ import annotations

import ast
import builtins
import errno
import json
import os
import sys
from collections.abc import Callable
from typing import Any, Literal, NamedTuple, NoReturn

FRAME_NAME = "<sandbox>"
STUB = f"import sys; exec(compile(sys.argv[1], {FRAME_NAME!r}, 'exec'))"
SCRIPT = "main.py"
SOLUTION = "solution.py"
TESTS = "tests.py"
SOLUTION_MODULE = "solution"
MAX_MESSAGE_CHARS = 1000

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_DEVICES = frozenset({"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"})
_READ_ONLY_EXTRA = ("/usr/share/zoneinfo",)
_SPAWN_EVENTS = (
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.system",
    "os.forkpty",
    "os.startfile",
    "subprocess.Popen",
    "pty.spawn",
)
_NETWORK_EVENTS = (
    "socket.bind",
    "socket.connect",
    "socket.sendto",
    "socket.sendmsg",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyaddr",
    "socket.getnameinfo",
)
_BLOCKED_MODULES = frozenset({"ctypes", "_ctypes", "_posixsubprocess"})


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root if root.endswith("/") else root + "/")


def _deny(what: str, path: object = None) -> NoReturn:
    message = f"sandbox: {what} is not allowed"
    if path is None:
        raise PermissionError(errno.EACCES, message)
    raise PermissionError(errno.EACCES, message, str(path))


class Guard:
    """The audit hook. Call :meth:`install` once; it cannot be removed afterwards."""

    def __init__(self, workdir: str, read_roots: tuple[str, ...]) -> None:
        self.workdir = os.path.realpath(workdir)
        self.read_roots = (self.workdir, *(os.path.realpath(root) for root in read_roots))
        handlers: dict[str, Callable[[tuple[Any, ...]], None]] = {
            "open": self._open,
            "os.listdir": self._listing,
            "os.scandir": self._listing,
            "os.chdir": self._chdir,
            "os.remove": self._write_first,
            "os.rmdir": self._write_first,
            "os.mkdir": self._write_first,
            "os.chmod": self._write_first,
            "os.chown": self._write_first,
            "os.truncate": self._write_first,
            "os.utime": self._write_first,
            "os.chflags": self._write_first,
            "os.lchflags": self._write_first,
            "os.setxattr": self._write_first,
            "os.removexattr": self._write_first,
            "shutil.rmtree": self._write_first,
            "os.symlink": self._symlink,
            "os.rename": self._write_two,
            "os.link": self._write_two,
            "os.kill": self._kill,
            "os.killpg": self._killpg,
            "signal.pthread_kill": self._nothing,
            "resource.prlimit": self._prlimit,
            "import": self._import,
        }
        for event in _SPAWN_EVENTS:
            handlers[event] = self._spawn
        for event in _NETWORK_EVENTS:
            handlers[event] = self._network
        self._handlers = handlers

    def install(self) -> None:
        # Import the spawning primitive now, disarmed, and refuse any fresh copy later:
        # ``subprocess`` (and so ``asyncio``) still imports, but cannot start a program.
        import _posixsubprocess

        def refuse(*args: object, **kwargs: object) -> NoReturn:
            _deny("starting a program")

        vars(_posixsubprocess)["fork_exec"] = refuse
        sys.addaudithook(self)

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        handler = self._handlers.get(event)
        if handler is not None:
            handler(args)
        elif event.startswith("ctypes."):
            _deny("native code (ctypes)")

    # -- files ---------------------------------------------------------------------------

    def _resolve(self, path: Any) -> str | None:
        """Absolute real path, or ``None`` for a file descriptor."""
        if path is None:
            path = "."
        if isinstance(path, int):
            return None
        return os.path.realpath(os.fsdecode(path))

    def _check_read(self, path: object) -> None:
        real = self._resolve(path)
        if real is None or real in _DEVICES:
            return
        if any(_within(real, root) for root in (*self.read_roots, *_READ_ONLY_EXTRA)):
            return
        _deny("reading outside the work directory", path)

    def _check_write(self, path: object) -> None:
        real = self._resolve(path)
        if real is None or real in _DEVICES or _within(real, self.workdir):
            return
        _deny("writing outside the work directory", path)

    def _open(self, args: tuple[Any, ...]) -> None:
        path, mode, flags = args[0], args[1], args[2]
        if not isinstance(flags, int):
            flags = os.O_RDWR if isinstance(mode, str) and set(mode) & set("wax+") else 0
        if flags & _WRITE_FLAGS:
            self._check_write(path)
        else:
            self._check_read(path)

    def _listing(self, args: tuple[Any, ...]) -> None:
        self._check_read(args[0] if args else None)

    def _chdir(self, args: tuple[Any, ...]) -> None:
        if self._resolve(args[0]) != self.workdir:
            _deny("changing directory", args[0])

    def _write_first(self, args: tuple[Any, ...]) -> None:
        self._check_write(args[0])

    def _write_two(self, args: tuple[Any, ...]) -> None:
        self._check_write(args[0])
        self._check_write(args[1])

    def _symlink(self, args: tuple[Any, ...]) -> None:
        # Where a link points is checked when it is opened (paths are resolved first).
        self._check_write(args[1])

    # -- processes, network, native code -------------------------------------------------

    def _spawn(self, args: tuple[Any, ...]) -> None:
        _deny("starting a program")

    def _network(self, args: tuple[Any, ...]) -> None:
        _deny("network access")

    def _kill(self, args: tuple[Any, ...]) -> None:
        pid = args[0]
        if not isinstance(pid, int) or pid == -1:
            _deny("signalling other processes")
        if pid in (0, os.getpid()):
            return
        group = -pid if pid < 0 else _group_of(pid)
        if group != os.getpgrp():
            _deny("signalling other processes")

    def _killpg(self, args: tuple[Any, ...]) -> None:
        if args[0] not in (0, os.getpgrp()):
            _deny("signalling other processes")

    def _nothing(self, args: tuple[Any, ...]) -> None:
        return

    def _prlimit(self, args: tuple[Any, ...]) -> None:
        if args[0] not in (0, os.getpid()):
            _deny("changing another process's limits")

    def _import(self, args: tuple[Any, ...]) -> None:
        if args[0] in _BLOCKED_MODULES:
            raise ImportError(f"sandbox: module {args[0]!r} is not available", name=args[0])


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


# -- script mode -------------------------------------------------------------------------


def _line_buffered() -> None:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(line_buffering=True)


def _print_exception(exc: BaseException) -> None:
    """Print a traceback as Python would, without the frames of this bootstrap."""
    import traceback

    report = traceback.TracebackException.from_exception(exc)
    seen: set[int] = set()
    pending = [report]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        frames = [
            frame
            for position, frame in enumerate(current.stack)
            if frame.filename != FRAME_NAME and not (position == 0 and frame.filename == "<string>")
        ]
        current.stack = traceback.StackSummary.from_list(frames)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    sys.stderr.write("".join(report.format()))


def run_script(workdir: str) -> None:
    """Run ``main.py`` as ``__main__``, as ``python main.py`` would."""
    _line_buffered()
    sys.argv = [SCRIPT]
    sys.path.insert(0, workdir)
    main = type(sys)("__main__")
    main.__file__ = SCRIPT
    sys.modules["__main__"] = main
    with open(SCRIPT, encoding="utf-8") as handle:
        source = handle.read()
    try:
        exec(compile(source, SCRIPT, "exec"), vars(main))
    except SystemExit:
        raise
    except BaseException as exc:
        _print_exception(exc)
        sys.stdout.flush()
        sys.exit(1)


# -- tests mode --------------------------------------------------------------------------


class Step(NamedTuple):
    """One top-level statement of a test file and its role."""

    kind: Literal["setup", "check", "skip"]
    position: int
    #: Case name for checks (``""`` otherwise).
    name: str


_CHECK_NODES = (
    ast.Assert,
    ast.Expr,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.If,
    ast.Match,
    ast.Raise,
)


def _is_main_guard(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and any(
        isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(node.test)
    )


def plan_tests(source: str) -> tuple[list[Step], list[str]]:
    """Split a test file into steps and the names of its ``test_*`` functions.

    Raises ``SyntaxError`` if it does not parse. Shared by host and sandbox, so both
    agree on which cases must be reported.
    """
    tree = ast.parse(source, TESTS)
    lines = source.splitlines()
    steps: list[Step] = []
    functions: list[str] = []
    for index, node in enumerate(tree.body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name.startswith("test") and node.name not in functions:
                functions.append(node.name)
            steps.append(Step("setup", index, ""))
        elif _is_main_guard(node) or (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        ):
            steps.append(Step("skip", index, ""))
        elif isinstance(node, _CHECK_NODES):
            text = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else ""
            steps.append(Step("check", index, f"line {node.lineno}: {text[:80]}"))
        else:
            steps.append(Step("setup", index, ""))
    return steps, functions


def case_names(source: str) -> list[str]:
    """The names of all cases of a test file, in the order they run."""
    steps, functions = plan_tests(source)
    return [step.name for step in steps if step.kind == "check"] + functions


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."


def describe_failure(exc: BaseException, test_lines: list[str]) -> str:
    """``Type: message (tests.py line N: source)`` for the innermost test-file frame."""
    try:
        text = str(exc)
    except Exception:
        text = "<unprintable>"
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    lineno = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == TESTS:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    if lineno is not None and 0 < lineno <= len(test_lines):
        message += f" ({TESTS} line {lineno}: {test_lines[lineno - 1].strip()})"
    return _clip(message)


class _Reporter:
    def __init__(self, fd: int, nonce: str) -> None:
        self._fd = fd
        self._nonce = nonce

    def emit(self, **fields: object) -> None:
        data = (json.dumps({"nonce": self._nonce, **fields}) + "\n").encode()
        while data:
            written = os.write(self._fd, data)
            data = data[written:]


def _call_case(function: object) -> None:
    if not callable(function):
        raise TypeError(f"{function!r} is not callable")
    result = function()
    if hasattr(result, "__await__"):
        import asyncio

        async def wait() -> object:
            return await result

        asyncio.run(wait())


def run_tests(workdir: str, result_fd: int) -> None:
    """Load the solution, run every case, report each on ``result_fd``."""
    nonce = sys.stdin.readline().strip()
    reporter = _Reporter(result_fd, nonce)
    del nonce
    _line_buffered()
    sys.argv = [TESTS]
    sys.path.insert(0, workdir)
    with open(TESTS, encoding="utf-8") as handle:
        tests_source = handle.read()
    with open(SOLUTION, encoding="utf-8") as handle:
        solution_source = handle.read()
    test_lines = tests_source.splitlines()
    steps, functions = plan_tests(tests_source)
    tree = ast.parse(tests_source, TESTS)

    module = type(sys)(SOLUTION_MODULE)
    module.__file__ = SOLUTION
    sys.modules[SOLUTION_MODULE] = module
    namespace = vars(module)
    try:
        exec(compile(solution_source, SOLUTION, "exec"), namespace)
    except BaseException as exc:
        reporter.emit(error=f"the solution failed to load: {describe_failure(exc, [])}")
        reporter.emit(done=True)
        return

    for step in steps:
        if step.kind == "skip":
            continue
        node = tree.body[step.position]
        code = compile(ast.Module(body=[node], type_ignores=[]), TESTS, "exec")
        try:
            exec(code, namespace)
        except BaseException as exc:
            message = describe_failure(exc, test_lines)
            if step.kind == "setup":
                reporter.emit(error=f"test setup failed at line {node.lineno}: {message}")
                reporter.emit(done=True)
                return
            reporter.emit(case=step.name, passed=False, message=message)
        else:
            if step.kind == "check":
                reporter.emit(case=step.name, passed=True)
    for name in functions:
        try:
            _call_case(namespace.get(name))
        except BaseException as exc:
            reporter.emit(case=name, passed=False, message=describe_failure(exc, test_lines))
        else:
            reporter.emit(case=name, passed=True)
    reporter.emit(done=True)


def _exit(code: object = None) -> NoReturn:
    raise SystemExit(code)


def main(argv: list[str]) -> None:
    config = json.loads(argv[-1])
    workdir = str(config["workdir"])
    if config.get("guard", True):
        Guard(workdir, (sys.prefix, sys.exec_prefix, sys.base_prefix)).install()
    # ``exit`` and ``quit`` come from ``site``, which -S skips; programs still call them.
    vars(builtins).setdefault("exit", _exit)
    vars(builtins).setdefault("quit", _exit)
    if config["mode"] == "tests":
        run_tests(workdir, int(config["result_fd"]))
    else:
        run_script(workdir)


if __name__ == "__main__":
    main(sys.argv)
