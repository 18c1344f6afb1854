"""The Lambda asset: our code without the engine, and everything the handlers import."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from infra.bundling import (
    ENGINE_PACKAGE,
    LAMBDA_REQUIREMENTS,
    ROOT,
    RUNTIME_PROVIDED,
    asset_hash,
    source_files,
)

# Every Lambda entry point, as the deployed functions import them.
HANDLER_IMPORTS = (
    "import functions.submit.handler, functions.status.handler, functions.workflow.handler\n"
    "import functions.authorizer.handler, functions.engine_callback.handler\n"
    "import functions.webhooks.handler, functions.task_stream.handler\n"
)


def test_the_asset_has_every_module_the_handlers_import_and_no_engine() -> None:
    script = (
        "import sys, json\n" + HANDLER_IMPORTS + "import faceport.api.app\n"
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


# httpx imports its command line's packages (httpx[cli]) when they are installed, and does
# without them when not (`try: from ._main import main`); the dev tools bring them here.
OPTIONAL_IMPORTS = frozenset({"click", "pygments", "rich"})


def test_every_package_the_handlers_import_is_bundled_or_in_the_runtime() -> None:
    script = (
        "import sys, json\n"
        + HANDLER_IMPORTS
        + "print(json.dumps(sorted({n.split('.')[0] for n in sys.modules})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    top_level = json.loads(out.stdout)
    owners = metadata.packages_distributions()
    imported = {_name(d) for module in top_level for d in owners.get(module, [])}
    shipped = _closure([*LAMBDA_REQUIREMENTS, *RUNTIME_PROVIDED]) | {"faceport"}  # our source
    assert imported - shipped - OPTIONAL_IMPORTS == set()


def _name(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _closure(names: list[str]) -> set[str]:
    """The distributions `names` install (their non-extra requirements, recursively)."""
    seen: set[str] = set()
    todo = [_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # its marker excludes it here (e.g. a backport for older Pythons)
        seen.add(name)
        for requirement in requirements:
            if "extra ==" not in requirement:
                todo.append(_name(re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0]))
    return seen


def test_the_asset_hash_is_stable() -> None:
    assert asset_hash() == asset_hash()
