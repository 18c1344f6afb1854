"""The friction a new user met with the local `faceport` command, each fixed: options in
either place, one-line errors (no tracebacks), quiet native logs, the output format rule,
files named in errors, the API's video rule, --version and help for every argument."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from faceport.cli import _parser
from tests.support.images import astronaut_jpeg, grace_hopper_jpeg


def faceport(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faceport.cli", *args],
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        timeout=120,
        check=False,
    )


@pytest.fixture
def photos(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "a.jpg").write_bytes(astronaut_jpeg())
    (tmp_path / "g.jpg").write_bytes(grace_hopper_jpeg())
    (tmp_path / "junk.jpg").write_bytes(b"not an image at all")
    (tmp_path / "cut.jpg").write_bytes(grace_hopper_jpeg()[:400])  # a JPEG header, no data
    return {p.stem: p for p in tmp_path.glob("*.jpg")}


def one_line_error(done: subprocess.CompletedProcess[str], code: str) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"faceport: {code}: "), done.stderr
    return lines[0]


def test_admin_options_before_or_after_the_action(tmp_path: Path) -> None:
    data = str(tmp_path / "store")
    made = faceport("admin", "create-account", "acme", "--data-dir", data, "--credits", "7")
    assert made.returncode == 0, made.stderr
    account = json.loads(made.stdout)["account_id"]
    before = faceport("admin", "--data-dir", data, "balance", account)
    assert json.loads(before.stdout)["balance"] == 7
    both = faceport("admin", "--data-dir", data, "balance", account, "--stack", "s")
    one_line_error(both, "validation_error")


def test_admin_stack_without_a_region_is_one_line_with_the_fix(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",  # never ask a metadata service
    }
    line = one_line_error(
        faceport("admin", "--stack", "prod", "balance", "x", env=env), "aws_setup"
    )
    assert "AWS_REGION" in line


def test_engine_logs_are_hidden_unless_verbose(photos: dict[str, Path]) -> None:
    quiet = faceport("detect", str(photos["a"]))
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert json.loads(quiet.stdout)["faces"]
    loud = faceport("detect", str(photos["a"]), "--verbose")
    assert loud.returncode == 0 and loud.stderr.strip()  # TensorFlow Lite / absl lines


def test_the_output_format_follows_the_extension_or_is_refused(
    photos: dict[str, Path], tmp_path: Path
) -> None:
    a, g = str(photos["a"]), str(photos["g"])
    gif = tmp_path / "x.gif"
    one_line_error(faceport("swap", a, g, "-o", str(gif)), "unsupported_output_format")
    assert not gif.exists()
    clash = faceport("swap", a, g, "-o", str(tmp_path / "x.jpg"), "--format", "png")
    one_line_error(clash, "unsupported_output_format")
    bare = tmp_path / "result"
    assert faceport("swap", a, g, "-o", str(bare), "--format", "webp").returncode == 0
    assert bare.read_bytes()[8:12] == b"WEBP"


def test_unreadable_images_name_the_file_and_the_formats(
    photos: dict[str, Path], tmp_path: Path
) -> None:
    out = str(tmp_path / "o.png")
    junk = one_line_error(
        faceport("swap", str(photos["junk"]), str(photos["g"]), "-o", out), "unreadable_image"
    )
    assert str(photos["junk"]) in junk and "JPEG, PNG or WebP" in junk
    cut = one_line_error(faceport("detect", str(photos["cut"])), "unreadable_image")
    assert str(photos["cut"]) in cut and "PNG" in cut


def test_a_still_photo_is_no_video(photos: dict[str, Path], tmp_path: Path) -> None:
    done = faceport("swap-video", str(photos["a"]), str(photos["g"]), "-o", str(tmp_path / "o.mp4"))
    line = one_line_error(done, "unsupported_media")
    assert str(photos["g"]) in line and "MP4" in line


def test_version_and_help_for_every_argument() -> None:
    version = faceport("--version")
    assert version.returncode == 0 and version.stdout.startswith("faceport 0.")
    missing = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not action.option_strings and action.help is None:
                missing.append(f"{path} {action.dest}")

    walk(_parser(), "faceport")
    assert not missing
