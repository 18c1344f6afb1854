# faceport: `make run` starts the local API, `make test` runs every test.
# Both create the environment first when it is missing (uv, pinned by uv.lock).

UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
SYNCED := $(VENV)/.synced-$(UV_VERSION)
BIN := $(VENV)/bin

.PHONY: run test lint format bench synth samples clean

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(SYNCED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

run: $(SYNCED) samples
	$(BIN)/faceport serve

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
	$(BIN)/python -m tests.bench.bench_video

synth: $(SYNCED)
	$(BIN)/python app.py

clean:
	rm -rf $(VENV) .tools cdk.out samples .pytest_cache .mypy_cache .ruff_cache
