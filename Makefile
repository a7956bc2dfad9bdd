# The two entry points named in the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export TF_CPP_MIN_LOG_LEVEL := 3
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test fuzz lint catalog bench sizes reference docs clean

$(BIN)/keraspec: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,tensorflow]'
	touch $@

demo: $(BIN)/keraspec
	$(BIN)/keraspec validate specs/*.yaml specs/applications/*.yaml
	$(BIN)/keraspec compile specs/headline.yaml --summary -o build/headline.keras

test: $(BIN)/keraspec
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/python -m pytest -n 2 tests

# The never-raise properties of tests/test_fuzz.py, 10,000 examples each (docs/security.md).
fuzz: $(BIN)/keraspec
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -n 2 -m "not keras" tests/test_fuzz.py

lint: $(BIN)/keraspec
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

# Regenerate the layer catalog from the installed Keras (see docs/spec-format.md).
catalog: $(BIN)/keraspec
	$(BIN)/python -m keraspec.catalog.generate

# Speed relative to a baseline measured in the same run; writes docs/benchmarks.md.
bench: $(BIN)/keraspec
	$(BIN)/python bench/validate_speed.py

# Line counts of specs/applications/ against the Keras source; writes docs/architectures.md.
sizes: $(BIN)/keraspec
	$(BIN)/python tools/architecture_sizes.py

# The generated pages in docs/reference/ (spec keys, layers and ops, CLI).
reference: $(BIN)/keraspec
	$(BIN)/python tools/reference.py

# The documentation site, checked strictly, in build/site.
docs: $(BIN)/keraspec
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d build/site

clean:
	rm -rf $(VENV) build .pytest_cache
