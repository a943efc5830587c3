# Wix Media Relay — every target bootstraps what it needs on first use.
# The two set-up commands are `make run` and `make test`; see README.md.

SHELL := /bin/bash
ROOT := $(dir $(abspath $(lastword $(MAKEFILE_LIST))))
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
UV        := $(VENV)/bin/uv
STAMP     := $(VENV)/.installed
SAM_VENV  := .venv-sam
SAM       := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
NODE_DEPS := tests/tus_reference/node_modules/.installed
SDK_DEPS  := tests/wix_sdk_oracle/node_modules/.installed
BROWSER_DEPS := clients/browser/node_modules/.installed
XDIST_WORKERS ?= auto

export PYTHONPATH := $(CURDIR)/src:$(CURDIR)/devtools:$(CURDIR)
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv run test test-fast pytest lint emulator build validate deploy invoke bench soak openapi requirements clean \
  build-ApiFunction build-WorkerFunction build-CallbackFunction

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

# --- bootstrap -------------------------------------------------------------------------------
$(PY):
	@python313=$$(scripts/find-python313.sh) || exit 1; \
	echo "creating $(VENV) with $$python313"; \
	"$$python313" -m venv $(VENV)

$(STAMP): $(PY) requirements-dev.txt src/requirements.txt
	@$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip -q
	@[ -x $(UV) ] || $(PY) -m pip install -q --disable-pip-version-check "uv==0.13.9" 2>&1 | grep -v "is ignored" || true
	$(UV) pip install -q --python $(PY) -r requirements-dev.txt
	@touch $@

$(SAM_STAMP): requirements-sam.txt | $(STAMP)
	@[ -x $(SAM_VENV)/bin/python ] || $(UV) venv -q --python $(PY) $(SAM_VENV)
	$(UV) pip install -q --python $(SAM_VENV)/bin/python -r requirements-sam.txt
	@touch $@

$(NODE_DEPS): tests/tus_reference/package.json
	cd tests/tus_reference && npm install --no-audit --no-fund --no-package-lock --silent
	@touch $@

$(SDK_DEPS): tests/wix_sdk_oracle/package.json
	cd tests/wix_sdk_oracle && npm install --no-audit --no-fund --no-package-lock --silent
	@touch $@
# The browser library's one dependency (tus-js-client); the demo page serves its browser build.
$(BROWSER_DEPS): clients/browser/package.json
	@if command -v npm >/dev/null; then \
	  (cd clients/browser && npm install --no-audit --no-fund --no-package-lock --silent) && touch $@; \
	else echo "npm not found: the demo page's resumable uploads need tus-js-client (apt-get install -y nodejs npm)"; fi

venv: $(STAMP) ## create .venv from the pinned requirements

# --- the two set-up commands ------------------------------------------------------------------
run: $(STAMP) $(BROWSER_DEPS) ## start the whole local stack (relay API, Wix emulator, moto, worker, demo page)
	$(PY) -m local_stack

test: lint validate pytest ## lint, validate the template, run the whole test suite

pytest: $(STAMP) $(NODE_DEPS) $(SDK_DEPS) $(BROWSER_DEPS)
	$(PY) -m pytest --durations=15 $(PYTEST_ARGS)

test-fast: $(STAMP) $(NODE_DEPS) ## unit + integration tests without the slow (1 GiB) ones, in parallel
	$(PY) -m pytest tests/unit tests/integration -m "not slow" -n $(XDIST_WORKERS) $(PYTEST_ARGS)

# --- the rest -------------------------------------------------------------------------------
lint: $(STAMP) ## ruff + mypy --strict on src/
	$(VENV)/bin/ruff check $(wildcard src devtools tests bench scripts)
	$(VENV)/bin/ruff format --check src
	$(VENV)/bin/mypy --strict src

emulator: $(STAMP) ## the Wix emulator alone, in the foreground (WIX_EMULATOR_PORT, default 3001)
	$(PY) -m wix_emulator

build: $(STAMP) $(SAM_STAMP) ## sam build (arm64, python3.13, no container), one package per function
	$(SAM) build --template-file template.yaml
	@du -sh .aws-sam/build/*/

# `sam build` runs these (template.yaml: `Metadata: BuildMethod: makefile`, `ContextPath: .`) in a
# scratch copy of the function's CodeUri (src/) with ARTIFACTS_DIR set: the function's pinned
# requirements as CPython 3.13 / arm64 wheels for Lambda's Amazon Linux 2023 (glibc 2.34; no
# source builds, so no container), then the wix_relay package alone (no requirements files, no
# caches). The API verifies JWTs; the worker and the callback consumer ship no PyJWT/cryptography.
LAMBDA_WHEELS := --python-platform aarch64-manylinux_2_34 --python-version 3.13 --only-binary :all:
define lambda_package
	$(if $(ARTIFACTS_DIR),,$(error ARTIFACTS_DIR is not set: `sam build` runs this target))
	$(ROOT)$(UV) pip install -q --python $(ROOT)$(PY) --no-deps --link-mode copy \
	  --target "$(ARTIFACTS_DIR)" $(LAMBDA_WHEELS) -r $(1)
	rm -rf "$(ARTIFACTS_DIR)/bin" # console scripts (jp.py, normalizer): nothing runs them
	cp -R wix_relay "$(ARTIFACTS_DIR)/"
	find "$(ARTIFACTS_DIR)/wix_relay" -name __pycache__ -type d -prune -exec rm -rf {} +
endef

build-ApiFunction:
	$(call lambda_package,requirements.txt)

build-WorkerFunction build-CallbackFunction:
	$(call lambda_package,requirements-worker.txt)

validate: $(STAMP) $(SAM_STAMP) ## sam validate --lint, cfn-lint, cfn-lint after the SAM transform
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint --template-file template.yaml
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) scripts/transform_template.py template.yaml > .aws-sam-transformed.json
	$(VENV)/bin/cfn-lint .aws-sam-transformed.json

deploy: build ## sam deploy --guided (needs AWS credentials)
	$(SAM) deploy --guided

invoke: $(STAMP) ## run FUNCTION=api|worker with EVENT=events/… against the local stack
	$(PY) -m local_stack.invoke $(FUNCTION) $(EVENT)

bench: $(STAMP) ## benchmarks on the local stack; prints a table, writes bench/results.json
	$(PY) -m bench

soak: $(STAMP) ## N objects through the local stack under Wix faults + duplicate deliveries (SOAK_ARGS="--objects 100")
	$(PY) -m soak $(SOAK_ARGS)

openapi: $(STAMP) ## rewrite docs/openapi.json from the code (a test fails when it drifts)
	$(PY) scripts/openapi.py

requirements: $(PY) ## re-pin the requirements files from the .in files
	$(UV) pip compile -q --python-version 3.13 src/requirements.in -o src/requirements.txt
	$(UV) pip compile -q --python-version 3.13 src/requirements-worker.in -c src/requirements.txt \
	  -o src/requirements-worker.txt
	$(UV) pip compile -q --python-version 3.13 requirements-dev.in -o requirements-dev.txt
	$(UV) pip compile -q --python-version 3.13 requirements-sam.in -o requirements-sam.txt

clean: ## remove the environments and build output
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .aws-sam-transformed.json tests/tus_reference/node_modules \
	  tests/wix_sdk_oracle/node_modules clients/browser/node_modules
