# k8s-lab: `make run` installs what is missing and starts the lab; `make test` runs the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export K8S_LAB_CACHE ?= $(HOME)/.cache/k8s-lab
# The groups of binaries the toolchain build makes: api (kwok tier) and full (kind tier).
TOOLCHAIN_GROUPS ?= api

.PHONY: help run run-full test lint setup system-deps system-deps-test venv npm toolchain migrate static check-deploy clean

help:
	@echo "make run    install what is missing and start the lab on http://127.0.0.1:$(PORT)/"
	@echo "make test   install what the tests need and run them"
	@echo "make run-full   the lab with full clusters (kind) offered too; needs root for Docker"
	@echo "make toolchain   build the pinned Kubernetes toolchain into $(K8S_LAB_CACHE)"
	@echo "make images   build the production images for docker compose (docs/deploy-compose.md)"

run: setup migrate static
	$(PY) manage.py runlab --port $(PORT) --no-migrate

# The same, with full clusters (kind, real containers) offered too: starts Docker and builds the
# full tier first (about 12 minutes the first time, seconds after).
run-full: setup full-tier migrate static
	LAB_TIERS=api,full $(PY) manage.py runlab --port $(PORT) --no-migrate

test: setup system-deps-test static full-tier-if-possible lint
	$(PY) -m pytest

# Lint and import order (ruff.toml): pyflakes, pycodestyle, isort, a few bug-prone patterns.
lint: venv
	@$(VENV)/bin/ruff check .

setup: system-deps venv npm toolchain

system-deps:
	@scripts/system-deps.sh run

system-deps-test:
	@scripts/system-deps.sh test

# The virtual environment is rebuilt only when a requirements file changes.
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "[setup] installing Python packages into $(VENV)"
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

npm: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	@echo "[setup] installing front-end packages from npm"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

toolchain:
	@bash toolchain/build.sh $(TOOLCHAIN_GROUPS)

migrate: venv
	@$(PY) manage.py migrate --noinput -v0

static: venv npm
	@$(PY) manage.py collectstatic --noinput -v0

# What `manage.py check --deploy` says about production settings (HTTPS on, a real secret).
check-deploy: venv
	@HTTPS=true SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		$(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf var/static

# ---- full-tier: kind clusters with real pods ------------------------------------------------
# Docker Engine (started here, no systemd), the full toolchain and every image, built locally
# (no registry). Needs root. Idempotent: a second run only checks, in seconds.
.PHONY: full-tier full-tier-docker full-tier-images full-tier-if-possible
full-tier:
	@bash toolchain/full-tier.sh

# `make test` builds the full tier where it can (root, Docker from Debian, debootstrap) and goes on
# without it where it cannot: the full tier's tests then skip, each saying why.
full-tier-if-possible:
	@timeout 2700 bash toolchain/full-tier.sh || \
		echo "[full-tier] NOT AVAILABLE on this machine (see the lines above); full-tier tests will be skipped"

# Only start Docker (and install the runc wrapper where privileged containers need it).
full-tier-docker:
	@bash toolchain/docker/ensure-docker.sh

# Only (re)build the images; Docker must answer and `make toolchain TOOLCHAIN_GROUPS=full` be done.
full-tier-images:
	@bash toolchain/node-image/build.sh

# ---- benchmarks: the web terminal beside its peers, provisioning, grading (see BENCHMARKS.md) --
# Each prints one JSON document and keeps a copy in bench/results/<name>-<date>.json.
.PHONY: bench bench-terminal bench-provision bench-grading
bench: bench-terminal bench-provision bench-grading

bench-terminal: setup
	$(PY) bench/terminal.py --save

bench-provision: setup
	$(PY) bench/provision.py --save

bench-grading: setup
	$(PY) bench/grading.py

# ---- the README's pictures ----------------------------------------------------------------------
# A test run writes its screenshots to test-artifacts/ (ignored by git); this refreshes the ones
# in docs/screenshots/ on purpose, by running the browser tests that take them.
SCREENSHOT_TESTS := tests/test_browser_course.py tests/test_browser_dashboard.py \
	tests/test_browser_terminal.py tests/test_browser_full_tier.py
.PHONY: screenshots
screenshots: setup system-deps-test static full-tier-if-possible
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest $(SCREENSHOT_TESTS)

# ---- production on one host: docker compose (docs/deploy-compose.md) ----------------------------
# `make images` builds the images docker-compose.yml runs, here, from Debian's packages and the
# pinned toolchain (no registry), and the pinned Compose CLI; it rebuilds only what changed.
# Needs root (Docker, debootstrap). `make compose-e2e` runs the end-to-end test on them.
.PHONY: images compose-cli compose-e2e
images: npm toolchain compose-cli full-tier-docker
	@bash toolchain/images/build.sh

compose-cli:
	@bash toolchain/images/compose-cli.sh

compose-e2e: venv images
	$(PY) -m pytest -m deploy tests/deploy -v -s --durations=0
