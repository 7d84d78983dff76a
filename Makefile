# Two entry points for a fresh machine: `make demo` and `make test`.
# Each creates .venv on first use and installs only what it needs; nothing is built twice.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test typecheck bench bench-attack bench-distilabel lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# llama-cpp-python builds from source (5-7 minutes on 2 cores, once). A native build
# (-march=native) emits AMX instructions on these Xeons, which the VMs trap as illegal:
# build for AVX2 instead, which every x86-64 server of the last decade runs.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

$(VENV)/.base: pyproject.toml constraints.txt | $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/pip install --constraint constraints.txt --editable .
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.base
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --constraint constraints.txt --editable '.[dev,hf-local]'
	touch $@

demo: $(VENV)/.base
	$(BIN)/fellowship generate --prompts examples/prompts.jsonl --out out/demo --max-tokens 256 --strategy direct

test: $(VENV)/.dev typecheck
	$(BIN)/ruff check .
	$(BIN)/pytest

# mypy --strict on the package (settings in pyproject.toml). The repository root is the
# package, so mypy reads it through a link named fellowship.
typecheck: $(VENV)/.dev
	mkdir -p build/typecheck && ln -sfn ../.. build/typecheck/fellowship
	MYPYPATH=build/typecheck $(BIN)/mypy -p fellowship

bench: $(VENV)/.dev
	$(BIN)/python benchmarks/local_decode.py
	$(BIN)/python benchmarks/graph_overhead.py
	$(BIN)/python benchmarks/fanout.py
	$(BIN)/python benchmarks/generate_throughput.py
	$(BIN)/python benchmarks/ray_scaleout.py
	$(BIN)/python benchmarks/report_render.py

# Attacks on the embedded judge, defences off and on (about 75 minutes on 2 cores): the README's tables.
bench-attack: $(VENV)/.base
	$(BIN)/fellowship attack --dataset llmbar-natural --limit 20 --results out/attack-results.jsonl
	$(BIN)/fellowship attack --dataset pandalm --limit 10 --results out/attack-results.jsonl

# The head-to-head with distilabel (a bench-only extra) on 10 MT-Bench prompts and llama.cpp's server.
$(VENV)/.bench: pyproject.toml $(VENV)/.dev
	$(BIN)/pip install --constraint constraints.txt --editable '.[dev,hf-local,bench]'
	touch $@

bench-distilabel: $(VENV)/.bench
	$(BIN)/python benchmarks/vs_distilabel.py --prompts mt-bench --limit 10

# Re-resolve the newest versions the project allows, run the suite, and record them.
lock: | $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --upgrade --editable '.[dev,hf-local]'
	$(BIN)/pytest
	(head -2 constraints.txt; $(BIN)/pip freeze --exclude-editable | grep -v '^fellowship') > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) out .pytest_cache build
