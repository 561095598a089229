# Two commands: `make run` and `make test`. Everything they need installs from this repository.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements*.txt | cksum | cut -d' ' -f1)

.PHONY: run test install lint clean messages bench soak

$(STAMP): requirements.txt requirements-dev.txt requirements-chroma.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -r requirements-chroma.txt
	rm -f $(VENV)/.installed-*
	touch $@

# Compiled catalogs are build output: made from the committed .po files.
MO := translations/ja/LC_MESSAGES/messages.mo
$(MO): translations/ja/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d translations

install: $(STAMP) $(MO)

# After changing user-facing text: re-extract and merge into the Japanese catalog.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -o translations/messages.pot --no-location --omit-header .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --width 100

run: install
	$(BIN)/python scripts/serve.py

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every benchmark, figures into bench/REPORT.md (BENCH_QUICK=1: each bench's --quick size).
bench: install
	$(BIN)/python bench/report.py

# The reliability tests at full strength: 500 concurrent submissions, 20 worker kills.
soak: install
	DSR_SOAK=1 $(BIN)/python -m pytest -q tests/test_reliability.py $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
