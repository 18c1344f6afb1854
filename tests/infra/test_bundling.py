"""The Lambda asset: our code without the engine, and everything the handlers import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from infra.bundling import ENGINE_PACKAGE, ROOT, asset_hash, source_files


def test_the_asset_has_every_module_the_handlers_import_and_no_engine() -> None:
    script = (
        "import sys, json\n"
        "import functions.api.handler, functions.workflow.handler\n"
        "import functions.engine_callback.handler, faceport.api.app\n"
        "print(json.dumps(sorted(m.__file__ for n, m in sys.modules.items()\n"
        "    if n.split('.')[0] in ('faceport', 'functions') and getattr(m, '__file__', None))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    imported = {Path(p).resolve() for p in json.loads(out.stdout)}
    shipped = {p.resolve() for p in source_files()}
    assert imported - shipped == set()
    assert not any(p.is_relative_to(ENGINE_PACKAGE) for p in shipped)
    assert ROOT / "faceport" / "engine_protocol.py" in shipped


def test_the_asset_hash_is_stable() -> None:
    assert asset_hash() == asset_hash()
