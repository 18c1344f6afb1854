"""The engine's vocabulary, shared by every stage."""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

Frame: TypeAlias = npt.NDArray[np.uint8]
"""A BGR image, uint8, shape (H, W, 3)."""

Landmarks: TypeAlias = npt.NDArray[np.float32]
"""Points in pixel coordinates of the frame they belong to, float32, shape (N, 2) as (x, y)."""

Mask: TypeAlias = npt.NDArray[np.uint8]
"""A single-channel uint8 image, 0 outside and 255 inside (values between mean partial)."""

Triangles: TypeAlias = npt.NDArray[np.int32]
"""Vertex indices into a Landmarks array, int32, shape (M, 3)."""


class Box(NamedTuple):
    """An axis-aligned rectangle in pixel coordinates; right and bottom are exclusive."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def area(self) -> int:
        return max(self.width, 0) * max(self.height, 0)
