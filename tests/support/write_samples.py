"""Write the two sample photos the README's curl example uses (from installed packages).

`python -m tests.support.write_samples samples/` -> samples/astronaut.jpg, grace_hopper.jpg
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.support.images import astronaut_jpeg, grace_hopper_jpeg


def main(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / "astronaut.jpg").write_bytes(astronaut_jpeg())
    (out / "grace_hopper.jpg").write_bytes(grace_hopper_jpeg())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "samples")
