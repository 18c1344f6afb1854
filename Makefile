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

.PHONY: run test lint format bench quality cost smoke synth deploy destroy samples clean

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(SYNCED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

run: $(SYNCED) samples
	$(BIN)/faceport serve --dev

# Two real photos for the README's curl example, taken from installed packages.
samples: $(SYNCED)
	@test -f samples/grace_hopper.jpg || $(BIN)/python -m tests.support.write_samples samples

test: lint
	$(BIN)/pytest

lint: $(SYNCED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(SYNCED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(SYNCED)
	$(BIN)/python -m tests.bench.bench_engine
	$(BIN)/python -m tests.bench.bench_api
	$(BIN)/python -m tests.bench.bench_load
	$(BIN)/python -m tests.bench.bench_video
	$(BIN)/python -m tests.bench.bench_auth

# The engine over sample pairs and harder variants: identity, pose and glasses scores,
# and a contact sheet in build/quality/ (slow: not part of `make test`).
quality: $(SYNCED)
	$(BIN)/python -m tests.quality.run_quality

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
