# The README's two commands: `make run` and `make test`. Both create .venv on first use.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501
export PYTHONPATH := $(CURDIR)
STREAMLIT_FLAGS := --server.headless true --server.fileWatcherType none \
	--browser.gatherUsageStats false

.PHONY: run test bench lint clean messages

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	@echo "deeprnn: serving at http://localhost:$(PORT)"
	$(PY) -m streamlit run app/streamlit_app.py --server.port $(PORT) $(STREAMLIT_FLAGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: lint
	$(PY) -m pytest

# extract the messages of app/ into app/locale/zh/LC_MESSAGES/deeprnn.po (translations kept)
# and compile the .mo; then translate the new entries and run it again
messages: $(STAMP)
	$(PY) -m app.words.catalog

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
