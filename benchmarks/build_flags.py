"""Prompt and generation speed of llama.cpp builds with different CPU kernels.

Each build is a directory of llama.cpp shared libraries (``libllama.so`` and its
``libggml*``) built from the sources vendored in the llama-cpp-python sdist with one set
of ``GGML_*`` flags; ``installed`` is the build inside the installed llama-cpp-python.
Each measurement runs in a fresh subprocess that loads the build through
``LLAMA_CPP_LIB_PATH``, reads a 400-token prompt into an empty context and generates 64
tokens greedily on the embedded model; builds alternate (A B A B) and the load average is
printed beside each figure. The generated text must be the same for every build.

    python benchmarks/build_flags.py --build avx512=/tmp/avx512/bin [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child() -> None:
    import llama_cpp

    from simulacra.llm._weights import default_weights

    info = llama_cpp.llama_print_system_info().decode()
    llama = llama_cpp.Llama(model_path=str(default_weights()), n_ctx=1024, verbose=False)
    prompt = llama.tokenize(("The baker weighed the flour and wrote it down. " * 40).encode())
    prompt = prompt[:400]
    started = time.perf_counter()
    llama.eval(prompt)
    prompt_s = time.perf_counter() - started
    started = time.perf_counter()
    out = []
    for token in llama.generate(prompt, temp=0.0, reset=False):
        out.append(token)
        if len(out) == 64:
            break
    generate_s = time.perf_counter() - started
    features = sorted(part.split(" = ")[0].strip() for part in info.split("|") if "= 1" in part)
    print(
        json.dumps(
            {
                "prompt_tps": len(prompt) / prompt_s,
                "generate_tps": len(out) / generate_s,
                "text": llama.detokenize(out).decode("utf-8", "replace"),
                "features": features,
            }
        )
    )


def measure(lib: str | None) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("LLAMA_CPP_LIB_PATH", None)
    if lib:
        env["LLAMA_CPP_LIB_PATH"] = lib
    output = subprocess.run(
        [sys.executable, __file__, "--child"], env=env, check=True, capture_output=True, text=True
    )
    result: dict[str, object] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="append", default=[], help="NAME=DIRECTORY")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return
    builds: dict[str, str | None] = {"installed": None}
    for item in args.build:
        name, _, directory = item.partition("=")
        builds[name] = directory
    texts: dict[str, str] = {}
    totals: dict[str, list[tuple[float, float]]] = {name: [] for name in builds}
    for round_ in range(1, args.rounds + 1):
        for name, lib in builds.items():
            load = os.getloadavg()[0]
            r = measure(lib)
            totals[name].append((float(r["prompt_tps"]), float(r["generate_tps"])))  # type: ignore[arg-type]
            texts.setdefault(name, str(r["text"]))
            print(
                f"round {round_} {name:10} prompt {r['prompt_tps']:6.1f} tok/s, "
                f"generate {r['generate_tps']:5.1f} tok/s, load {load:.1f}, "
                f"kernels {','.join(r['features'])}",  # type: ignore[arg-type]
                flush=True,
            )
    print("\nmean over rounds:")
    for name, values in totals.items():
        prompt = sum(v[0] for v in values) / len(values)
        generate = sum(v[1] for v in values) / len(values)
        same = texts[name] == texts["installed"]
        print(
            f"  {name:10} prompt {prompt:6.1f} tok/s, generate {generate:5.1f} tok/s, "
            f"same text as installed: {same}"
        )


if __name__ == "__main__":
    main()
