# One command sets up and runs the demo, one sets up and passes every test.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LABEXT := $(VENV)/share/jupyter/labextensions/jupyter-opencode
JS_SOURCES := $(wildcard js/src/*) $(wildcard js/lab/src/*) $(wildcard js/lab/src/*/*) $(wildcard js/lab/schema/*) $(wildcard js/lab/style/*) js/package.json js/lab/package.json js/build.mjs js/package-lock.json
BUILT := src/jupyter_opencode/static/chat.js src/jupyter_opencode/labextension/package.json

.PHONY: setup demo test lint test-python test-browser bench screenshots clean

DEJAVU := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

setup: $(STAMP) $(BUILT) /usr/bin/chromium $(DEJAVU)

# The venv's labextension is a link to the build folder, so JS rebuilds show up in JupyterLab.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	rm -rf $(LABEXT)  # else the editable install writes its shared data through the link
	$(PY) -m pip install --quiet -e ".[test]"
	rm -rf $(LABEXT) && ln -s $(CURDIR)/src/jupyter_opencode/labextension $(LABEXT)
	$(VENV)/bin/jupyter-opencode install-worker
	touch $@

$(BUILT) &: $(JS_SOURCES) | $(STAMP)
	cd js && npm install --no-audit --no-fund && npm run build

/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# PDF exports use DejaVu for text beyond Latin-1 (else the PDF core fonts).
$(DEJAVU):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core

demo: $(STAMP) $(BUILT)
	$(VENV)/bin/jupyter-lab notebooks/quickstart.ipynb $(if $(filter 0,$(shell id -u)),--allow-root)

lint: $(STAMP) $(BUILT)
	cd js && npm run --silent lint
	$(VENV)/bin/ruff check src tests benchmarks js/test
	$(VENV)/bin/ruff format --check src tests benchmarks js/test
	$(VENV)/bin/mypy

test-python: setup
	$(PY) -m pytest -m "not browser"

test-browser: setup
	$(PY) -m pytest -m browser tests/browser js/test

test: lint test-python test-browser

bench: setup
	$(PY) benchmarks/run.py

# README pictures, taken by the browser tests that show each view (light and dark).
PICTURES := docs/images
SHOTS := test-artifacts/browser
screenshots: setup
	$(PY) -m pytest -m browser -q \
		"tests/browser/test_quickstart.py::test_ask_about_failing_cell_and_insert_code" \
		"tests/browser/test_sidebar.py::test_open_session_in_tab_shows_its_conversation" \
		"tests/browser/test_notebook_tools.py::test_changes_appear_in_the_open_notebook_only_after_allow"
	mkdir -p $(PICTURES)
	cp $(SHOTS)/2-answered.png $(PICTURES)/panel.png
	cp $(SHOTS)/sidebar-2-tab-light.png $(PICTURES)/sidebar-tab-light.png
	cp $(SHOTS)/sidebar-2-tab-dark.png $(PICTURES)/sidebar-tab-dark.png
	cp $(SHOTS)/notebook-approval-edit.png $(PICTURES)/approval-diff.png

clean:
	rm -rf $(VENV) js/node_modules js/lab/node_modules src/jupyter_opencode/static src/jupyter_opencode/labextension
