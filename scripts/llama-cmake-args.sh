#!/usr/bin/env bash
# Prints the CMAKE_ARGS for building llama.cpp (through llama-cpp-python) on this machine.
#
# A build tuned with -march=native (GGML_NATIVE) crashed on processors with AMX, so the
# kernels are chosen here instead: the portable AVX2 set on every x86-64 machine, and
# AVX-512 (F/BW/DQ/VL, with VBMI, VNNI and BF16 where present) when the CPU has it
# (SIMULACRA_AVX512=0 keeps to AVX2). AMX is never enabled. Elsewhere (arm64, ...)
# nothing is printed and llama.cpp's own defaults apply. benchmarks/build_flags.py
# measures builds; docs/design.md has the figures.
set -euo pipefail
[ "$(uname -m)" = "x86_64" ] || exit 0
flags=""
if [ -r /proc/cpuinfo ]; then
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
fi
has() { case "$flags" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
args="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
if [ "${SIMULACRA_AVX512:-1}" != "0" ] \
  && has avx512f && has avx512bw && has avx512dq && has avx512vl; then
  args="$args -DGGML_AVX512=ON"
  if has avx512vbmi; then args="$args -DGGML_AVX512_VBMI=ON"; fi
  if has avx512_vnni; then args="$args -DGGML_AVX512_VNNI=ON"; fi
  if has avx512_bf16; then args="$args -DGGML_AVX512_BF16=ON"; fi
  if has avx_vnni; then args="$args -DGGML_AVX_VNNI=ON"; fi
fi
echo "$args"
