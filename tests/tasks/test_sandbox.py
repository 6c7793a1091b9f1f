"""The code sandbox, exercised for real: every test starts sandboxed interpreters."""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulacra.errors import SandboxError
from simulacra.tasks import _sandbox_host as host
from simulacra.tasks import sandbox
from simulacra.tasks.sandbox import (
    Isolation,
    SandboxLimits,
    arun_python,
    arun_tests,
    available_isolation,
    run_python,
    run_tests,
)

pytestmark = pytest.mark.slow

FAST = SandboxLimits(wall_seconds=2.0, cpu_seconds=1)
SECRET = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def isolation() -> Isolation:
    return available_isolation()


@pytest.fixture
def complete(isolation: Isolation) -> Isolation:
    """Skip unless every kernel layer works here (root with namespaces)."""
    if not isolation.complete:
        pytest.skip(f"kernel isolation incomplete on this machine: {isolation}")
    return isolation


@pytest.fixture
def secret_file(tmp_path: Path) -> Iterator[Path]:
    """A readable file inside a directory only its owner may enter."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    path = private / "key.txt"
    path.write_text(SECRET)
    path.chmod(0o644)
    yield path


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    yield server
    server.close()


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch) -> list[sandbox._Job]:
    """Every run started by the test, to check what it leaves behind."""
    started: list[sandbox._Job] = []
    prepare = sandbox._prepare

    def recording(*args: object, **kwargs: object) -> sandbox._Job:
        job = prepare(*args, **kwargs)  # type: ignore[arg-type]
        started.append(job)
        return job

    monkeypatch.setattr(sandbox, "_prepare", recording)
    return started


def leftovers(jobs: list[sandbox._Job]) -> list[str]:
    """Processes still running under the runs' uids, and work directories not removed."""
    owners = host._process_uids()
    found = [f"pid {pid}" for job in jobs if job.lease for pid in owners.get(job.lease.uid, ())]
    return found + [job.base for job in jobs if os.path.exists(job.base)]


def assert_no_connection(server: socket.socket) -> None:
    with pytest.raises(TimeoutError):
        server.accept()


def unguarded(code: str, **kwargs: object) -> sandbox.SandboxResult:
    """Run without the in-process guard, to see what the kernel layers alone do."""
    return asyncio.run(sandbox._arun_script(code, guard=False, **kwargs))  # type: ignore[arg-type]


# -- the process -------------------------------------------------------------------------


def test_docstring_example() -> None:
    result = run_python("print(sum(range(10)))")
    assert result.ok and result.stdout == "45\n"
    assert result.to_dict()["stdout"] == "45\n"


def test_a_normal_run_is_fast() -> None:
    run_python("pass")  # warm the isolation probe
    times = []
    for _ in range(3):
        started = time.monotonic()
        assert run_python("print('hi')").ok
        times.append(time.monotonic() - started)
    assert sorted(times)[1] < 0.5  # typically well under 0.2 s


def test_environment_is_minimal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-" + SECRET)
    code = "import os, sys\nprint(sorted(os.environ.items()))\nprint(sys.flags.isolated)"
    result = run_python(code)
    assert result.ok, result.stderr
    assert SECRET not in result.stdout and "OPENAI" not in result.stdout
    env = dict(eval(result.stdout.splitlines()[0]))
    assert set(env) == {"PATH", "LANG", "HOME", "TMPDIR"}
    assert env["PATH"] == "/usr/bin:/bin"
    assert result.stdout.splitlines()[1] == "1"


def test_fresh_workdir_and_own_session() -> None:
    code = (
        "import os\n"
        "print(os.getcwd())\n"
        "print(os.listdir('.'))\n"
        "print(os.getsid(0) == os.getpid() == os.getpgrp())\n"
        "print(os.environ['HOME'] == os.getcwd())\n"
        "open('out.txt', 'w').write('x')\n"
    )
    first = run_python(code, files={"data/input.txt": "hello"})
    second = run_python(code)
    assert first.ok and second.ok, first.stderr + second.stderr
    cwd1, listing1, session1, home1 = first.stdout.splitlines()
    cwd2, listing2, *_ = second.stdout.splitlines()
    assert cwd1 != cwd2
    assert listing1 == "['data', 'main.py']" or listing1 == "['main.py', 'data']"
    assert listing2 == "['main.py']"
    assert session1 == "True" and home1 == "True"
    assert not os.path.exists(cwd1) and not os.path.exists(cwd2)


def test_files_are_importable_and_stdin_is_passed() -> None:
    files = {"helper.py": "def shout(s):\n    return s.upper()\n"}
    code = "from helper import shout\nprint(shout(input()))"
    result = run_python(code, stdin="quiet\n", files=files)
    assert result.ok and result.stdout == "QUIET\n"


def test_bad_file_names_are_refused() -> None:
    for name in ("../x.py", "/etc/x", "a/../../b", "", "main.py"):
        with pytest.raises(ValueError):
            run_python("pass", files={name: ""})


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        SandboxLimits(wall_seconds=0)
    with pytest.raises(ValueError):
        SandboxLimits(max_output_bytes=-1)


def test_failures_keep_python_semantics() -> None:
    crash = run_python("def f():\n    return 1 / 0\nf()")
    assert not crash.ok and crash.exit_code == 1 and crash.killed_by is None
    assert crash.stderr.startswith('Traceback (most recent call last):\n  File "main.py"')
    assert "<sandbox>" not in crash.stderr
    assert crash.stderr.rstrip().endswith("ZeroDivisionError: division by zero")
    exited = run_python("print('bye')\nexit(3)")
    assert exited.exit_code == 3 and exited.stdout == "bye\n" and not exited.ok
    syntax = run_python("def (")
    assert syntax.exit_code == 1 and "SyntaxError" in syntax.stderr


# -- limits: every misbehaviour is a recorded failure, and the caller goes on ------------


def test_every_misbehaviour_is_recorded_and_the_caller_goes_on(
    complete: Isolation, secret_file: Path, listener: socket.socket, jobs: list[sandbox._Job]
) -> None:
    port = listener.getsockname()[1]
    cases: list[tuple[str, str, SandboxLimits, set[str | None]]] = [
        ("busy loop", "while True: pass", FAST, {"cpu_time", "wall_time"}),
        ("sleep", "import time\ntime.sleep(60)", FAST, {"wall_time"}),
        ("10 GB", "x = bytearray(10 * 2**30)", FAST, {"memory"}),
        (
            "growing list",
            "l = []\nwhile True: l.append(' ' * 2**20)",
            SandboxLimits(wall_seconds=8.0),
            {"memory"},
        ),
        (
            "fork bomb",
            "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
            FAST,
            {"wall_time", "cpu_time"},
        ),
        (
            "1 GB of output",
            "import sys\nchunk = 'x' * 2**20\nfor _ in range(1024): sys.stdout.write(chunk)",
            FAST,
            {"output"},
        ),
        (
            "big file",
            "open('big', 'wb').write(b'x' * 2**25)",
            SandboxLimits(max_file_bytes=2**20),
            {"file_size"},
        ),
        ("secret file", f"print(open({str(secret_file)!r}).read())", FAST, {None}),
        (
            "network",
            f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)",
            FAST,
            {None},
        ),
        ("other programs", "import os\nos.system('id')", FAST, {None}),
        ("signals", "import os\nos.kill(1, 0)", FAST, {None}),
    ]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name, code, limits, expected in cases:
        started = time.monotonic()
        result = run_python(code, limits=limits)
        elapsed = time.monotonic() - started
        assert not result.ok, name
        assert result.killed_by in expected, (name, result)
        assert result.timed_out == (result.killed_by in ("wall_time", "cpu_time")), name
        assert elapsed < limits.wall_seconds + 3.0, (name, elapsed)
        assert SECRET not in result.stdout + result.stderr, name
        assert not leftovers(jobs), name
    assert_no_connection(listener)
    # The output was capped while it streamed: the parent never held 1 GB.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 200 * 1024
    assert run_python("print(6 * 7)").stdout == "42\n"


def test_output_is_truncated_at_the_cap() -> None:
    limits = SandboxLimits(max_output_bytes=1000)
    code = "import sys\nsys.stderr.write('e' * 5000)\nsys.stderr.flush()\nprint('o' * 10)"
    result = run_python(code, limits=limits)
    assert result.killed_by == "output" and not result.ok
    assert result.stderr_truncated and not result.stdout_truncated
    assert result.stderr == "e" * 1000
    just_fits = run_python("print('o' * 999)", limits=limits)
    assert just_fits.ok and not just_fits.stdout_truncated


def test_cpu_limit_is_enforced_by_the_kernel() -> None:
    limits = SandboxLimits(wall_seconds=10.0, cpu_seconds=1)
    started = time.monotonic()
    result = run_python("while True: pass", limits=limits)
    assert result.killed_by == "cpu_time" and result.timed_out
    assert time.monotonic() - started < 5.0


def test_memory_error_is_recorded() -> None:
    result = run_python("x = bytearray(10 * 2**30)")
    assert result.killed_by == "memory" and "MemoryError" in result.stderr


def test_file_size_limit() -> None:
    code = (
        "import os\n"
        "try:\n"
        "    open('big', 'wb').write(b'x' * 2**22)\n"
        "except OSError as exc:\n"
        "    print(exc.errno, os.path.getsize('big'))\n"
    )
    result = run_python(code, limits=SandboxLimits(max_file_bytes=2**20))
    assert result.stdout == f"27 {2**20}\n"


# The code writes 64 KiB files into TMPDIR, printing how many so far, until stopped.
FILL_DISK = (
    "import os, sys, tempfile\n"
    "assert tempfile.gettempdir() == os.getcwd()\n"
    "block = b'x' * 65536\n"
    "for n in range(1, 100_000):\n"
    "    fd, _ = tempfile.mkstemp()\n"
    "    os.write(fd, block)\n"
    "    os.close(fd)\n"
    "    print(n, flush=True)\n"
)
QUOTA = SandboxLimits(wall_seconds=10.0, max_disk_bytes=2 * 2**20)


def written(result: sandbox.SandboxResult) -> int:
    """Bytes the FILL_DISK program had written when it was stopped."""
    lines = result.stdout.split()
    return int(lines[-1]) * 65536 if lines else 0


async def test_disk_quota_is_a_tmpfs_with_the_private_root(
    complete: Isolation, jobs: list[sandbox._Job]
) -> None:
    code = "open('probe', 'wb').write(b'p' * 2**19)\nimport time\ntime.sleep(0.4)\n" + FILL_DISK
    started = time.monotonic()
    task = asyncio.create_task(arun_python(code, limits=QUOTA))
    await asyncio.sleep(0.25)
    # what the code writes never reaches the host: its work directory there holds the
    # program only, while the code sees its probe file
    assert os.listdir(jobs[0].workdir) == ["main.py"]
    result = await task
    assert not result.ok and result.killed_by == "disk", result
    assert "No space left on device" in result.stderr
    assert time.monotonic() - started < 3.0
    # the probe and the files: what fits in 2 MiB, counting 4 KiB per file
    assert 2 * 2**20 - 2**19 - 8 * 65536 <= written(result) <= 2 * 2**20 - 2**19
    assert not leftovers(jobs)


def test_disk_quota_is_enforced_by_the_parent_without_it(jobs: list[sandbox._Job]) -> None:
    started = time.monotonic()
    result = run_python(FILL_DISK, limits=QUOTA, isolation=Isolation())
    assert not result.ok and result.killed_by == "disk", result
    assert result.exit_code is None  # killed while it was still writing
    assert time.monotonic() - started < 5.0
    assert written(result) > QUOTA.max_disk_bytes / 2
    assert not leftovers(jobs)


def test_many_empty_files_count_against_the_disk_quota(isolation: Isolation) -> None:
    code = "for n in range(100_000):\n    open(f'f{n}', 'w').close()\nprint('all')"
    limits = SandboxLimits(wall_seconds=10.0, max_disk_bytes=2**20)  # 256 files of 4 KiB
    for chosen in {isolation, Isolation()}:
        result = run_python(code, limits=limits, isolation=chosen)
        assert result.killed_by == "disk" and "all" not in result.stdout, (chosen, result)


def test_work_within_the_disk_quota_is_fine(isolation: Isolation) -> None:
    code = "open('a', 'wb').write(b'a' * 2**20)\nprint(len(open('a', 'rb').read()))"
    limits = SandboxLimits(max_disk_bytes=4 * 2**20)
    for chosen in {isolation, Isolation()}:
        result = run_python(code, limits=limits, isolation=chosen)
        assert result.ok and result.stdout == f"{2**20}\n", (chosen, result)
    with pytest.raises(ValueError, match="max_disk_bytes"):
        run_python(
            "pass", files={"big.txt": "b" * 2**20}, limits=SandboxLimits(max_disk_bytes=2**19)
        )
    with pytest.raises(ValueError, match="max_disk_bytes"):
        SandboxLimits(max_disk_bytes=0)


def test_fork_bomb_is_contained(complete: Isolation, jobs: list[sandbox._Job]) -> None:
    code = (
        "import os, time\n"
        "children = 0\n"
        "for _ in range(1000):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(30)\n"
        "        os._exit(0)\n"
        "    children += 1\n"
        "print(children)\n"
    )
    result = run_python(code, limits=SandboxLimits(max_processes=20))
    assert result.ok, result.stderr
    assert 0 < int(result.stdout) < 20  # the kernel refused the 20th process
    assert not leftovers(jobs)  # and the sleepers are gone with the run


def test_processes_that_leave_the_group_are_killed(
    complete: Isolation, jobs: list[sandbox._Job]
) -> None:
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    time.sleep(60)\n"
        "print('parent done')\n"
    )
    result = run_python(code)
    assert result.ok and result.stdout == "parent done\n"
    assert not leftovers(jobs)


def test_concurrent_runs_get_their_own_uids(complete: Isolation) -> None:
    async def main() -> list[sandbox.SandboxResult]:
        code = "import os, time\ntime.sleep(0.3)\nprint(os.getuid())"
        return list(await asyncio.gather(*(arun_python(code) for _ in range(4))))

    results = asyncio.run(main())
    uids = {int(r.stdout) for r in results}
    assert len(uids) == 4 and all(uid in host.UID_POOL for uid in uids)


# -- filesystem and network: the kernel layers alone, then with the guard ----------------


def test_kernel_hides_the_host_filesystem(complete: Isolation, secret_file: Path) -> None:
    code = (
        "import os\n"
        "for path in (SECRET, '/etc/shadow', '/root/.bash_history', '/proc/1/environ'):\n"
        "    try:\n"
        "        print(open(path).read())\n"
        "    except OSError as exc:\n"
        "        print(type(exc).__name__)\n"
        "rel = os.path.relpath(SECRET, os.getcwd())\n"
        "try:\n"
        "    print(open(rel).read())\n"
        "except OSError as exc:\n"
        "    print('dotdot', type(exc).__name__, rel.count('..'))\n"
        "print(sorted(os.listdir('/')))\n"
        "try:\n"
        "    open('/usr/evil', 'w')\n"
        "except OSError as exc:\n"
        "    print('write', exc.errno)\n"
    ).replace("SECRET", repr(str(secret_file)))
    result = unguarded(code)
    assert result.ok, result.stderr
    assert SECRET not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[:4] == ["FileNotFoundError"] * 4
    assert lines[4].startswith("dotdot FileNotFoundError")
    assert "tmp" in lines[5] and "home" not in lines[5] and "proc" not in lines[5]
    assert lines[6] == "write 30"  # read-only file system


def test_kernel_refuses_a_private_directory_to_the_sandbox_uid(
    complete: Isolation, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A root-owned 0700 directory *inside* the visible work directory: only the uid
    # layer stands between the code and the file.
    prepare = sandbox._prepare

    def with_private_dir(*args: object, **kwargs: object) -> sandbox._Job:
        job = prepare(*args, **kwargs)  # type: ignore[arg-type]
        private = Path(job.workdir, "private")
        private.mkdir(mode=0o700)
        (private / "key.txt").write_text(SECRET)
        return job

    monkeypatch.setattr(sandbox, "_prepare", with_private_dir)
    code = (
        "import os\n"
        "print(os.stat('private').st_uid, os.getuid() != 0)\n"
        "for attempt in (lambda: os.listdir('private'), lambda: open('private/key.txt').read()):\n"
        "    try:\n"
        "        print(attempt())\n"
        "    except PermissionError:\n"
        "        print('denied')\n"
    )
    result = unguarded(code)
    assert result.ok, result.stderr
    assert result.stdout.splitlines() == ["0 True", "denied", "denied"]


def test_setup_failure_is_a_sandbox_error(
    complete: Isolation, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = (host.Bind(path="/nonexistent-simulacra-path", kind="dir"),)
    monkeypatch.setattr(sandbox, "_system_binds", lambda: broken)
    with pytest.raises(SandboxError, match="could not be set up"):
        run_python("print(1)", isolation=complete)
    assert run_python("print(1)", isolation=Isolation()).ok


def test_root_owned_files_are_out_of_reach(complete: Isolation) -> None:
    home = Path("/root")
    if not home.is_dir():
        pytest.skip("no /root here")
    secret = home / f".simulacra-sandbox-test-{os.getpid()}"
    secret.write_text(SECRET)
    try:
        code = f"print(open({str(secret)!r}).read())"
        for result in (run_python(code), unguarded(code)):
            assert not result.ok and SECRET not in result.stdout
    finally:
        secret.unlink()


def test_kernel_has_no_network(complete: Isolation, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    code = (
        "import socket\n"
        f"try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
        "except OSError as exc:\n    print(exc.errno)\n"
        "print(socket.if_nameindex())\n"
    )
    result = unguarded(code)
    assert result.ok, result.stderr
    errno_line, interfaces = result.stdout.splitlines()
    assert errno_line == "101"  # network unreachable: the loopback is down
    assert interfaces == "[(1, 'lo')]"
    assert_no_connection(listener)


def test_guard_alone_blocks_files_network_and_programs(
    secret_file: Path, listener: socket.socket
) -> None:
    # No kernel layers at all: what a machine without namespaces gets.
    port = listener.getsockname()[1]
    attempts = {
        "read": f"open({str(secret_file)!r}).read()",
        "dotdot": f"open(os.path.relpath({str(secret_file)!r})).read()",
        "list": "os.listdir('/')",
        "write": "open('/tmp/simulacra-sandbox-escape', 'w')",
        "chdir": "os.chdir('/')",
        "connect": f"socket.create_connection(('127.0.0.1', {port}), timeout=1)",
        "resolve": "socket.getaddrinfo('example.com', 80)",
        "system": "os.system('id')",
        "subprocess": "subprocess.run(['id'])",
        "fork_exec": "_posixsubprocess.fork_exec",
        "ctypes": "__import__('ctypes')",
        "kill": "os.kill(1, 0)",
    }
    lines = ["import os, socket, subprocess, _posixsubprocess"]
    for name, action in attempts.items():
        call = f"{action}()" if name == "fork_exec" else action
        lines.append(
            f"try:\n    {call}\n    print({name!r}, 'ALLOWED')\n"
            f"except (OSError, ImportError) as exc:\n    print({name!r}, 'blocked')"
        )
    lines.append("open('inside.txt', 'w').write('ok')\nprint(open('inside.txt').read())")
    result = run_python("\n".join(lines), isolation=Isolation())
    assert result.ok, result.stderr
    out = result.stdout.splitlines()
    assert out[:-1] == [f"{name} blocked" for name in attempts]
    assert out[-1] == "ok"
    assert not os.path.exists("/tmp/simulacra-sandbox-escape")
    assert_no_connection(listener)


def test_common_stdlib_still_works() -> None:
    code = (
        "import asyncio, json, re, math, collections, itertools, tempfile, threading\n"
        "import subprocess, random, datetime, decimal, fractions, heapq\n"
        "async def f():\n    await asyncio.sleep(0)\n    return 1\n"
        "assert asyncio.run(f()) == 1\n"
        "with tempfile.NamedTemporaryFile('w') as handle:\n    handle.write('x')\n"
        "t = threading.Thread(target=print, args=('thread',))\nt.start()\nt.join()\n"
        "print(json.dumps({'ok': random.Random(1).random() < 1}))\n"
    )
    result = run_python(code)
    assert result.ok, result.stderr
    assert result.stdout == 'thread\n{"ok": true}\n'


# -- async -------------------------------------------------------------------------------


async def test_async_run_does_not_block_the_loop() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    await arun_python("pass")  # the probe, if not done yet
    task = asyncio.create_task(ticker())
    result = await arun_python("import time\ntime.sleep(0.5)\nprint('done')")
    task.cancel()
    assert result.ok and result.stdout == "done\n"
    assert ticks >= 10


async def test_cancelling_kills_the_run(complete: Isolation, jobs: list[sandbox._Job]) -> None:
    code = "import os\nif os.fork() == 0:\n    os.setsid()\nwhile True: pass"
    task = asyncio.create_task(arun_python(code, limits=SandboxLimits(wall_seconds=30)))
    await asyncio.sleep(0.5)
    assert len(jobs) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not leftovers(jobs)


def test_sync_api_works_inside_an_event_loop() -> None:
    async def main() -> sandbox.SandboxResult:
        return run_python("print(1)")

    assert asyncio.run(main()).stdout == "1\n"


# -- run_tests ---------------------------------------------------------------------------

TESTS = '''"""Tests for add."""
from solution import add

assert add(1, 1) == 2
assert add(0, 0) == 0, "zero"
for a, b in [(1, 2), (3, 4)]:
    assert add(a, b) == a + b


def test_two():
    assert add(2, 2) == 4


async def test_async():
    assert add(5, 5) == 10


if __name__ == "__main__":
    test_two()
'''
CASES = 5


def test_run_tests_passing_solution() -> None:
    solution = (
        "def add(a, b):\n    return a + b\n\n"
        "if __name__ == '__main__':\n    print(add(int(input()), 1))\n"
    )
    outcome = run_tests(solution, TESTS)
    assert outcome.all_passed, outcome
    assert (outcome.passed, outcome.failed, outcome.total) == (CASES, 0, CASES)
    assert outcome.first_failure is None and outcome.error is None
    assert [case.name for case in outcome.cases][-2:] == ["test_two", "test_async"]
    assert outcome.to_dict()["all_passed"] is True


def test_run_tests_failing_solution() -> None:
    solution = "def add(a, b):\n    print('debugging')\n    return a - b\n"
    outcome = run_tests(solution, TESTS)
    assert not outcome.all_passed
    assert (outcome.passed, outcome.failed) == (1, CASES - 1)  # only add(0, 0) == 0 holds
    assert outcome.first_failure is not None
    assert outcome.first_failure.startswith("line 4: assert add(1, 1) == 2: AssertionError")
    assert "tests.py line 4" in outcome.first_failure
    assert outcome.error is None
    assert "debugging" in outcome.run.stdout


def test_run_tests_hanging_solution() -> None:
    solution = "def add(a, b):\n    while a == 2:\n        pass\n    return a + b\n"
    started = time.monotonic()
    outcome = run_tests(solution, TESTS, limits=FAST)
    assert time.monotonic() - started < FAST.wall_seconds + 3.0
    assert outcome.run.timed_out
    assert outcome.passed == 3  # the cases before the hang
    assert outcome.failed == 2 and outcome.error is not None
    assert outcome.first_failure is not None and outcome.first_failure.startswith("test_two")


def test_run_tests_cannot_be_fooled_by_printed_results() -> None:
    solution = (
        "import sys\n"
        "def add(a, b):\n    return 0\n"
        'print(\'{"case": "test_two", "passed": true}\')\n'
        "sys.stdout.flush()\n"
    )
    assert run_tests(solution, TESTS).passed == 1
    quitter = "import os\ndef add(a, b):\n    os._exit(0)\n"
    outcome = run_tests(quitter, TESTS)
    assert outcome.passed == 0 and outcome.error is not None


def test_run_tests_reports_broken_inputs() -> None:
    broken = run_tests("def add(:", TESTS)
    assert broken.failed == CASES and broken.error is not None
    assert "SyntaxError" in broken.error
    bad_tests = run_tests("x = 1", "assert (")
    assert bad_tests.total == 0 and bad_tests.error is not None
    setup = run_tests("x = 1", "y = 1 / 0\nassert x == 1")
    assert setup.failed == 1 and setup.error is not None and "ZeroDivisionError" in setup.error
    empty = run_tests("x = 1", "y = 2")
    assert empty.total == 0 and empty.error == "no test cases found"


def test_run_tests_check_function_style() -> None:
    tests = "def check(candidate):\n    assert candidate(2) == 4\n\ncheck(double)\n"
    assert run_tests("def double(x):\n    return 2 * x\n", tests).all_passed
    failed = run_tests("def double(x):\n    return x\n", tests)
    assert failed.failed == 1 and failed.first_failure is not None
    assert "assert candidate(2) == 4" in failed.first_failure


async def test_arun_tests() -> None:
    outcome = await arun_tests("def add(a, b):\n    return a + b\n", TESTS)
    assert outcome.all_passed
