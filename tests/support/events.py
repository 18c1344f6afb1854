"""Load the canonical sample events in events/ by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str) -> dict[str, Any]:
    """`load_event("api/get_task")` -> the parsed events/api/get_task.json."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event
