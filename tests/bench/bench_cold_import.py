"""Cold import of each Lambda, from the real bundled asset (infra/bundling.py builds it
the way `cdk synth` does) in a clean interpreter: `python -I -S` (no site-packages, no
PYTHON* variables), the asset alone on sys.path, as the Lambda runtime has it. Prints,
per handler, the best and the median of RUNS fresh processes: the import of the handler
module, that plus the first event's wiring (settings, adapters, the resolver) with no
AWS call, and that plus the logger and tracer the first event makes (outside Lambda the
tracer is disabled and patches nothing). Goals (issue 14): status < 150 ms, submit
< 250 ms of import.

    .venv/bin/python -m tests.bench.bench_cold_import [asset_dir]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from infra.bundling import build_asset

RUNS = 15
HANDLERS = {
    "status": ("functions.status.handler", "faceport.api.lambda_entry", "_query_handler"),
    "submit": ("functions.submit.handler", "faceport.api.lambda_entry", "_handler"),
    "workflow": ("functions.workflow.handler", "faceport.adapters.aws.runtime", "default_runtime"),
    "task_stream": (
        "functions.task_stream.handler",
        "faceport.adapters.aws.task_stream",
        "_runtime",
    ),
    "authorizer": ("functions.authorizer.handler", "functions.authorizer.handler", "_keys"),
}
# Names of a deployment (the stack sets them); nothing is called, so any value does.
NAMES = ("TASKS_TABLE", "ACCOUNTS_TABLE", "IDEMPOTENCY_TABLE", "WEBHOOKS_TABLE",
         "WEBHOOK_QUEUE_URL", "INPUTS_BUCKET", "RESULTS_BUCKET", "STATE_MACHINE_ARN",
         "ENGINE_ENDPOINT")  # fmt: skip
# What the Lambda Python runtime puts on sys.path after the asset (boto3 and its own).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "dateutil", "six.py", "urllib3", "jmespath")
SCRIPT = """
import os, sys, time, importlib, json
sys.path.insert(0, {asset!r})
sys.path.append({runtime!r})
os.environ.update({env!r})
t0 = time.perf_counter()
importlib.import_module({handler!r})
t1 = time.perf_counter()
getattr(importlib.import_module({root!r}), {build!r})()
t2 = time.perf_counter()
observability = importlib.import_module("faceport.adapters.aws.observability")
observability.logger(), observability.tracer()
t3 = time.perf_counter()
print(json.dumps([(t1 - t0) * 1000, (t2 - t0) * 1000, (t3 - t0) * 1000]))
"""


def runtime_dir() -> Path:
    """A directory with only the runtime's packages (links into this environment's)."""
    import boto3

    site = Path(boto3.__file__).parents[1]
    target = Path(tempfile.mkdtemp(prefix="faceport-runtime-"))
    for name in RUNTIME_PACKAGES:
        (target / name).symlink_to(site / name)
    return target


def measure(
    asset: Path, runtime: Path, handler: str, root: str, build: str
) -> tuple[list[float], list[float], list[float]]:
    env = {f"FACEPORT_{name}": "x" for name in NAMES} | {"AWS_DEFAULT_REGION": "us-east-1"}
    script = SCRIPT.format(
        asset=str(asset), runtime=str(runtime), env=env, handler=handler, root=root, build=build
    )
    imports, inits, traced = [], [], []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, check=True
        )
        first, second, third = json.loads(out.stdout)
        imports.append(first)
        inits.append(second)
        traced.append(third)
    return imports, inits, traced


def main() -> None:
    if len(sys.argv) > 1:
        asset = Path(sys.argv[1]).resolve()
    else:
        asset = Path(tempfile.mkdtemp(prefix="faceport-asset-"))
        build_asset(asset)
    runtime = runtime_dir()
    print(f"asset {asset}; {RUNS} fresh `python -I -S` processes each (ms)")
    print(
        f"{'lambda':12} {'import best':>12} {'median':>8} {'+ wiring best':>14} {'median':>8}"
        f" {'+ logger, tracer':>17} {'median':>8}"
    )
    for name, (handler, root, build) in HANDLERS.items():
        imports, inits, traced = measure(asset, runtime, handler, root, build)
        print(
            f"{name:12} {min(imports):12.1f} {statistics.median(imports):8.1f}"
            f" {min(inits):14.1f} {statistics.median(inits):8.1f}"
            f" {min(traced):17.1f} {statistics.median(traced):8.1f}"
        )


if __name__ == "__main__":
    main()
