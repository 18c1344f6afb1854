"""Colour transfer so the new face takes on the target's lighting."""

from __future__ import annotations

import cv2
import numpy as np

from ._types import Frame, Mask


def transfer_lab_statistics(
    source: Frame, target: Frame, mask: Mask, *, max_gain: float = 2.0
) -> Frame:
    """Return `source` with the LAB mean and standard deviation of `target` inside `mask`.

    Statistics are measured only where `mask` is set (the face), then applied to every
    pixel of `source`. The per-channel gain is clamped to [1/max_gain, max_gain] so a flat
    source patch cannot be stretched into noise.
    """
    source_lab = cv2.cvtColor(source, cv2.COLOR_BGR2LAB)
    target_lab = cv2.cvtColor(target, cv2.COLOR_BGR2LAB)
    source_mean, source_std = cv2.meanStdDev(source_lab, mask=mask)
    target_mean, target_std = cv2.meanStdDev(target_lab, mask=mask)
    gain = np.clip(target_std / np.maximum(source_std, 1e-3), 1 / max_gain, max_gain)
    offset = target_mean - source_mean * gain
    # one lookup table per channel: the transfer is affine in each channel of uint8 LAB
    levels = np.arange(256, dtype=np.float64)
    channels = [
        cv2.LUT(channel, np.clip(levels * g + o, 0, 255).astype(np.uint8))
        for channel, g, o in zip(cv2.split(source_lab), gain.ravel(), offset.ravel(), strict=True)
    ]
    return cv2.cvtColor(cv2.merge(channels), cv2.COLOR_LAB2BGR)
