"""Argument types the local and the remote CLI share, and the output format rule."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faceport.errors import FaceportError
from faceport.tasks import OutputFormat, TargetSelection

FORMATS: tuple[OutputFormat, ...] = ("png", "jpg", "webp")
_SUFFIXES: dict[str, OutputFormat] = {".png": "png", ".jpg": "jpg", ".jpeg": "jpg", ".webp": "webp"}


class OutputFormatMismatch(FaceportError):
    code = "unsupported_output_format"
    status = 400


class UsageError(FaceportError):
    """Options that do not go together (argparse cannot say so itself)."""

    code = "usage_error"
    status = 400


def command_group(
    commands: Any,
    name: str,
    help_text: str,
    description: str | None,
    common: argparse.ArgumentParser,
    group_options: Callable[[Any], argparse.ArgumentParser],
) -> Callable[[str, str], argparse.ArgumentParser]:
    """A command with actions (`admin ACTION`, `remote ACTION`) whose own options
    (`group_options(default)`) are accepted before the action and after it. On the actions
    they default to `SUPPRESS`, "not given", so a value given before is not undone.
    Returns the function that adds one action."""
    group = commands.add_parser(
        name, help=help_text, description=description, parents=[common, group_options(None)]
    )
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    parents = [common, group_options(argparse.SUPPRESS)]

    def action(action_name: str, action_help: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(
            action_name, help=action_help, description=action_help, parents=parents
        )
        return parser

    return action


def output_format_for(output: Path, given: OutputFormat | None) -> OutputFormat:
    """The format to write `output` in: from its extension (.png, .jpg/.jpeg, .webp), or
    `given` (--format) when it has none. An extension for another format, or one that
    disagrees with --format, is refused rather than written with the wrong bytes."""
    suffix = output.suffix.lower()
    from_suffix = _SUFFIXES.get(suffix)
    if suffix and from_suffix is None:
        raise OutputFormatMismatch(
            f"{output}: faceport writes PNG, JPEG or WebP; name the file .png, .jpg or .webp."
        )
    if given is not None and from_suffix is not None and given != from_suffix:
        raise OutputFormatMismatch(f"{output}: the extension says {from_suffix}, --format {given}.")
    return from_suffix or given or "png"


def target_selection(text: str) -> TargetSelection:
    if text == "all":
        return "all"
    try:
        indexes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("use N, N,M,... or all") from None
    if any(i < 0 for i in indexes):
        raise argparse.ArgumentTypeError("face indexes start at 0")
    return indexes[0] if len(indexes) == 1 else indexes


def video_selection(text: str) -> int | str:
    if text == "all":
        return "all"
    if not text.isdigit():
        raise argparse.ArgumentTypeError("use N (0 = largest face) or all")
    return int(text)


def face_map(text: str) -> list[tuple[int, int]]:
    try:
        pairs = [tuple(int(i) for i in pair.split(":")) for pair in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("use SOURCE:TARGET pairs, e.g. 0:1,1:0") from None
    if any(len(p) != 2 or min(p) < 0 for p in pairs):
        raise argparse.ArgumentTypeError("use SOURCE:TARGET pairs, e.g. 0:1,1:0")
    return [(p[0], p[1]) for p in pairs]


def similarity(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a number from 0 to 1") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a number from 0 to 1")
    return value
