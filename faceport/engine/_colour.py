"""Colour transfer so the new face takes on the target's lighting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import cv2
import numpy as np

from ._blend import alpha_blend_roi, region_of
from ._detect import shrink
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


def masked_blurs_small(images: Sequence[np.ndarray], mask: Mask, sigma: float) -> list[np.ndarray]:
    """Local means of `images` (each HxWxC) inside `mask` at the scale `sigma` that follow
    a gradient right up to the mask's edge: at each pixel, the value there of a plane
    fitted by least squares to the pixels around it, weighted by a Gaussian of `sigma`
    and the mask (a normalised convolution of the first order). A plain normalised blur
    averages what lies inwards at an edge, so where the light falls off towards the edge
    of a face it is too bright there (ARCHITECTURE.md, "Engine quality v2", Local colour).

    Float32, on copies reduced to about 3 pixels per sigma (smooth at that scale anyway,
    and the same cost at any size); callers bring them back to the size they need. The
    fit's weights are found once for all the images; far from the mask the means are 0.
    """
    factor, small_sigma = _reduced(sigma)
    weight = shrink(mask, factor).astype(np.float32) * np.float32(1 / 255)
    fit = _plane_fit(weight, small_sigma)
    return [_fitted(shrink(image, factor).astype(np.float32), fit) for image in images]


class _PlaneFit(NamedTuple):
    """Per pixel, the weights that turn the weighted sums of an image, of x times it and
    of y times it (coordinates in sigmas, about the pixel) into the fitted plane's value
    there; and what the sums need (the mask's weight, the coordinates, the sigma)."""

    weight: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    sigma: float
    k0: np.ndarray
    kx: np.ndarray
    ky: np.ndarray


# a ridge on the plane's slopes, as a share of the local weight: where the mask is a thin
# sliver or a corner, the slope across it is poorly known and kept from running away
_SLOPE_RIDGE = 0.05


def _plane_fit(weight: np.ndarray, sigma: float) -> _PlaneFit:
    height, width = weight.shape
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float32)
    xs, ys = (grid_x - width / 2) / sigma, (grid_y - height / 2) / sigma

    def blur(image: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(image, (0, 0), sigma)

    s0, sx, sy = blur(weight), blur(weight * xs), blur(weight * ys)
    sxx, sxy, syy = blur(weight * xs * xs), blur(weight * xs * ys), blur(weight * ys * ys)
    # the moments about each pixel itself, the ridge on the slopes' diagonal
    su, sv = sx - xs * s0, sy - ys * s0
    suu = sxx - 2 * xs * sx + xs * xs * s0 + _SLOPE_RIDGE * s0
    svv = syy - 2 * ys * sy + ys * ys * s0 + _SLOPE_RIDGE * s0
    suv = sxy - xs * sy - ys * sx + xs * ys * s0
    # the first row of the 3x3 normal equations' inverse, by cofactors
    c0, cu, cv = suu * svv - suv * suv, sv * suv - su * svv, su * suv - suu * sv
    determinant = s0 * c0 + su * cu + sv * cv
    solid = (s0 > 1e-3) & (determinant > 1e-9 * np.maximum(s0, 1e-3) ** 3)
    scale = np.where(solid, 1 / np.where(solid, determinant, 1), 0).astype(np.float32)
    return _PlaneFit(weight, xs, ys, sigma, c0 * scale, cu * scale, cv * scale)


def _fitted(image: np.ndarray, fit: _PlaneFit) -> np.ndarray:
    weighted = image * fit.weight[:, :, None]
    t0 = cv2.GaussianBlur(weighted, (0, 0), fit.sigma)
    tx = cv2.GaussianBlur(weighted * fit.xs[:, :, None], (0, 0), fit.sigma)
    ty = cv2.GaussianBlur(weighted * fit.ys[:, :, None], (0, 0), fit.sigma)
    tu, tv = tx - fit.xs[:, :, None] * t0, ty - fit.ys[:, :, None] * t0
    value = fit.k0[:, :, None] * t0 + fit.kx[:, :, None] * tu + fit.ky[:, :, None] * tv
    return np.clip(value, 0, 255)


def _reduced(sigma: float) -> tuple[float, float]:
    """The scale of a copy with about 3 pixels per `sigma`, and `sigma` on that copy."""
    factor = min(1.0, 3.0 / max(sigma, 1e-3))
    return factor, max(0.5, sigma * factor)


def _detail_spread(lab: np.ndarray, low_small: np.ndarray, mask: Mask) -> np.ndarray:
    # every other pixel: the same spread at a quarter of the cost
    sample = (slice(None, None, 2), slice(None, None, 2))
    half = lab[sample]
    low = cv2.resize(low_small, (half.shape[1], half.shape[0]), interpolation=cv2.INTER_LINEAR)
    detail = cv2.subtract(half.astype(np.float32), low)
    _, spread = cv2.meanStdDev(detail, mask=np.ascontiguousarray(mask[sample]))
    return spread.ravel()


# how much of a highlight's lightness beyond the knee stays (transfer_local_shading)
HIGHLIGHT_SLOPE = 0.3


def transfer_local_shading(
    source: Frame,
    target: Frame,
    mask: Mask,
    *,
    sigma: float,
    knee: float = 0.0,
    edge_sigma: float = 0.0,
    edge_reach: float = 0.0,
    edge_where: np.ndarray | None = None,
) -> Frame:
    """Return `source` with the colour and shading of `target` as they vary across `mask`.

    In 8-bit LAB, each channel becomes blur(target) + k * (source - blur(source)), both
    blurs taken inside `mask` only at the scale `sigma`: the target's colour and light as
    they change across the face (a side light, a shadow under the jaw, a greyscale photo)
    and the source's detail finer than that, its contrast `k` matched to the target's
    detail (lightness within [0.7, 1.5], so the features stay; colour within [0, 1.5], so a
    grey target gives a grey face). Computed as k * source + (blur(target) - k *
    blur(source)), the smooth second term at the blur's reduced size.

    With `knee` > 0, lightness more than `knee` levels above blur(target) keeps only
    `HIGHLIGHT_SLOPE` of the rest: a flash highlight on the source's nose or forehead
    does not come onto a softly lit face as a white blob (ARCHITECTURE.md, "Engine
    quality v2"). With `edge_sigma` and `edge_reach` > 0, both blurs go over to that finer
    scale towards the edge of `mask` (`finer_towards_edge`), by `edge_where`'s share
    (float, per pixel) where it is given.
    """
    binary = region_of(mask)
    if cv2.countNonZero(binary) < 16:
        return transfer_lab_statistics(source, target, mask)
    source_lab = cv2.cvtColor(source, cv2.COLOR_BGR2LAB)
    target_lab = cv2.cvtColor(target, cv2.COLOR_BGR2LAB)
    source_low, target_low = masked_blurs_small((source_lab, target_lab), binary, sigma)
    if edge_sigma > 0 and edge_reach > 0:
        source_low, target_low = finer_towards_edge(
            (source_low, target_low), (source_lab, target_lab), binary,
            sigma=edge_sigma, reach=edge_reach, where=edge_where,
        )  # fmt: skip
    spread_source = _detail_spread(source_lab, source_low, binary)
    spread_target = _detail_spread(target_lab, target_low, binary)
    gain = np.clip(spread_target / np.maximum(spread_source, 1e-3), (0.7, 0, 0), (1.5, 1.5, 1.5))
    offset_small = target_low - source_low * gain.astype(np.float32)
    offset = cv2.resize(
        offset_small, (mask.shape[1], mask.shape[0]), interpolation=cv2.INTER_LINEAR
    )
    scaled = cv2.multiply(source_lab, (*gain.tolist(), 0.0), dtype=cv2.CV_32F)
    lab = cv2.add(scaled, offset, dtype=cv2.CV_8U)
    if knee > 0:
        # the knee's level, target_low + knee, at the blur's reduced size, then brought up
        level_small = np.clip(target_low[:, :, 0] + np.float32(knee), 0, 255).astype(np.uint8)
        level = cv2.resize(level_small, (mask.shape[1], mask.shape[0]))
        cv2.insertChannel(_kneed(cv2.extractChannel(lab, 0), level), lab, 0)
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def finer_towards_edge(
    lows: Sequence[np.ndarray],
    images: Sequence[np.ndarray],
    mask: Mask,
    *,
    sigma: float,
    reach: float,
    where: np.ndarray | None = None,
) -> list[np.ndarray]:
    """`lows` (`masked_blurs_small` of `images` inside `mask`, at their reduced size)
    going over to the local means at the finer `sigma`, linearly from `reach` pixels
    inside `mask` to its edge. Where the light falls off towards the face's edge faster
    than the coarse scale follows (a hard shadow, a hair line's shade), the coarse means
    leave the face lighter than the target there: a seam (ARCHITECTURE.md, "Edge shading").
    `where` (float, per pixel of `mask`), if given, scales how far they go over.
    """
    size = (lows[0].shape[1], lows[0].shape[0])
    inside = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    outside = cv2.distanceTransform(cv2.bitwise_not(mask), cv2.DIST_L2, 3)
    # the share of the fine means each pixel takes: all of them at the edge, none beyond
    # 2 sigma outside it, where they are 0 (a reduced cell larger than their reach would
    # average those zeros in as a dark, coloured level)
    share = np.where(
        inside > 0, np.clip(1.0 - inside / reach, 0.0, 1.0), outside <= 2 * sigma
    ).astype(np.float32)
    if where is not None:
        share *= where
    fine = masked_blurs_small(images, mask, sigma)
    # the fine means are at their own reduced size (at or above the coarse ones')
    fine_size = (fine[0].shape[1], fine[0].shape[0])
    share = cv2.resize(share, fine_size, interpolation=cv2.INTER_AREA)[:, :, None]
    amount = cv2.resize(share, size, interpolation=cv2.INTER_AREA)[:, :, None]
    return [
        low + cv2.resize(share * level, size, interpolation=cv2.INTER_AREA) - amount * low
        for low, level in zip(lows, fine, strict=True)
    ]


def _kneed(lightness: Mask, level: Mask) -> Mask:
    """8-bit `lightness` with what lies above `level` compressed to `HIGHLIGHT_SLOPE`
    of itself."""
    over = cv2.subtract(lightness, level)  # saturates: 0 at or under the level
    return cv2.addWeighted(lightness, 1.0, over, -(1.0 - HIGHLIGHT_SLOPE), 0.0)


def outer_feather_band(weights: Mask, width: int) -> Mask:
    """255 where the blend fades (weights below 255) within `width` pixels of the outer
    edge of the face's region; the edges of holes inside it (features kept, hair left out)
    are not part of it."""
    region = region_of(weights)
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    edge = np.zeros(weights.shape[:2], np.uint8)
    cv2.drawContours(edge, contours, -1, 255, thickness=max(2, 2 * width))
    return np.where((weights < 255) & (edge > 0), np.uint8(255), np.uint8(0))


class Residual(NamedTuple):
    """face - target (float32) on a copy reduced by `factor` for blurs of `sigma` pixels
    there (`_reduced`), and the target's reduced copy, to take it again on another face."""

    factor: float
    sigma: float
    difference: np.ndarray
    small_target: np.ndarray

    def on(self, face: Frame) -> Residual:
        """The same residual, taken on `face` instead."""
        difference = shrink(face, self.factor).astype(np.float32) - self.small_target
        return self._replace(difference=difference)


def residual_of(face: Frame, target: Frame, *, sigma: float) -> Residual:
    """face - target on a copy reduced to about 3 pixels per `sigma`."""
    factor, small_sigma = _reduced(sigma)
    small_target = shrink(target, factor).astype(np.float32)
    difference = shrink(face, factor).astype(np.float32) - small_target
    return Residual(factor, small_sigma, difference, small_target)


def match_boundary(
    face: Frame, target: Frame, weights: Mask, *, sigma: float
) -> tuple[Frame, Residual]:
    """`face` plus a smooth correction that makes it equal `target` on the outer feather
    band of `weights` (`outer_feather_band`, 2.5 `sigma` wide) and fades inwards over
    about `sigma` pixels: the colour step a seam would show, spread out instead of drawn
    (the boundary condition of a Poisson blend, without its solve); and what is left of
    face - target on the reduced copy, for `blend_two_bands`.

    The correction is the normalised blur of (target - face) on the band, all of it on a
    copy reduced to about 3 pixels per sigma; away from the band it is divided by at
    least half the blur's peak weight, so it dies out instead of being stretched.
    """
    residual = residual_of(face, target, sigma=sigma)
    band = outer_feather_band(
        shrink(weights, residual.factor), max(1, round(2.5 * sigma * residual.factor))
    )
    if cv2.countNonZero(band) < 4:
        return face, residual
    small_band = band.astype(np.float32) * np.float32(1 / 255)
    weight = cv2.GaussianBlur(small_band, (0, 0), residual.sigma)
    total = cv2.GaussianBlur(residual.difference * -small_band[:, :, None], (0, 0), residual.sigma)
    correction = total / np.maximum(weight, 0.5 * float(weight.max()))[:, :, None]
    height, width = weights.shape[:2]
    full = cv2.resize(correction, (width, height), interpolation=cv2.INTER_LINEAR)
    matched = cv2.add(face, full, dtype=cv2.CV_8U)
    # taken again on the matched face, not as difference + correction: where the sum
    # saturates (a light face's red at 255) that would be more than the face holds, and
    # the two bands took the excess off as a green line (ARCHITECTURE.md, "Two bands")
    return matched, residual.on(matched)


def blend_two_bands(
    target: Frame, face: Frame, weights: Mask, detail_weights: Mask, residual: Residual
) -> Frame:
    """`face` blended into `target`: its detail finer than the residual's sigma by
    `detail_weights` (a narrower feather of the same region, `_blend.narrowed_feather`),
    the rest by `weights`, so the new face's texture reaches nearer its edge while its
    colour still fades in over the whole feather (a two-band blend; ARCHITECTURE.md,
    "Engine quality v2"). `residual` is face - target reduced (`residual_of`, or what
    `match_boundary` returns). Equal to `target` wherever `weights` is 0.

    Computed as the plain blend by `detail_weights` less (detail_weights - weights) times
    the coarse part of face - target: the residual's normalised blur inside the region.
    """
    blended = alpha_blend_roi(target, face, detail_weights)
    height, width = weights.shape[:2]
    region = region_of(weights)
    small_region = shrink(region, residual.factor).astype(np.float32) * np.float32(1 / 255)
    weight = np.maximum(cv2.GaussianBlur(small_region, (0, 0), residual.sigma), 1e-3)
    total = cv2.GaussianBlur(residual.difference * small_region[:, :, None], (0, 0), residual.sigma)
    # the excess weight is as smooth as the feather: the product is taken small too, and
    # the region's mask keeps the target's own bytes where the weight is 0
    excess = shrink(cv2.subtract(detail_weights, weights), residual.factor).astype(np.float32)
    small = total * (excess * np.float32(1 / 255) / weight)[:, :, None]
    # whole levels: the correction is a few of them, and 16-bit halves the resize's cost
    coarse = cv2.resize(np.rint(small).astype(np.int16), (width, height))
    return cv2.subtract(blended, coarse, dst=blended, mask=region, dtype=cv2.CV_8U)
