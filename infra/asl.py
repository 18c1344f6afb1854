"""The task state machine's definition: one ASL file (JSONPath), with `${Name}`
placeholders that CloudFormation fills in at deploy time and the tests fill in here."""

from __future__ import annotations

import re
from pathlib import Path

DEFINITION = Path(__file__).with_name("statemachine") / "task.asl.json"
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def placeholders() -> set[str]:
    return set(_PLACEHOLDER.findall(DEFINITION.read_text()))


def render(substitutions: dict[str, str]) -> str:
    """The definition with every placeholder replaced (a missing one is an error)."""
    return _PLACEHOLDER.sub(lambda m: substitutions[m.group(1)], DEFINITION.read_text())
