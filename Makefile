# cleaner: `make demo` to see it work, `make test` to run the suite. `make help` lists targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= ../shared
SEED := $(wildcard $(SHARED)/seed/express-ricketts.txt)
MODEL := models/cleaner.joblib

.PHONY: help install demo test model eval bench bench-html bench-dask check-corpus fuzz kill-test etl lint clean-out

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat
	$(BIN)/python -m compileall -q cleaner  # see bench: an editable install writes no bytecode
	touch $@

install: $(STAMP) ## create .venv and install cleaner with its test tools

demo: $(STAMP) ## clean the bundled examples (and the seed, when ../shared is there) into out/
	$(BIN)/cleaner clean fixtures/examples $(SEED) -o out --removed out/removed.jsonl

test: $(STAMP) ## run the whole test suite
	$(BIN)/pytest

# Retrains whenever asked, never as a side effect: with the model a file target built from
# the sources, the ETL pattern rules below (which list the model so that a new model redoes
# their outputs) retrained it, overwriting the shipped model, whenever a source file was newer.
model: $(STAMP) ## retrain the shipped model from fixtures/ (and ../shared/corpus when present)
	$(BIN)/cleaner train fixtures/train -o $(MODEL)

eval: $(STAMP) ## score the model on held-out data against fixtures/eval/floors.json
	$(BIN)/cleaner evaluate fixtures/eval --check

bench: $(STAMP) ## corpus throughput, --jobs, cold start and HTML pages/s, beside baselines
	@# Where PYTHONDONTWRITEBYTECODE is set (it is on this project's machines), an editable install
	@# compiles every module of cleaner at each start: 60 ms of a 0.4 s cold start. pip
	@# compiles an installed package; this does the same for the checkout.
	$(BIN)/python -m compileall -q cleaner
	$(BIN)/python tests/bench.py

bench-html: $(STAMP) ## extraction F1 on scrapinghub (181) and fundus (258) pages beside trafilatura, readability, jusText
	$(BIN)/pip install -q -e '.[test,bench]' --config-settings editable_mode=compat
	$(BIN)/python tests/bench_html.py

bench-dask: $(STAMP) ## the corpus on Dask (1 and 2 workers) beside local --jobs 1 and 2
	$(BIN)/python tests/bench_dask.py

check-corpus: $(STAMP) ## idempotence and subsequence on all 9,335 corpus articles
	$(BIN)/python tests/check_corpus.py

fuzz: $(STAMP) ## 10,000+ hostile files and records through the CLI: no crash, every bad input reported
	$(BIN)/python tests/fuzz.py

kill-test: $(STAMP) ## 50 SIGINT/SIGKILL kills of a batch: no partial file, reruns equal a clean run
	$(BIN)/python tests/kill_test.py

# ETL: copy these two rules into your own Makefile. `make etl` cleans a whole tree in one call
# (outputs newer than their input and the model are skipped, so a rerun cleans only new files);
# the pattern rules clean one file per call when make tracks each file itself.
RAW ?= raw
CLEAN ?= clean
JOBS ?= 2

etl: $(STAMP) ## clean every text/HTML file under RAW= into CLEAN= (JOBS= processes)
	$(BIN)/cleaner clean $(RAW) -o $(CLEAN) --jobs $(JOBS) --removed $(CLEAN).removed.jsonl

$(CLEAN)/%.txt: $(RAW)/%.txt $(MODEL) | $(STAMP)
	$(BIN)/cleaner clean $< -o $@ -q

$(CLEAN)/%.txt: $(RAW)/%.html $(MODEL) | $(STAMP)
	$(BIN)/cleaner clean $< -o $@ -q

lint: $(STAMP) ## ruff and mypy --strict
	$(BIN)/pip install -q ruff mypy
	$(BIN)/ruff check cleaner tests
	$(BIN)/mypy cleaner

clean-out: ## remove out/
	rm -rf out
