#!/usr/bin/env bash
# Installs llama-cpp-python built with the kernels CMAKE_ARGS names (by default those of
# scripts/llama-cmake-args.sh), and makes sure the installed build has them.
#
# pip keys its cache of built wheels by the source, not by CMAKE_ARGS, so a plain
# `pip install` (and even `pip wheel --no-binary`) reuses whichever build it made
# first. Here each set of flags has its own wheel, built once from the sdist, without
# pip's cache, into ~/.cache/simulacra/llama-wheels/<key>/ and installed from there.
# An installed build that already reports the wanted kernels is kept as it is.
#
#   PYTHON=python3 [LLAMA_CPP_SPEC=llama-cpp-python==X.Y.Z] bash scripts/install-llama.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
spec="${LLAMA_CPP_SPEC:-llama-cpp-python==0.3.36}"
case "$spec" in
  llama-cpp-python==*) ;;
  *) echo "LLAMA_CPP_SPEC must pin one version (llama-cpp-python==X.Y.Z): $spec" >&2; exit 2 ;;
esac
args="${CMAKE_ARGS-$(bash "$here/llama-cmake-args.sh")}"

# whether the build must report AVX-512 kernels (llama_print_system_info), from the flags
avx512=0
case " $args " in *" -DGGML_AVX512=ON "*) avx512=1 ;; esac
kernels="no AVX-512"
if [ "$avx512" = 1 ]; then kernels="AVX-512"; fi

has_build() {
  "$python" - "$avx512" "${spec#*==}" <<'EOF'
import sys

avx512, version = sys.argv[1] == "1", sys.argv[2]
try:
    import llama_cpp
except ImportError:
    sys.exit(1)
info = llama_cpp.llama_print_system_info().decode()
if llama_cpp.__version__ != version or ("AVX512 = 1" in info) != avx512:
    sys.exit(1)
EOF
}

if has_build; then
  echo "llama-cpp-python: the installed build has the wanted kernels ($kernels)"
  exit 0
fi
key="$(printf '%s\n%s\n' "$spec" "$args" | sha256sum | cut -c1-16)"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/simulacra/llama-wheels/$key"
if ! ls "$dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "llama-cpp-python: building $spec with: ${args:-the default flags} (a few minutes)"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"  # (what a failed build left)
  CMAKE_ARGS="$args" "$python" -m pip wheel --no-cache-dir --no-deps \
    --no-binary llama-cpp-python -w "$dir.tmp" "$spec"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
"$python" -m pip install --no-deps --force-reinstall "$dir"/llama_cpp_python-*.whl
# its dependencies, from the index as usual
"$python" -m pip install "$spec"
if ! has_build; then
  rm -rf "$dir"  # not the build it should be: made again next time
  echo "llama-cpp-python: the installed build does not have the wanted kernels ($kernels)" >&2
  exit 1
fi
echo "llama-cpp-python: installed the build with $kernels"
