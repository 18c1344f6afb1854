"""Lambda code without Docker: one asset directory built by a local bundler.

The asset holds the API-side dependencies (installed for Lambda's platform, manylinux
x86_64 / CPython 3.11, wheels only, at the versions pinned in uv.lock), the `faceport`
package without its engine, and the thin handlers in functions/. boto3 is not bundled:
the Lambda Python runtime provides it. Every faceport Lambda runs from this one asset.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parents[1]
UV = ROOT / ".tools" / "bin" / "uv"
# What the Lambdas import, besides the standard library and the runtime's boto3.
LAMBDA_REQUIREMENTS = (
    "aws-lambda-powertools",
    "pydantic",
    "pydantic-settings",
    "httpx",
    "pillow",
    "standardwebhooks",
    "aws-xray-sdk",
)
# What the Lambda runtime itself provides.
RUNTIME_PROVIDED = ("boto3",)
# Never in a Lambda: the engine package (cv2, numpy, mediapipe, dlib, av live behind it).
ENGINE_PACKAGE = ROOT / "faceport" / "engine"
SOURCES = ("faceport", "functions")


def source_files() -> list[Path]:
    """Our code in the asset: every module of faceport and functions but the engine's."""
    return [
        path
        for top in SOURCES
        for path in sorted((ROOT / top).rglob("*.py"))
        if not path.is_relative_to(ENGINE_PACKAGE)
    ]


def asset_hash() -> str:
    """Changes when the code or the pinned dependencies change, and only then."""
    digest = hashlib.sha256()
    digest.update(" ".join(LAMBDA_REQUIREMENTS).encode())
    for path in [ROOT / "uv.lock", Path(__file__), *source_files()]:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_asset(output_dir: Path) -> None:
    """Install the Lambda dependencies and copy our code into `output_dir`."""
    with tempfile.TemporaryDirectory() as scratch:
        pins = Path(scratch) / "pins.txt"
        subprocess.run(
            [str(UV), "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-workspace",
             "--no-header", "--output-file", str(pins)],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            [str(UV), "pip", "install", "--quiet", "--target", str(output_dir),
             "--python-platform", "x86_64-manylinux2014", "--python-version", "3.11",
             "--only-binary", ":all:", "--constraints", str(pins), *LAMBDA_REQUIREMENTS],
            cwd=ROOT, check=True,
        )  # fmt: skip
    for path in source_files():
        target = output_dir / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    # Lambda's file system is read-only: without bytecode in the asset every cold start
    # compiles every module. Unchecked-hash .pyc files stay valid whatever the zip does to
    # mtimes; this interpreter is the runtime's version (3.11).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0",
         "--invalidation-mode", "unchecked-hash", str(output_dir)],
        check=True,
    )  # fmt: skip


@jsii.implements(cdk.ILocalBundling)
class _LocalBundler:
    def try_bundle(self, output_dir: str, options: Any) -> bool:
        build_asset(Path(output_dir))
        return True


def lambda_code() -> lambda_.Code:
    """The shared Lambda asset (bundled on this machine, never in Docker)."""
    return lambda_.Code.from_asset(
        str(ROOT / "functions"),  # a small placeholder source: the bundler reads the repo
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=asset_hash(),
        bundling=cdk.BundlingOptions(
            image=cdk.DockerImage.from_registry("local-bundling-only"),
            # jsii calls it with the options as one object, not the keywords the stub shows
            local=cast(cdk.ILocalBundling, _LocalBundler()),
        ),
    )
