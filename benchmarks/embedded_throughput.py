"""Conversations per hour on the embedded model: one engine slot against several.

Runs two workloads on the real embedded model (llama.cpp, Qwen2.5-Coder-0.5B):

- ``demo``: the built-in demo (``simulacra demo``): an LLM user and an assistant, both on
  the local model, two episodes at a time; a subset of its personas × tasks;
- ``retail``: a τ-retail style shop agent: a long policy and tool schemas in the system
  prompt, tool calls run against the shop environment, a scripted user.

each under these configurations, every one in a fresh subprocess:

- ``slots=1``: one llama.cpp context for every call, as the local backend had before
  slots (calls of different conversations and roles take turns in one KV cache);
- ``slots=2/4/8``: the pool, each conversation's role kept to one slot;
- ``server`` (with ``--server PATH``): llama.cpp's own ``llama-server`` with
  ``--parallel`` slots (batched decoding), started on 127.0.0.1 and reached through the
  ``openai`` backend (``bash scripts/build-llama-server.sh`` builds one).

Configurations alternate (A B C … A B C …) so a change in the machine's load hits all of
them alike; the load average is printed with each figure. For each run: episodes/hour,
model calls, prompt tokens re-processed per call (the tokens llama.cpp had to read; the
rest came from a slot's KV cache), peak RSS and the RSS of the second half of the run
(flat: nothing grows), and whether its episodes are identical to the first run of
``slots=1`` for the same seed.

    python benchmarks/embedded_throughput.py [--rounds 2] [--configs 1,4,2,8]
        [--workloads demo,retail] [--demo-episodes 4] [--retail-episodes 2]
        [--server path/to/llama-server] [--parallel 4] [--concurrency N]

The build's kernels are those of the installed llama-cpp-python; run it with
``LLAMA_CPP_LIB_PATH=DIR`` to measure another build (``benchmarks/build_flags.py``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def workload_config(
    name: str, episodes: int, output_dir: str, turns: int | None = None
) -> dict[str, Any]:
    from simulacra.demo import DEMO_PERSONAS, DEMO_TASKS, demo_config

    if name == "demo":
        config = demo_config(output_dir=output_dir).model_dump(mode="json")
        # the demo's tasks, with its first personas: ``episodes`` is rounded to a multiple
        # of the task count
        personas = max(1, episodes // len(DEMO_TASKS))
        config["personas"] = {"builtin": DEMO_PERSONAS[:personas]}
        config["tasks"] = {"suite": "everyday", "ids": list(DEMO_TASKS)}
        config["models"]["local"]["n_ctx"] = 2048
        config["max_turns"] = turns or config["max_turns"]
        return config
    if name == "retail":
        return {
            "name": "retail",
            "seed": 11,
            "output_dir": output_dir,
            "models": {"local": {"backend": "local", "n_ctx": 4096}},
            "user": {"simulator": "scripted", "model": "local"},
            "target": {"model": "local", "max_tokens": 96, "temperature": 0.0},
            "personas": {"builtin": ["polite-professional"]},
            "tasks": {"suite": "shop", "ids": [f"shop-{i:03d}" for i in range(1, episodes + 1)]},
            "max_turns": turns or 3,
            "concurrency": 2,
        }
    raise SystemExit(f"unknown workload {name!r}")


class EngineLog(logging.Handler):
    """Catches the engine's summary line (calls, prompt tokens sent and read)."""

    def __init__(self) -> None:
        super().__init__()
        self.summary: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("llama.cpp engine"):
            self.summary = json.loads(message.split(": ", 1)[1])


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def server_metrics(url: str) -> dict[str, float]:
    text = urllib.request.urlopen(f"{url}/metrics", timeout=10).read().decode()
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("llamacpp:") and " " in line:
            name, value = line.split(" ", 1)
            values[name.removeprefix("llamacpp:")] = float(value)
    return values


def start_server(binary: str, gguf: Path, parallel: int, n_ctx: int) -> tuple[Any, str]:
    from fake_openai import free_port

    port = free_port()
    command = [binary, "-m", str(gguf), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--parallel", str(parallel), "-c", str(parallel * n_ctx), "--jinja"]
    command += ["--metrics", "--threads", str(os.cpu_count() or 1), "--no-webui"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"llama-server exited with {process.returncode}")
        try:
            if urllib.request.urlopen(f"{url}/health", timeout=2).status == 200:
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("llama-server did not become healthy in 120 s")


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """One configuration on one workload, in this (fresh) process."""
    import simulacra
    from simulacra.llm._weights import default_weights
    from simulacra.runs import parse_config, read_episodes

    handler = EngineLog()
    logger = logging.getLogger("simulacra.llm")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(1.0):
            samples.append((time.perf_counter(), rss_mb()))

    with tempfile.TemporaryDirectory() as tmp:
        config = workload_config(spec["workload"], spec["episodes"], tmp, spec.get("turns"))
        config["cache"] = False
        if spec.get("concurrency"):
            config["concurrency"] = spec["concurrency"]
        local = config["models"]["local"]
        server = None
        if spec["config"] == "server":
            process, url = start_server(
                spec["server"], default_weights(), spec["parallel"], int(local["n_ctx"])
            )
            server = (process, url)
            config["models"]["local"] = {
                "backend": "openai",
                "base_url": f"{url}/v1",
                "model": "local",
                "timeout_s": 3600,
                "max_concurrency": spec["parallel"],
            }
        else:
            local["slots"] = int(spec["config"])
        sampler = threading.Thread(target=sample, daemon=True)
        before = resource.getrusage(resource.RUSAGE_SELF)
        cpu_before = before.ru_utime + before.ru_stime
        started = time.perf_counter()
        sampler.start()
        try:
            result = simulacra.run(parse_config(config))
            wall = time.perf_counter() - started
            episodes = read_episodes(result.run_dir)
            metrics = server_metrics(server[1]) if server else {}
        finally:
            done.set()
            if server:
                server[0].terminate()
                server[0].wait(30)
    signature = {
        f"{e['persona']['name']}|{e['task']['id']}|{e['mode']}": hashlib.sha256(
            json.dumps([(m["role"], m["content"]) for m in e["messages"]]).encode()
        ).hexdigest()[:16]
        for e in episodes
    }
    calls = sum(u.calls for u in result.summary.usage.values())
    prompt = sum(u.prompt_tokens for u in result.summary.usage.values())
    if server:
        evaluated = int(metrics.get("prompt_tokens_total", 0))
    else:
        evaluated = handler.summary.get("evaluated", 0)
    half = [rss for when, rss in samples if when >= started + wall / 2]
    # with the server's time (a child of this process, waited for above)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    server_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime
        + usage.ru_stime
        - cpu_before
        + server_usage.ru_utime
        + server_usage.ru_stime,
        "episodes": len(episodes),
        "errors": sum(e["status"] != "ok" for e in episodes),
        "calls": calls,
        "prompt_tokens": prompt,
        "evaluated": evaluated,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "late_rss_mb": [min(half), max(half)] if half else None,
        "signature": signature,
    }


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")])},
    )
    result: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--configs", default="1,4,2,8", help="slot counts, comma-separated")
    parser.add_argument("--workloads", default="demo,retail")
    parser.add_argument("--demo-episodes", type=int, default=4)
    parser.add_argument("--retail-episodes", type=int, default=2)
    parser.add_argument("--turns", type=int, help="max turns (default: the demo's 4, retail 3)")
    parser.add_argument("--server", help="a llama-server binary: also run it with --parallel")
    parser.add_argument("--parallel", type=int, default=4, help="the server's slots")
    parser.add_argument(
        "--concurrency", type=int, help="episodes played at once (default: the workload's)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    configs: list[str] = args.configs.split(",") + (["server"] if args.server else [])
    workloads = args.workloads.split(",")
    sizes = {"demo": args.demo_episodes, "retail": args.retail_episodes}
    print(f"cpus {os.cpu_count()}, configurations {configs}, rounds {args.rounds}", flush=True)
    baseline: dict[str, dict[str, str]] = {}
    firsts: dict[tuple[str, str], dict[str, str]] = {}
    rates: dict[tuple[str, str], list[float]] = {}
    cpu_rates: dict[tuple[str, str], list[float]] = {}
    for round_ in range(1, args.rounds + 1):
        for workload in workloads:
            for config in configs:
                spec = {
                    "workload": workload,
                    "episodes": sizes[workload],
                    "config": config,
                    "server": args.server,
                    "parallel": args.parallel,
                    "turns": args.turns,
                    "concurrency": args.concurrency,
                }
                before = os.getloadavg()[0]
                r = run_child(spec)
                after = os.getloadavg()[0]
                rate = r["episodes"] / r["wall_s"] * 3600
                rates.setdefault((workload, config), []).append(rate)
                # CPU seconds are steadier than wall time on a loaded machine
                cpu_rates.setdefault((workload, config), []).append(
                    r["episodes"] / max(r.get("cpu_s", 0.0), 1e-9) * 3600
                )
                firsts.setdefault((workload, config), r["signature"])
                if config == "1":
                    baseline.setdefault(workload, r["signature"])
                same_run = r["signature"] == firsts[(workload, config)]
                same_single = r["signature"] == baseline.get(workload)
                late = r["late_rss_mb"]
                name = "server" if config == "server" else f"slots={config}"
                print(
                    f"round {round_} {workload:6} {name:8} {rate:6.1f} episodes/h "
                    f"({r['episodes']} in {r['wall_s']:.0f} s, {r.get('cpu_s', 0):.0f} CPU s, "
                    f"{r['errors']} errors), "
                    f"{r['calls']} calls, prompt {r['prompt_tokens'] / max(r['calls'], 1):.0f} "
                    f"tokens/call of which re-processed "
                    f"{r['evaluated'] / max(r['calls'], 1):.0f}, "
                    f"peak RSS {r['peak_rss_mb']:.0f} MB, second-half RSS "
                    f"{'-' if not late else f'{late[0]:.0f}-{late[1]:.0f}'} MB, "
                    f"same as round 1: {same_run}, same as slots=1: {same_single}, "
                    f"load {before:.1f}->{after:.1f}",
                    flush=True,
                )
    print("\nmean episodes/hour of wall time, and per CPU-hour (speed-up over slots=1):")
    for workload in workloads:
        first = (workload, "1") if (workload, "1") in rates else (workload, configs[0])
        single = sum(rates[first]) / len(rates[first])
        single_cpu = sum(cpu_rates[first]) / len(cpu_rates[first])
        for config in configs:
            mean = sum(rates[(workload, config)]) / len(rates[(workload, config)])
            cpu = sum(cpu_rates[(workload, config)]) / len(cpu_rates[(workload, config)])
            name = "server" if config == "server" else f"slots={config}"
            print(
                f"  {workload:6} {name:8} {mean:6.1f}/h ({mean / single:.2f}x)  "
                f"{cpu:6.1f}/CPU-h ({cpu / single_cpu:.2f}x)"
            )


if __name__ == "__main__":
    main()
