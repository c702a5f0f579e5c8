# The README's two commands: `make demo` and `make test`. Both build .venv from the pinned set when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint format bench constraints clean bytecode

$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.txt -c constraints.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# Bytecode is compiled ahead (uv does not by default, as pip does): where PYTHONDONTWRITEBYTECODE
# is set, every Python process (each Airflow task, each CLI call of a test) would otherwise
# compile Airflow, pandas and GX from source again. The project's own files are recompiled when
# they change.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q -j 0 include dags plugins deploy scripts tools bench tests > /dev/null

demo: bytecode
	$(BIN)/python scripts/demo.py

# Test tiers (markers from tests/conftest.py): the fast tier needs no Airflow process, Docker or
# browser. `make test` is the whole suite, as CI runs it: every tier in one run on every core,
# a file's tests on one worker (its module fixtures are made once), the files in
# tests/conftest.py's order (the longest first, the fast tier last to fill the gaps).
# `make check` is the fast tier alone, while you work.
FAST := not e2e and not deploy and not browser
WORKERS ?= 2

test: bytecode
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist loadfile --no-loadscope-reorder

check: bytecode
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist loadfile -m "$(FAST)"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: bytecode
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

# Regenerate the pins after editing requirements.txt (needs network to the package index).
constraints: $(STAMP)
	$(BIN)/uv pip compile requirements.txt --python-version 3.11 --quiet -o constraints.txt

clean:
	rm -rf $(VENV) .airflow var reports
