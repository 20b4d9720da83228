# BassNet — two commands on a fresh Debian machine with Python 3.11:
#   make repro   install what is needed, then run the DVC pipeline (default profile)
#   make test    install what is needed, then run the test suite
# Both are idempotent: a second run skips what is done.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
APT_PACKAGES := fluidsynth fluid-soundfont-gm libsndfile1
# the browser test of `bassnet serve` drives Debian's Chromium (no browser downloads here)
TEST_APT_PACKAGES := chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
PROFILE ?= default
# The pipeline's commands (`bassnet`, `dvc`) run from the project's virtual environment.
RUN := PATH="$(BIN):$$PATH" DVC_NO_ANALYTICS=1

.PHONY: setup system browser repro test test-slow lint bench gpu-check smoke-paper serve screenshot \
	clean

setup: system $(VENV)/.installed

# apt-get install PACKAGES, for those not installed yet
define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

system:
	$(call apt_install,$(APT_PACKAGES))

browser:
	$(call apt_install,$(TEST_APT_PACKAGES))

# the package with every extra, at the exact versions of constraints.txt (pyproject.toml
# holds ranges: a musician's `pip install .` takes the core alone)
$(VENV)/.installed: pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

# `dvc checkout --relink` turns the workspace copies of outputs into links to the DVC cache,
# so the datasets do not take their space twice.
repro: setup
ifeq ($(PROFILE),default)
	$(RUN) dvc repro
else
	$(RUN) dvc exp run $$($(RUN) python -m bassnet.profiles $(PROFILE))
endif
	$(RUN) dvc checkout --relink --quiet

# pytest exits 5 when it collected no test: that is a failure, not a pass.
test: setup browser
	@$(RUN) BASSNET_REQUIRE_BROWSER=1 python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: no tests were collected"; exit 1; fi; exit $$rc

test-slow: setup
	$(RUN) python -m pytest -m slow

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup browser
	$(RUN) python benchmarks/render.py
	$(RUN) python benchmarks/features.py
	$(RUN) python benchmarks/train.py --skip-paper-cpu
	$(RUN) python benchmarks/generate.py
	$(RUN) python benchmarks/remix.py
	$(RUN) python benchmarks/serve.py

# The gpu profile end to end in a scratch copy of the repository (this checkout's outputs stay),
# then the feature and training benchmarks on the GPU: metrics, report, figures, benchmarks and
# timings.json under one folder, $OUT or runs/gpu-check/<time> (benchmarks/gpu_check.py). It
# runs `make setup` itself, to time it. TINY=1: the same path on the CPU at a tiny size.
# GPU_CHECK_FLAGS: e.g. --python PATH (an environment ready, no set-up), --pipeline-limit-s 480.
gpu-check:
	$(PYTHON) benchmarks/gpu_check.py $(if $(TINY),--tiny) $(GPU_CHECK_FLAGS)

# One mini-epoch of the paper's model (5 blocks x 128 maps, batch 20, 1000 windows) on the
# default profile's A1 features: a CPU smoke test of the paper profile (about 50 min on 2 cores).
smoke-paper: setup
	$(RUN) bassnet train --profile paper --features data/features/A1 --window 10-640 \
	  --max-mini-epochs 1 --out runs/smoke-paper/A1/10-640

# The 2-D bass pad in the browser: http://127.0.0.1:8000/ (after `make repro`, or with the
# shipped models alone).
serve: setup
	$(RUN) bassnet serve --models models

# docs/pad.png, the README's picture of the pad: the browser test's screenshot, of the model
# SCREENSHOT_MODEL (a shipped model's name or a model file), with its prior p(z|x)'s density
# over the pad where its file has one, on a rendered song of SCREENSHOT_DATASET (A5's prior
# follows the mix: docs/design.md).
SCREENSHOT_MODEL ?= A5
SCREENSHOT_DATASET ?= A5
screenshot: setup browser
	$(RUN) BASSNET_SCREENSHOT=docs/pad.png BASSNET_SCREENSHOT_MODEL="$(SCREENSHOT_MODEL)" \
	  BASSNET_SCREENSHOT_DATASET="$(SCREENSHOT_DATASET)" \
	  python -m pytest tests/serve/test_browser.py -k user -q

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
