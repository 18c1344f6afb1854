"""The image face swap: decode, detect, landmarks, warp, colour, blend, encode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from faceport.errors import NoFaceInSource, NoFaceInTarget

from ._backend import FacePainter
from ._blend import (
    alpha_blend_roi,
    face_blend_mask,
    feature_region,
    keep_on_skin,
    narrowed_feather,
    region_of,
    restrict_weights,
)
from ._cache import LruCache, content_digest
from ._codec import OutputFormat, decode_image, encode_image
from ._colour import (
    blend_two_bands,
    match_boundary,
    transfer_lab_statistics,
    transfer_local_shading,
)
from ._find import Face, FindOptions, find_faces
from ._glasses import glasses_score, remove_glasses_frame
from ._landmarks import (
    FACE_OVAL,
    FEATURE_POINTS,
    INNER_MOUTH,
    five_point_landmarks,
    inter_ocular_distance,
    locate_landmarks,
)
from ._seam import SeamCheck, by_sector, worst_step
from ._selection import (
    FaceMap,
    FacePair,
    TargetSelection,
    check_source_index,
    requested_pairs,
    resolve_pairs,
)
from ._texture import match_sharpness
from ._timing import timed_stage
from ._types import Box, Frame, Landmarks, Mask, Triangles
from ._warp import (
    face_roi,
    level_turn,
    shape_towards,
    triangulate_face_pair,
    warp_face_to_landmarks,
)


@dataclass(frozen=True)
class EngineSettings:
    """Tuning knobs of the swap; the defaults are what the benchmark was run with."""

    detect_max_side: int = 512
    detect_min_score: float = 0.1
    mesh_crop_margin: float = 1.7
    mesh_crop_max_side: int = 320
    feather_fraction: float = 0.08
    hull_scale: float = 1.0
    forehead_scale: float = 1.0
    png_compression: int = 1
    png_threads: int = 2
    jpeg_quality: int = 92
    webp_quality: int = 90
    # newer knobs go last, so settings built positionally keep their meaning: the first
    # quick detection pass (the second runs at detect_max_side) and the thorough pass's
    # copy, upsampled once (see _find.FindOptions); the glasses frame fill (_glasses.py)
    detect_first_side: int = 320
    detect_thorough_side: int = 1024
    remove_glasses_frame: bool = True
    # quality v2 (ARCHITECTURE.md, "Engine quality v2" has each one's measurements): the
    # glasses step only on faces whose glasses_score reaches glasses_min_score, reaching
    # glasses_arm_reach inter-ocular distances beyond the face for the arms; colour and
    # shading carried locally at local_colour_sigma inter-ocular distances; the target's
    # sharpness and grain (off: not a win); a source turned by at least mirror_min_turn
    # mirrored when the target is turned the other way (by mirror_min_target_turn, below;
    # _warp.level_turn); the
    # new face kept off hair and background outside the features (_blend.keep_on_skin)
    glasses_min_score: float = 1.3
    glasses_arm_reach: float = 0.6
    local_colour: bool = True
    local_colour_sigma: float = 0.3
    match_sharpness: bool = False
    mirror_turned_source: bool = True
    mirror_min_turn: float = 0.15
    skin_mask: bool = True
    # on a face whose eyes are fewer pixels apart, the skin test's cuts are coarser than
    # what they keep out, and cost likeness (ARCHITECTURE.md, "Skin")
    skin_mask_min_inter_ocular: float = 20.0
    # the source's inner-face proportions (_warp.shape_towards), and the colour step left
    # along the blend's outer edge spread inwards over boundary_sigma inter-ocular
    # distances (_colour.match_boundary; 0 = off); the face's detail finer than that
    # fading in over detail_feather of the feather (_colour.blend_two_bands; 1, or no
    # boundary match, = one band)
    shape_transfer: float = 1.0
    boundary_sigma: float = 0.1
    detail_feather: float = 0.4
    # the source's lightness above the target's local level, beyond this many levels,
    # compressed (_colour.transfer_local_shading; 0 = off); the triangles the source shows
    # at less than this share of their area on the target left to the target
    # (_warp.warp_face_to_landmarks; 0 = off)
    highlight_knee: float = 30.0
    min_source_share: float = 0.2
    # the target's inner mouth cut out of the new face, its own teeth or tongue kept: only
    # right where the target's landmarks are its own (shape_transfer 0); with the source's
    # proportions it cut the source's lips and teeth out (ARCHITECTURE.md, "Mouth")
    keep_target_mouth: bool = False
    # the colour and shading's local means at this finer scale (inter-ocular distances) at
    # the blend's edge, going over to local_colour_sigma's over edge_shading_reach: fewer
    # seams for a little identity, so off (0) by default (ARCHITECTURE.md, "Edge shading")
    edge_shading_sigma: float = 0.0
    edge_shading_reach: float = 0.6
    # a source face more than this many times the target's size (in length) sampled from
    # a copy shrunk by area averaging, not picked pixel by pixel (_warp; 0 = off)
    antialias_above: float = 1.2
    # a blend whose edge still shows a colour step over seam_limit Delta E
    # (_seam.SeamCheck) is recoloured again with edge shading at each (sigma, reach) of
    # seam_fallback_steps in turn, each shading more of the edge with a finer scale, until
    # one is under it, in the edge's sectors within seam_local_margin of the limit only
    # (ARCHITECTURE.md, "Seam fallback"; 0 = off)
    seam_limit: float = 10.0
    seam_fallback_steps: tuple[tuple[float, float], ...] = (
        (0.06, 0.2), (0.06, 0.3), (0.06, 0.42), (0.06, 0.6), (0.03, 0.6), (0.03, 0.9),
        (0.02, 0.9),
    )  # fmt: skip
    seam_local_margin: float = 3.0
    # the mirror only when the target is turned at least this far too: what it gains
    # grows with the target's turn alone, what it costs does not (ARCHITECTURE.md, "Mirror")
    mirror_min_target_turn: float = 0.3


DEFAULT_SETTINGS = EngineSettings()


@dataclass(frozen=True)
class SwapResult:
    """A swapped frame and where it differs from the target."""

    frame: Frame
    roi: Box
    weights: Mask


@dataclass(frozen=True)
class FaceRegion:
    """Where one face was blended: the frame changed only inside `roi` where `weights` > 0.

    `filled` is what the face was blended onto inside `roi` when that was not the target
    itself: the target with its glasses frame filled in (`_glasses.py`); else None.
    """

    target_index: int
    roi: Box
    weights: Mask
    filled: Frame | None = None


@dataclass(frozen=True)
class FacesSwapResult:
    """A frame with one or more faces swapped, and the region of each, in the order applied."""

    frame: Frame
    regions: tuple[FaceRegion, ...]


@dataclass(frozen=True)
class SourceFaces:
    """An analysed source: its frame, face boxes (largest first) and landmarks by face index.

    Shared between calls by the source cache, so its arrays are read-only.
    """

    frame: Frame
    boxes: tuple[Box, ...]
    landmarks: dict[int, Landmarks]


SOURCE_CACHE_SIZE = 16
# a source is often used for many targets in a row; decoding, detecting and meshing it
# again each time is the largest cost it has
_source_cache: LruCache[SourceFaces] = LruCache(SOURCE_CACHE_SIZE)


def clear_source_cache() -> None:
    """Forget every cached source analysis (benchmarks use it to measure cold calls)."""
    _source_cache.clear()


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def find_options(settings: EngineSettings) -> FindOptions:
    """The face-finding options that `settings` stand for."""
    return FindOptions(
        quick_sides=(settings.detect_first_side, settings.detect_max_side),
        thorough_side=settings.detect_thorough_side,
        min_score=settings.detect_min_score,
        mesh_margin=settings.mesh_crop_margin,
        mesh_max_side=settings.mesh_crop_max_side,
    )


def analyse_source_frame(
    frame: Frame,
    *,
    indexes: Sequence[int] = (0,),
    thorough: bool = False,
    settings: EngineSettings = DEFAULT_SETTINGS,
    timings: dict[str, float] | None = None,
) -> SourceFaces:
    """Detect the faces of a source frame and locate the landmarks of faces `indexes`.

    Raises `NoFaceInSource` (no face, or no mesh on a wanted face) or
    `SourceIndexOutOfRange`.
    """
    faces = find_faces(frame, find_options(settings), thorough=thorough, timings=timings)
    if not faces:
        raise NoFaceInSource()
    for index in indexes:
        check_source_index(index, len(faces))
    landmarks = {index: _read_only(faces[index].landmarks) for index in sorted(set(indexes))}
    boxes = [face.box for face in faces]
    return SourceFaces(frame=frame, boxes=tuple(boxes), landmarks=landmarks)


def analyse_source(
    data: bytes,
    *,
    indexes: Sequence[int] = (0,),
    thorough: bool = False,
    settings: EngineSettings = DEFAULT_SETTINGS,
    timings: dict[str, float] | None = None,
) -> SourceFaces:
    """Decode and analyse source bytes, reusing the analysis of the same bytes if cached.

    The cache key is a hash of the bytes with everything that changes the analysis; a
    failure (no face) is not cached.
    """
    key = (content_digest(data), tuple(sorted(set(indexes))), thorough, settings)
    cached = _source_cache.get(key)
    if cached is not None:
        return cached
    with timed_stage(timings, "decode"):
        frame = _read_only(decode_image(data))
    analysed = analyse_source_frame(
        frame, indexes=indexes, thorough=thorough, settings=settings, timings=timings
    )
    _source_cache.put(key, analysed)
    return analysed


def _find_target_faces(
    target: Frame,
    requested: list[FacePair] | None,
    settings: EngineSettings,
    timings: dict[str, float] | None,
) -> list[Face]:
    options = find_options(settings)
    if requested is not None and len(requested) == 1:
        # one face: the quick passes, and the thorough one only for an index beyond their
        # list (the quick list is the head of the thorough one)
        faces = find_faces(target, options, timings=timings)
        if faces and requested[0][1] >= len(faces):
            faces = find_faces(target, options, thorough=True, timings=timings)
        return faces
    # several faces: small ones too, as detect_faces_in_image reports them
    return find_faces(target, options, thorough=True, timings=timings)


class WarpSettings(Protocol):
    """The settings the warp and its weights read, which `EngineSettings` and the video's
    `RenderSettings` both have."""

    @property
    def feather_fraction(self) -> float: ...
    @property
    def hull_scale(self) -> float: ...
    @property
    def forehead_scale(self) -> float: ...
    @property
    def min_source_share(self) -> float: ...
    @property
    def keep_target_mouth(self) -> bool: ...
    @property
    def antialias_above(self) -> float: ...


def warp_face_with_weights(
    source_frame: Frame,
    source_points: Landmarks,
    target_points: Landmarks,
    triangles: Triangles,
    roi: Box,
    settings: WarpSettings,
) -> tuple[Frame, Mask]:
    """The source face warped onto `target_points` inside `roi`, and its blend weights
    there: the face's hull feathered in proportion to its width, the source's smeared
    slivers left out (`warp_face_to_landmarks`) and, with `keep_target_mouth`, the inner
    mouth of `target_points` too."""
    warped, covered = warp_face_to_landmarks(
        source_frame,
        source_points,
        target_points,
        triangles,
        roi,
        min_source_share=settings.min_source_share,
        antialias_above=settings.antialias_above,
    )
    local_points = target_points - np.array([roi.left, roi.top], dtype=np.float32)
    face_width = float(np.ptp(target_points[:, 0]))
    mouth = list(INNER_MOUTH) if settings.keep_target_mouth else []
    weights = face_blend_mask(
        covered,
        local_points,
        local_points[mouth],
        feather=max(1, round(face_width * settings.feather_fraction)),
        hull_scale=settings.hull_scale,
        forehead_scale=settings.forehead_scale,
    )
    return warped, weights


def blend_face_in_place(
    frame: Frame,
    source_frame: Frame,
    source_points: Landmarks,
    target_points: Landmarks,
    *,
    settings: EngineSettings = DEFAULT_SETTINGS,
    timings: dict[str, float] | None = None,
) -> tuple[Box, Mask, Frame | None]:
    """Warp the source face onto `target_points` of `frame` (its inner face moved to the
    source's proportions by `settings.shape_transfer`), recolour it and blend it in,
    writing into `frame` itself; returns the region changed, its weights and, where the
    glasses were filled in first, that region as the face was blended onto it.

    Only that region is read and written, so swapping several faces of a large frame
    costs one copy of the frame, not one per face. With `settings.remove_glasses_frame`, a
    target face that wears glasses (`_glasses.glasses_score`) first has its frame and arms
    filled in where the blend would let them show, in a region wider than the face's; the
    returned weights then also cover those pixels, so the frame still equals its input
    wherever they are 0 (the filled region comes back for the quality run's seam score).
    """
    eyes = five_point_landmarks(target_points)[:2]
    inter_ocular = inter_ocular_distance(target_points)
    with timed_stage(timings, "blend"):
        glasses = settings.remove_glasses_frame and (
            glasses_score(frame, eyes) >= settings.glasses_min_score
        )
    with timed_stage(timings, "warp"):
        if settings.shape_transfer > 0:
            target_points = shape_towards(
                source_points, target_points, settings.shape_transfer, FACE_OVAL
            )
        triangles = triangulate_face_pair(source_points, target_points)
        roi = face_roi(target_points, frame.shape, padding=2 + round(0.2 * inter_ocular))
        warped, weights = warp_face_with_weights(
            source_frame,
            source_points,
            target_points,
            triangles,
            roi,
            settings,
        )
    target_roi = frame[roi.top : roi.bottom, roi.left : roi.right]
    if settings.skin_mask and inter_ocular >= settings.skin_mask_min_inter_ocular:
        with timed_stage(timings, "blend"):
            weights = weights_on_skin(
                weights, target_roi, warped, target_points, roi, inter_ocular,
                settings.feather_fraction,
            )  # fmt: skip

    region, changed, filled = roi, weights, None
    if glasses:
        with timed_stage(timings, "blend"):
            # cleans `frame` in place around the face; the blend below starts from that
            region, changed = _clean_glasses_frame(
                frame, roi, weights, eyes, inter_ocular, settings
            )
            filled = frame[region.top : region.bottom, region.left : region.right].copy()

    with timed_stage(timings, "colour"):
        recoloured = _recolour(warped, target_roi, weights, inter_ocular, settings)

    with timed_stage(timings, "blend"):
        # where the face weight is 0 the blend copies the target (cleaned of its frame)
        target_roi[:] = _blend_checked(
            target_roi, warped, recoloured, weights, inter_ocular, settings
        )
    return region, changed, filled


def _blend_checked(
    target: Frame,
    warped: Frame,
    recoloured: Frame,
    weights: Mask,
    inter_ocular: float,
    settings: EngineSettings,
) -> Frame:
    """`recoloured` blended into `target` (`blend_face`); if its edge shows a step over
    `settings.seam_limit` (`_seam.SeamCheck`), `warped` recoloured again with edge shading
    at each of `settings.seam_fallback_steps` in turn, until a blend is under the limit;
    the blend with the smallest step is kept. The shading goes only into the angular
    sectors of the edge (and their neighbours) whose step reads within
    `settings.seam_local_margin` of the limit."""

    def blended(face: Frame) -> Frame:
        return blend_face(
            target, face, weights,
            boundary_sigma=settings.boundary_sigma * inter_ocular,
            detail_feather=settings.detail_feather,
        )  # fmt: skip

    best = blended(recoloured)
    if settings.seam_limit <= 0:
        return best
    check = _seam_check(target, best, weights, inter_ocular, settings.seam_limit)
    if check is None:
        return best
    steps = check.sector_steps(best)
    step = worst_step(steps)
    if step <= settings.seam_limit:
        return best
    # edge shading only where the edge shows a step (ARCHITECTURE.md, "Seam fallback")
    where = by_sector(weights.shape, check.centre, _sectors_to_shade(steps, settings))
    for sigma, reach in settings.seam_fallback_steps:
        shaded = replace(settings, edge_shading_sigma=sigma, edge_shading_reach=reach)
        again = blended(_recolour(warped, target, weights, inter_ocular, shaded, where))
        step_again = check.step(again)
        if step_again < step:
            best, step = again, step_again
        if step <= settings.seam_limit:
            break
    return best


def _sectors_to_shade(steps: np.ndarray, settings: EngineSettings) -> np.ndarray:
    """1 for each sector whose seam step reads within `settings.seam_local_margin` of
    the limit and for its two neighbours, 0 for the rest."""
    near = steps > settings.seam_limit - settings.seam_local_margin  # NaN: not near
    return (near | np.roll(near, 1) | np.roll(near, -1)).astype(np.float32)


# how far under the seam limit the screen on every few pixels must read for a blend to
# pass without the full check: the two have differed by up to ~2 Delta E on the quality set
SEAM_SCREEN_MARGIN = 2.5


def _seam_check(
    target: Frame, blend: Frame, weights: Mask, inter_ocular: float, limit: float
) -> SeamCheck | None:
    """The seam measure of blends by `weights` into `target` at full resolution; None when
    a screen on every few pixels (the eyes ~50 of them apart) already reads `blend` well
    under `limit` (ARCHITECTURE.md, "Seam fallback")."""
    stride = max(1, round(inter_ocular / 50))
    if stride > 1:
        screen = SeamCheck(target, weights, inter_ocular, stride=stride)
        if screen.step(blend) <= limit - SEAM_SCREEN_MARGIN:
            return None
    return SeamCheck(target, weights, inter_ocular)


def blend_face(
    target: Frame, face: Frame, weights: Mask, *, boundary_sigma: float, detail_feather: float
) -> Frame:
    """`face` (recoloured) blended into `target` by `weights`: first matched to the target
    along its outer edge (`_colour.match_boundary`, `boundary_sigma` pixels; 0 = not),
    then in two bands (`_colour.blend_two_bands`, the detail over `detail_feather` of the
    feather; the boundary match's residual is their coarse part), or in one without the
    match or with `detail_feather` 1. The image swap and the video renderer both end here."""
    if boundary_sigma <= 0:
        return alpha_blend_roi(target, face, weights)
    matched, residual = match_boundary(face, target, weights, sigma=boundary_sigma)
    if detail_feather >= 1:
        return alpha_blend_roi(target, matched, weights)
    detail = narrowed_feather(weights, detail_feather)
    return blend_two_bands(target, matched, weights, detail, residual)


def weights_on_skin(
    weights: Mask,
    target: Frame,
    warped: Frame,
    target_points: Landmarks,
    roi: Box,
    inter_ocular: float,
    feather_fraction: float,
) -> Mask:
    """The blend `weights` (of `roi`) kept off what is not skin (`_blend.keep_on_skin`),
    feathered afresh along the new edge."""
    origin = np.array([roi.left, roi.top], dtype=np.float32)
    features = feature_region(weights.shape, target_points[list(FEATURE_POINTS)] - origin)
    region = region_of(weights)
    keep = keep_on_skin(target, warped, features, region, round(0.08 * inter_ocular))
    feather = max(1, round(inter_ocular * 2 * feather_fraction))
    return restrict_weights(weights, keep, feather)


def _clean_glasses_frame(
    frame: Frame,
    roi: Box,
    weights: Mask,
    eyes: Landmarks,
    inter_ocular: float,
    settings: EngineSettings,
) -> tuple[Box, Mask]:
    """Fill in the glasses frame and arms around the face in `frame` itself; returns the
    wider region it may have changed and the face's weights grown to cover those pixels."""
    extra = round(settings.glasses_arm_reach * inter_ocular)
    height, width = frame.shape[:2]
    outer = Box(
        left=max(0, roi.left - extra),
        top=max(0, roi.top - extra),
        right=min(width, roi.right + extra),
        bottom=min(height, roi.bottom + extra),
    )
    outer_weights = np.zeros((outer.height, outer.width), np.uint8)
    top, left = roi.top - outer.top, roi.left - outer.left
    outer_weights[top : top + roi.height, left : left + roi.width] = weights
    outer_target = frame[outer.top : outer.bottom, outer.left : outer.right]
    origin = np.array([outer.left, outer.top], dtype=np.float32)
    cleaned, frame_pixels = remove_glasses_frame(
        outer_target, outer_weights, eyes - origin, reach=0.05 + settings.glasses_arm_reach
    )
    outer_target[:] = cleaned
    return outer, np.maximum(outer_weights, frame_pixels)


def _recolour(
    warped: Frame,
    target: Frame,
    weights: Mask,
    inter_ocular: float,
    settings: EngineSettings,
    edge_where: np.ndarray | None = None,
) -> Frame:
    if settings.local_colour:
        sigma = settings.local_colour_sigma * inter_ocular
        recoloured = transfer_local_shading(
            warped, target, weights, sigma=sigma, knee=settings.highlight_knee,
            edge_sigma=settings.edge_shading_sigma * inter_ocular,
            edge_reach=settings.edge_shading_reach * inter_ocular, edge_where=edge_where,
        )  # fmt: skip
    else:
        recoloured = transfer_lab_statistics(warped, target, weights)
    if settings.match_sharpness:
        recoloured = match_sharpness(recoloured, target, weights)
    return recoloured


def mirrored_source(
    frame: Frame, points: Landmarks, settings: EngineSettings
) -> tuple[Frame, Landmarks] | None:
    """The source flipped left to right with its landmarks found again on the flipped
    frame (the mesh's point numbers are anatomical, so they cannot simply be mirrored);
    None if the mesh does not find the flipped face."""
    flipped = np.ascontiguousarray(frame[:, ::-1])
    width = frame.shape[1]
    low, high = points.min(axis=0), points.max(axis=0)
    box = Box(
        left=max(0, int(width - high[0])),
        top=max(0, int(low[1])),
        right=min(width, int(width - low[0]) + 1),
        bottom=min(frame.shape[0], int(high[1]) + 1),
    )
    found = locate_landmarks(
        flipped, box, margin=settings.mesh_crop_margin, crop_max_side=settings.mesh_crop_max_side
    )
    return None if found is None else (flipped, found)


def oriented_source(
    frame: Frame, points: Landmarks, target_points: Landmarks, settings: EngineSettings
) -> tuple[Frame, Landmarks]:
    """The source as it is, or mirrored when it and the target are turned opposite ways.

    A source turned away from the side the target shows has no pixels of that cheek: the
    warp stretches its edge over it, a pale smear. Mirrored, its visible side lands where
    the target's visible side is (faces are nearly symmetric; see ARCHITECTURE.md).
    """
    if not settings.mirror_turned_source:
        return frame, points
    # each turn read with the eyes levelled, so that a rolled head's nose, lower than its
    # cheek edges, does not read as turned (`HeadView`)
    source_turn, target_turn = level_turn(points), level_turn(target_points)
    if (
        source_turn * target_turn >= 0
        or abs(source_turn) < settings.mirror_min_turn
        or abs(target_turn) < settings.mirror_min_target_turn
    ):
        return frame, points
    return mirrored_source(frame, points, settings) or (frame, points)


def swap_faces_with_source(
    source: SourceFaces,
    target: Frame,
    requested: list[FacePair] | None,
    *,
    settings: EngineSettings = DEFAULT_SETTINGS,
    timings: dict[str, float] | None = None,
    painter: FacePainter | None = None,
) -> FacesSwapResult:
    """Swap the analysed source faces onto the target faces `requested` names.

    `requested` comes from `requested_pairs` (None = source face 0 onto every target face).
    `painter` paints each face (None: the classic warp, colour and blend).
    Faces are swapped one after the other on the same frame, each within its own ROI; all
    target landmarks are located on the untouched target first, so an earlier swap cannot
    move a later face's landmarks.
    """
    target_faces = _find_target_faces(target, requested, settings, timings)
    if not target_faces:
        raise NoFaceInTarget()
    pairs = resolve_pairs(requested, len(target_faces))
    for source_index, _ in pairs:
        check_source_index(source_index, len(source.boxes))

    with timed_stage(timings, "blend"):
        frame = target.copy()
    regions = []
    for source_index, target_index in pairs:
        target_points = target_faces[target_index].landmarks
        filled = None
        if painter is not None:
            roi, weights = painter(frame, source, source_index, target_points, timings)
        else:
            with timed_stage(timings, "landmarks"):
                source_frame, source_points = oriented_source(
                    source.frame, source.landmarks[source_index], target_points, settings
                )
            roi, weights, filled = blend_face_in_place(
                frame,
                source_frame,
                source_points,
                target_points,
                settings=settings,
                timings=timings,
            )
        regions.append(FaceRegion(target_index, roi, weights, filled))
    return FacesSwapResult(frame=frame, regions=tuple(regions))


def _source_indexes(requested: list[FacePair] | None) -> tuple[int, ...]:
    if requested is None:
        return (0,)
    return tuple(sorted({source for source, _ in requested}))


def _wants_thorough_source(face_map: FaceMap | None) -> bool:
    # a face map indexes source faces as detect_faces_in_image does (thorough pass)
    return face_map is not None


def swap_faces_frames(
    source: Frame,
    target: Frame,
    *,
    target_index: TargetSelection = 0,
    face_map: FaceMap | None = None,
    settings: EngineSettings = DEFAULT_SETTINGS,
    timings: dict[str, float] | None = None,
) -> FacesSwapResult:
    """Swap source faces onto the selected target faces (see `swap_face` for the selection).

    Returns a new frame that equals `target` outside each region's `roi` and wherever its
    `weights` are 0.
    """
    requested = requested_pairs(target_index, face_map)
    analysed = analyse_source_frame(
        source,
        indexes=_source_indexes(requested),
        thorough=_wants_thorough_source(face_map),
        settings=settings,
        timings=timings,
    )
    return swap_faces_with_source(analysed, target, requested, settings=settings, timings=timings)


def swap_face_frames(
    source: Frame,
    target: Frame,
    *,
    target_index: int = 0,
    settings: EngineSettings = DEFAULT_SETTINGS,
    timings: dict[str, float] | None = None,
) -> SwapResult:
    """Swap the largest face of `source` onto face `target_index` (largest first) of `target`.

    Returns a new frame that equals `target` outside `roi` and wherever `weights` is 0.
    """
    result = swap_faces_frames(
        source, target, target_index=target_index, settings=settings, timings=timings
    )
    region = result.regions[0]
    return SwapResult(frame=result.frame, roi=region.roi, weights=region.weights)


def swap_face(
    source: bytes,
    target: bytes,
    *,
    target_index: TargetSelection = 0,
    face_map: FaceMap | None = None,
    output_format: OutputFormat = "png",
    timings: dict[str, float] | None = None,
    settings: EngineSettings = DEFAULT_SETTINGS,
    painter: FacePainter | None = None,
) -> bytes:
    """Swap faces of `source` onto the selected faces of `target`.

    Faces are indexed largest first (0 = largest), in both images, in the order
    `detect_faces_in_image` lists them. `target_index` picks the target faces: an int (one
    face), a list of ints, or "all"; each gets the source's largest face. `face_map`, a
    list of (source_index, target_index) pairs, picks both sides and overrides
    `target_index`. Faces that are not selected keep their pixels.

    Returns the encoded result image (png, jpg or webp) labelled as synthetic media in its
    XMP. If `timings` is given, it is filled with seconds per stage: decode, detect,
    landmarks, warp, colour, blend, encode. The source's analysis is cached by content,
    so a source used again skips its decode, detect and landmarks. `settings` tunes the
    engine (the defaults are what the benchmarks and quality runs measure). `painter`
    paints each face instead of the classic swap (the neural backend's, `engine/onnx/`).

    Raises `UnreadableImage`, `NoFaceInSource`, `NoFaceInTarget`, `TargetIndexOutOfRange`,
    `SourceIndexOutOfRange` or `InvalidFaceSelection` from `faceport.errors`.
    """
    requested = requested_pairs(target_index, face_map)
    analysed = analyse_source(
        source,
        indexes=_source_indexes(requested),
        thorough=_wants_thorough_source(face_map),
        settings=settings,
        timings=timings,
    )
    with timed_stage(timings, "decode"):
        target_frame = decode_image(target)
    result = swap_faces_with_source(
        analysed, target_frame, requested, settings=settings, timings=timings, painter=painter
    )
    with timed_stage(timings, "encode"):
        return encode_frame(result.frame, output_format, settings)


def encode_frame(frame: Frame, output_format: OutputFormat, settings: EngineSettings) -> bytes:
    """Encode a result frame with the settings' codec options, labelled as synthetic media."""
    return encode_image(
        frame,
        output_format,
        png_compression=settings.png_compression,
        png_threads=settings.png_threads,
        jpeg_quality=settings.jpeg_quality,
        webp_quality=settings.webp_quality,
    )
