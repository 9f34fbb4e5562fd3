# negsim: one-command set-up. `make run` installs and runs the baseline; `make test` installs
# and runs the test suite. Both build .venv with a Python >= 3.12 found by scripts/find-python.sh.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv run test lint check bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || "$$(scripts/find-python.sh)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/negsim run scenarios/baseline.toml

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check sim analysis tests benchmarks scripts

# Lint (ruff) and type check (mypy: sim and analysis, as configured in pyproject.toml); the
# same as .pre-commit-config.yaml.
check: lint
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
