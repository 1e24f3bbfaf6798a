# Two commands for a fresh machine: `make run` and `make test`. Everything installs into .venv with pip
# (uv does not see the local CPU torch wheel).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: install run index test test-fast chromium clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[test,milvus]"
	touch $(STAMP)

install: $(STAMP)

index: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m indexer build --if-stale

run: index
	HF_HUB_OFFLINE=1 $(BIN)/streamlit run app.py --server.port $(PORT) --browser.gatherUsageStats false

chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y chromium chromium-driver)

test: install chromium
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

test-fast: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -m "not model and not browser"

clean:
	rm -rf index/builds index/current $(VENV)
