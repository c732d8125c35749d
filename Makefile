# LeNet-5 by hand. A fresh clone needs two commands:
#   make lab    set up the course (a student's install), then open it in JupyterLab
#   make test   set up everything a maintainer uses, then run every test (unit, notebooks under nbval, browser)
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.lenet-setup-done
COURSE_STAMP := $(VENV)/.lenet-course-done
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg
CHROMIUM ?= /usr/bin/chromium
# Optional: a PyTorch wheel index, e.g. https://download.pytorch.org/whl/cpu for the small CPU-only build.
TORCH_INDEX ?=

# No network for MNIST? Point LENET_MNIST_DIR at a folder holding the four IDX files.
# An offline copy sitting next to the clone, in ../shared/mnist, is used by default.
ifeq ($(strip $(LENET_MNIST_DIR)),)
LENET_MNIST_DIR := $(firstword $(wildcard ../shared/mnist))
endif
ifneq ($(strip $(LENET_MNIST_DIR)),)
override LENET_MNIST_DIR := $(abspath $(LENET_MNIST_DIR))
endif
export LENET_MNIST_DIR

.PHONY: assignments help setup course lab test lint format test-unit test-notebooks browser data notebooks pretrained bench bench-paper lock clean hub hub-proxy hub-runtime app app-voila

help:
	@echo "make lab     set up .venv, then open the course in JupyterLab on notebooks/"
	@echo "make app     the predict panel as a web page (Solara) on 127.0.0.1:8765 (APP_HOST=0.0.0.0 serves the room)"
	@echo "make app-voila   the same page served by Voila instead (a kernel per visitor; app/README.md)"
	@echo "make test    set up .venv, then run unit tests, every notebook (nbval) and browser tests"
	@echo "make lint    ruff over the code and notebooks (part of make test); make format applies its safe fixes"
	@echo "make setup   create or refresh .venv with everything (make test's; does nothing when up to date)"
	@echo "make course  only what the notebooks need (make lab's): no hub, app, browser tests or npm"
	@echo "make data    fetch MNIST (or copy it from LENET_MNIST_DIR) into data/"
	@echo "make notebooks   re-execute every notebook in place (restart and run all)"
	@echo "make pretrained  retrain the shipped model (lenet_utils/pretrained/lenet5_mnist.pt)"
	@echo "make bench-paper  train the 1998 LeNet-5 as the paper did (3 seeds, one image at a time), then its summary"
	@echo "make bench   run the benchmark suite (benchmarks/), then a class of 8 students at once"
	@echo "             (benchmarks/run.py --list: every benchmark, by group: speed, memory, classroom, quality)"
	@echo "make hub     JupyterHub for a class on this machine (hub/README.md; HUB_PORT=8000, HUB_ARGS=...)"
	@echo "make lock    regenerate constraints.txt from a fresh resolve"

# ---- set-up -----------------------------------------------------------------------------
# Two installs into the same .venv, by audience (pyproject.toml's extras): `course` is a student's
# (the package and JupyterLab: make lab), `setup` a maintainer's (every extra: make test, make app,
# make hub, make bench). The torch pair comes from constraints.txt, the one place it is pinned.
setup: $(STAMP)
course: $(COURSE_STAMP)

define VENV_AND_TORCH
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || \
	  { echo "error: Python 3.10 or newer is needed as '$(PYTHON)'; run e.g. 'make PYTHON=python3.11 ...'"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if [ -n "$(TORCH_INDEX)" ]; then \
	  $(PY) -m pip install --quiet --disable-pip-version-check --no-deps --index-url "$(TORCH_INDEX)" \
	    $$(grep -E '^(torch|torchvision)==' constraints.txt); fi
endef
SETUP_DONE = @echo "set-up done: $(VENV) ($$($(PY) -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__)'))"

$(COURSE_STAMP): pyproject.toml constraints.txt
	$(VENV_AND_TORCH)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[course]"
	@touch $(COURSE_STAMP)
	$(SETUP_DONE)

$(STAMP): pyproject.toml constraints.txt
	$(VENV_AND_TORCH)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@# make app's Solara page offline: what solara-assets lacks, packed from npm into .venv (app/solara_offline.py)
	$(PY) app/solara_offline.py
	@touch $(STAMP) $(COURSE_STAMP)
	$(SETUP_DONE)

data: course
	$(PY) -m lenet_utils data

# Debian's chromium for the real-browser tests (Playwright cannot download its own browsers here).
browser:
	@if [ -x "$(CHROMIUM)" ]; then echo "browser: $(CHROMIUM)"; else \
	  echo "browser: $(CHROMIUM) missing, installing Debian's chromium with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -qq chromium >/dev/null || \
	  { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; } || \
	  { echo "error: could not install chromium; install it (apt-get install chromium) or set CHROMIUM=/path/to/chromium"; exit 1; }; \
	  test -x "$(CHROMIUM)" || { echo "error: chromium installed but $(CHROMIUM) is missing; set CHROMIUM=..."; exit 1; }; \
	fi

# configurable-http-proxy for the class's JupyterHub, from npm into hub/proxy (never globally).
HUB_PROXY := hub/proxy/node_modules/.bin/configurable-http-proxy
hub-proxy: $(HUB_PROXY)
$(HUB_PROXY): hub/proxy/package.json hub/proxy/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm is missing: install Node.js 18+ with npm (apt-get install nodejs npm)"; exit 1; }
	npm ci --prefix hub/proxy --no-audit --no-fund --loglevel=error
	@touch $(HUB_PROXY)

# The students' runtime for a hub run as root (hub/runtime.py): a root-owned venv every student account can
# run, with lenet_utils installed non-editable, MNIST, the course and the kernel note, in /opt/lenet-hub.
# Its stamp makes a second run take under a second; without root there is nothing to build.
HUB_RUNTIME ?= /opt/lenet-hub
hub-runtime: setup
	@if [ "$$(id -u)" = 0 ]; then $(PY) hub/runtime.py --runtime $(HUB_RUNTIME); \
	else echo "hub-runtime: not root, so the hub runs students as your own account (hub/README.md)"; fi

# ---- the two commands -------------------------------------------------------------------
# Jupyter refuses to start as root unless told to; containers and classroom VMs often run as root.
# LAB_ARGS passes more options, e.g. make lab LAB_ARGS="--no-browser --port=8900".
LAB_ARGS ?=
lab: course
	-@$(PY) -m lenet_utils data
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

test: setup browser hub-proxy hub-runtime
	$(MAKE) --no-print-directory lint test-unit test-notebooks

# ruff, configured in pyproject.toml: lint errors fail `make test` (and CI)
lint: setup
	$(VENV)/bin/ruff check .

# ruff's safe fixes (import order, old syntax); its formatter is configured but not run here:
# pyproject.toml says why
format: setup
	$(VENV)/bin/ruff check --fix .

# The class's JupyterHub on this machine: prints its URL and how to add students (hub/README.md).
HUB_PORT ?=
HUB_ARGS ?=
hub: setup hub-proxy hub-runtime
	$(PY) hub/launch.py --runtime $(HUB_RUNTIME) $(if $(HUB_PORT),--port $(HUB_PORT)) $(HUB_ARGS)

# The predict panel as a standalone page, no code cells (app/README.md): Solara, one process for every
# visitor; make app-voila serves the same page with Voila (a kernel per visitor). Both listen on this
# machine only; APP_HOST=0.0.0.0 serves a room's network (phones on the same Wi-Fi open the printed address).
APP_HOST ?= 127.0.0.1
APP_PORT ?= 8765
app: setup
	$(PY) app/servers.py solara --host=$(APP_HOST) --port=$(APP_PORT)

app-voila: setup
	$(PY) app/servers.py voila --host=$(APP_HOST) --port=$(APP_PORT)

test-unit: setup
	LENET_CHROMIUM=$(CHROMIUM) $(PY) -m pytest tests

# nbval runs every notebook afresh; tests/nbval_outputs.py keeps that run's outputs, whose claims
# tests/test_notebook_claims.py then checks (cells tagged nbval-ignore-output are not compared).
FRESH := build/notebooks-run
test-notebooks: setup
	rm -rf $(FRESH)
	LENET_FRESH_NOTEBOOKS=$(FRESH) $(PY) -m pytest $(NBVAL) -p tests.nbval_outputs notebooks
	LENET_NOTEBOOKS=$(FRESH) $(PY) -m pytest tests/test_notebook_claims.py tests/test_claims_*.py

# ---- maintenance ------------------------------------------------------------------------
notebooks: setup
	cd notebooks && for nb in [0-9]*.ipynb; do \
	  [ -f "$$nb" ] || continue; echo "executing $$nb"; \
	  ../$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.timeout=600 "$$nb" || exit 1; \
	done

# The shipped model: the reference LeNet-5, trained by the project's own command (about 15 x 5 s on 2 cores).
pretrained: setup
	$(PY) -m lenet_utils train --epochs 15 --augment --seed 0 --out lenet_utils/pretrained/lenet5_mnist.pt

# The suite, then a class of 8 students at once (their durations: benchmarks/README.md), then every
# figure the docs quote re-rendered from the new results (scripts/figures.py; commit what it changed).
bench: setup
	$(PY) benchmarks/run.py
	$(PY) benchmarks/classroom.py --students 8
	$(PY) scripts/figures.py --write

# The 1998 LeNet-5 trained as the paper did (notebook 04b): 3 seeds x 20 passes one image at a time, one
# after another on one thread (the result file records each pass's seconds; PAPER_ARGS, e.g. "--seeds 0
# --distort" or "--curvature each_pass" for the paper's text read literally); then the summary.
PAPER_ARGS ?= --seeds 0 1 2
bench-paper: setup
	nice -n 5 $(PY) benchmarks/paper1998.py $(PAPER_ARGS)
	$(PY) benchmarks/paper1998.py --summary

lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet $$(grep -E '^(torch|torchvision)==' constraints.txt) -e ".[dev]"
	{ sed -n '1,4p' constraints.txt; .lock-venv/bin/pip freeze --exclude-editable | grep -v '^pip=='; } > constraints.new
	mv constraints.new constraints.txt && rm -rf .lock-venv

# The graded assignments rebuilt from the lessons, their solutions and assignments/points.toml: nbgrader's
# source format, and Otter-Grader's; tests/test_assignments.py fails when the committed ones are stale.
assignments: setup
	$(PY) -m lenet_utils assignments build
	$(PY) -m lenet_utils assignments build --otter

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
