#!/usr/bin/env bash
# Builds llama.cpp's own server (llama-server) from the llama.cpp sources vendored in the
# sdist of the installed llama-cpp-python (so it is the same llama.cpp), with the kernels
# of scripts/llama-cmake-args.sh, and prints its path. simulacra does not need it: benchmarks/embedded_throughput.py --server PATH
# compares it with the in-process engine, and any OpenAI-compatible server can be used
# through the `openai` backend. About 4 minutes on two cores.
#
#   bash scripts/build-llama-server.sh [OUT_DIR]   (default ~/.cache/simulacra/bin)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
version="$("$python" -c 'import llama_cpp; print(llama_cpp.__version__)')" \
  || { echo "llama-cpp-python is not installed: run scripts/install-llama.sh first" >&2; exit 1; }
out="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/simulacra/bin}"
args="${CMAKE_ARGS-$(bash "$here/llama-cmake-args.sh")}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$python" -m pip download --quiet --no-deps --no-binary :all: -d "$work" "llama-cpp-python==$version"
tar -xzf "$work"/llama_cpp_python-*.tar.gz -C "$work"
src="$(echo "$work"/llama_cpp_python-*/vendor/llama.cpp)"
# shellcheck disable=SC2086  # the flags are words
cmake -S "$src" -B "$work/build" $args -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON >"$work/cmake.log" 2>&1 \
  || { tail -30 "$work/cmake.log" >&2; exit 1; }
cmake --build "$work/build" --target llama-server -j "$(nproc)" >"$work/build.log" 2>&1 \
  || { tail -30 "$work/build.log" >&2; exit 1; }
mkdir -p "$out"
install -m 755 "$work/build/bin/llama-server" "$out/llama-server"
echo "$out/llama-server"
