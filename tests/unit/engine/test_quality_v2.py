"""The quality-v2 steps of the image swap, each on a face whose right answer is known."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from faceport.engine import EngineSettings, swap_face_frames, swap_faces_frames
from faceport.engine._blend import (
    alpha_blend_roi,
    feathered,
    keep_on_skin,
    narrowed_feather,
    restrict_weights,
)
from faceport.engine._colour import (
    blend_two_bands,
    masked_blurs_small,
    match_boundary,
    outer_feather_band,
    residual_of,
    transfer_lab_statistics,
    transfer_local_shading,
)
from faceport.engine._find import find_faces
from faceport.engine._glasses import glasses_score
from faceport.engine._landmarks import (
    FACE_OVAL,
    INNER_MOUTH,
    NOSE_TIP,
    five_point_landmarks,
    mesh_triangles,
    turn_of,
)
from faceport.engine._seam import SeamCheck, _sector_points, by_sector, seam_step
from faceport.engine._swap import (
    DEFAULT_SETTINGS,
    SEAM_SCREEN_MARGIN,
    _blend_checked,
    _recolour,
    _seam_check,
    blend_face,
    find_options,
    mirrored_source,
    oriented_source,
    warp_face_with_weights,
)
from faceport.engine._texture import detail, match_sharpness
from faceport.engine._types import Box
from faceport.engine._warp import (
    HeadView,
    align_points,
    facing_camera,
    level_turn,
    rest_shape,
    shape_towards,
    triangulate_face_pair,
    warp_face_to_landmarks,
)
from tests.support import images, variants

# the engine as it was before these steps, to show each test can fail
BEFORE = EngineSettings(
    glasses_min_score=0.0,
    glasses_arm_reach=0.0,
    local_colour=False,
    match_sharpness=False,
    mirror_turned_source=False,
    skin_mask=False,
    shape_transfer=0.0,
    boundary_sigma=0.0,
    detail_feather=1.0,
    highlight_knee=0.0,
    min_source_share=0.0,
    keep_target_mouth=True,
    antialias_above=0.0,
    seam_limit=0.0,
)


def side_lit(frame: np.ndarray, strength: float = 0.6) -> np.ndarray:
    ramp = np.linspace(1.0, 1.0 - strength, frame.shape[1], dtype=np.float32)
    return np.clip(frame * ramp[None, :, None], 0, 255).astype(np.uint8)


def lightness(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_BGR2LAB)[:, :, 0].astype(np.float32)


def textured(shape: tuple[int, int], seed: int = 0, blur: float = 1.5) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(150, 25, (*shape, 3))
    return np.clip(cv2.GaussianBlur(noise, (0, 0), blur), 0, 255).astype(np.uint8)


def test_local_shading_carries_the_targets_gradient_and_keeps_the_source_detail():
    source = textured((200, 200))
    target = side_lit(np.full((200, 200, 3), 170, np.uint8))
    mask = np.zeros((200, 200), np.uint8)
    mask[20:180, 20:180] = 255

    local = lightness(transfer_local_shading(source, target, mask, sigma=12))
    flat = lightness(transfer_lab_statistics(source, target, mask))
    wanted = lightness(target)

    def left_minus_right(channel: np.ndarray) -> float:
        return float(channel[20:180, 30:60].mean() - channel[20:180, 140:170].mean())

    print(f"left-right: target {left_minus_right(wanted):.1f}, local "
          f"{left_minus_right(local):.1f}, global {left_minus_right(flat):.1f}")  # fmt: skip
    assert left_minus_right(local) == pytest.approx(left_minus_right(wanted), rel=0.2)
    assert abs(left_minus_right(flat)) < 0.3 * left_minus_right(wanted)  # it cannot
    assert detail(local)[mask > 0].std() > 0.7 * detail(lightness(source))[mask > 0].std()


def test_the_local_mean_follows_a_gradient_up_to_the_masks_edge():
    ramp = np.zeros((120, 160, 3), np.uint8)
    ramp[:, :, 0] = np.rint(40 + 1.2 * np.arange(160)).astype(np.uint8)[None, :]
    mask = np.zeros((120, 160), np.uint8)
    mask[20:100, 20:140] = 255

    (small,) = masked_blurs_small([ramp], mask, sigma=15.0)
    local = cv2.resize(small, (160, 120), interpolation=cv2.INTER_LINEAR)[:, :, 0]
    weight = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 15.0)
    plain = cv2.GaussianBlur(ramp[:, :, 0].astype(np.float32) * mask, (0, 0), 15.0) / weight
    edges = np.zeros_like(mask, dtype=bool)
    edges[30:90, 22:28] = edges[30:90, 132:138] = True

    def error(mean: np.ndarray) -> float:
        return float(np.abs(mean - ramp[:, :, 0])[edges].mean())

    print(f"error at the edges: plane fit {error(local):.1f}, plain blur {error(plain):.1f}")
    assert error(local) < 2.0
    assert error(plain) > 5 * error(local)  # what a plain normalised blur gets wrong


def test_edge_shading_follows_a_shade_at_the_faces_edge_and_leaves_its_middle():
    source = textured((200, 200))
    mask = np.zeros((200, 200), np.uint8)
    cv2.circle(mask, (100, 100), 80, 255, -1)
    inside = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    # the target's skin falls from 170 to 100 over its outer 12 pixels (a hair line's shade)
    level = np.clip(100 + 70 * inside / 12, 100, 170)
    target = np.repeat(np.rint(level)[:, :, None], 3, axis=2).astype(np.uint8)

    plain = lightness(transfer_local_shading(source, target, mask, sigma=30))
    edged = lightness(
        transfer_local_shading(source, target, mask, sigma=30, edge_sigma=6, edge_reach=36)
    )
    wanted = lightness(target)
    shade = (inside > 2) & (inside < 10)
    middle = (inside > 40) & (mask > 0)

    def error(result: np.ndarray, where: np.ndarray) -> float:
        return float(np.abs(cv2.blur(result - wanted, (5, 5)))[where].mean())

    print(f"error in the shade: plain {error(plain, shade):.1f}, edge {error(edged, shade):.1f}")
    assert error(edged, shade) < 0.5 * error(plain, shade)
    # beyond its reach the levels are the coarse ones (the detail's gain moves a level or so)
    assert np.abs(edged - plain)[middle].mean() < 0.1
    assert detail(edged)[shade].std() > 0.7 * detail(lightness(source))[shade].std()


def test_edge_shading_finer_than_the_coarse_means_cells_keeps_a_grey_face_grey():
    # the coarse means of sigma 30 are found on cells of 10 pixels; the fine ones, of 1.5
    # pixels, reach only ~5 pixels beyond the mask, so a cell across its edge must take
    # them on its inside pixels only, or the zeros beyond come in as colour
    rng = np.random.default_rng(3)
    source = cv2.GaussianBlur(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8), (0, 0), 2)
    mask = np.zeros((200, 200), np.uint8)
    cv2.circle(mask, (100, 100), 80, 255, -1)
    target = np.full((200, 200, 3), 120, np.uint8)
    for edge_sigma in (0.0, 1.5, 6.0):
        result = transfer_local_shading(
            source, target, mask, sigma=30, edge_sigma=edge_sigma, edge_reach=60
        )
        lab = cv2.cvtColor(result, cv2.COLOR_BGR2LAB).astype(np.int16)[mask > 0]
        colour = int(np.abs(lab[:, 1:] - 128).max())
        print(f"edge sigma {edge_sigma}: colour up to {colour}")
        assert colour <= 2


def test_a_sliver_of_the_source_stretched_over_the_target_is_left_out():
    frame = textured((100, 100))
    target = np.array([[10, 10], [90, 10], [90, 90], [10, 90]], np.float32)
    source = target.copy()
    source[3] = (48, 52)  # the second triangle squashed to a twentieth of its area
    triangles = np.array([[0, 1, 2], [0, 2, 3]], np.int32)
    roi = Box(0, 0, 100, 100)

    _, everything = warp_face_to_landmarks(frame, source, target, triangles, roi)
    _, unsmeared = warp_face_to_landmarks(
        frame, source, target, triangles, roi, min_source_share=0.2
    )
    first, second = (70, 20), (20, 70)  # (x, y) inside each triangle
    assert everything[first[1], first[0]] == everything[second[1], second[0]] == 255
    assert unsmeared[first[1], first[0]] == 255 and unsmeared[second[1], second[0]] == 0


def test_a_flash_highlight_is_compressed_and_the_detail_below_the_knee_is_not():
    source = np.full((200, 200, 3), 120, np.uint8)
    cv2.circle(source, (80, 100), 6, (235, 235, 235), -1)  # a flash highlight on a nose
    cv2.circle(source, (130, 100), 6, (140, 140, 140), -1)  # a faint mark: skin detail
    target = np.full((200, 200, 3), 150, np.uint8)
    mask = np.zeros((200, 200), np.uint8)
    mask[20:180, 20:180] = 255

    plain = lightness(transfer_local_shading(source, target, mask, sigma=24))
    kneed = lightness(transfer_local_shading(source, target, mask, sigma=24, knee=30))
    around = float(kneed[40:60, 40:160].mean())
    peak, peak_plain = float(kneed[100, 80]), float(plain[100, 80])
    print(f"highlight {peak_plain:.0f} -> {peak:.0f} over {around:.0f}")
    assert peak_plain - around > 60  # about as bright above the skin as in the source
    assert peak - around == pytest.approx(30 + 0.3 * (peak_plain - around - 30), abs=3)
    assert np.array_equal(kneed[90:110, 120:140], plain[90:110, 120:140])  # under the knee
    assert np.array_equal(kneed[30:60, 30:60], plain[30:60, 30:60])


def face_side_difference(result: np.ndarray, roi, weights: np.ndarray) -> float:
    """Mean lightness of the left half of the blended face less the right half."""
    crop = lightness(result)[roi.top : roi.bottom, roi.left : roi.right]
    inside = weights == 255
    columns = np.nonzero(inside.any(axis=0))[0]
    middle = (columns[0] + columns[-1]) // 2
    left, right = inside.copy(), inside.copy()
    left[:, middle:] = False
    right[:, :middle] = False
    return float(crop[left].mean() - crop[right].mean())


def test_a_swap_onto_a_side_lit_face_keeps_the_side_light():
    target = side_lit(images.astronaut_bgr())
    source = images.grace_hopper_bgr()
    after = swap_face_frames(source, target)
    before = swap_face_frames(source, target, settings=BEFORE)

    wanted = face_side_difference(target, after.roi, after.weights)
    kept = face_side_difference(after.frame, after.roi, after.weights)
    lost = face_side_difference(before.frame, after.roi, after.weights)
    print(f"left-right lightness: target {wanted:.1f}, swap {kept:.1f}, before {lost:.1f}")
    assert kept == pytest.approx(wanted, rel=0.3)
    assert abs(lost - wanted) > abs(kept - wanted)


def test_sharpness_of_a_soft_face_is_raised_to_the_targets():
    target = textured((160, 160), seed=1, blur=0.8)
    soft = cv2.GaussianBlur(target, (0, 0), 1.2)
    mask = np.full((160, 160), 255, np.uint8)

    matched = match_sharpness(soft, target, mask)

    def strength(frame: np.ndarray) -> float:
        return float(detail(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)).std())

    print(f"detail: target {strength(target):.2f}, soft {strength(soft):.2f}, "
          f"matched {strength(matched):.2f}")  # fmt: skip
    assert strength(matched) == pytest.approx(strength(target), rel=0.15)
    assert match_sharpness(target, target, mask) is target  # nothing to match


EYES = np.array([[80.0, 100.0], [160.0, 100.0]], np.float32)


def drawn_face(glasses: bool) -> np.ndarray:
    """Skin with dark brows above the eyes and dark eyes; with glasses, two rims and a bridge."""
    face = textured((220, 240), seed=2)
    for x, y in EYES:
        cv2.ellipse(face, (int(x), int(y) - 28), (26, 5), 0, 180, 360, (40, 40, 50), -1)  # brow
        cv2.circle(face, (int(x), int(y)), 7, (30, 30, 30), -1)  # eye
        if glasses:
            cv2.ellipse(face, (int(x), int(y) + 4), (34, 26), 0, 0, 360, (20, 20, 20), 3)
    if glasses:
        cv2.line(face, (114, 98), (126, 98), (20, 20, 20), 3)
    return face


def test_glasses_score_tells_a_frame_from_brows_and_eyes():
    bare, framed = glasses_score(drawn_face(False), EYES), glasses_score(drawn_face(True), EYES)
    print(f"glasses score: bare {bare:.1f}, framed {framed:.1f}")
    assert bare < DEFAULT_SETTINGS.glasses_min_score <= framed


def changed_outside_the_face(settings: EngineSettings) -> tuple[int, int]:
    """Pixels the swap changed where its blend weight is 0, and those on the brows."""
    target = images.astronaut_bgr()  # no glasses; brows at the edge of the face region
    result = swap_face_frames(images.grace_hopper_bgr(), target, settings=settings)
    roi = result.roi
    landmarks = find_faces(target, find_options(settings))[0].landmarks
    blended = np.zeros(target.shape[:2], bool)
    # the blend weights proper, without the glasses pixels the result also reports
    faces = find_faces(images.grace_hopper_bgr(), find_options(settings))
    placed = landmarks
    if settings.shape_transfer > 0:  # the face is warped onto the source's proportions
        placed = shape_towards(faces[0].landmarks, landmarks, settings.shape_transfer, FACE_OVAL)
    _, weights = warp_face_with_weights(
        images.grace_hopper_bgr(), faces[0].landmarks, placed,
        triangulate_face_pair(faces[0].landmarks, placed), roi, settings,
    )  # fmt: skip
    blended[roi.top : roi.bottom, roi.left : roi.right] = weights > 0
    differs = (result.frame != target).any(axis=2) & ~blended
    eyes = five_point_landmarks(landmarks)[:2]
    brows = np.zeros_like(differs)
    for x, y in eyes:
        brows[int(y) - 30 : int(y) - 5, int(x) - 25 : int(x) + 25] = True
    return int(differs.sum()), int((differs & brows).sum())


def test_a_face_without_glasses_keeps_its_brows_pixel_for_pixel_outside_the_swap():
    outside, on_brows = changed_outside_the_face(DEFAULT_SETTINGS)
    before_outside, _ = changed_outside_the_face(BEFORE)
    print(f"pixels changed outside the blend: now {outside}, before {before_outside}")
    assert outside == 0 and on_brows == 0
    assert before_outside > 0  # the unconditional frame fill did touch this face


def test_a_region_whose_glasses_were_filled_in_reports_what_the_face_was_blended_onto():
    """Hopper wears glasses: her region comes with the target as the engine blended onto
    it, its frame filled in and the rest her own pixels; the astronaut, without, has none."""
    hopper, astronaut = images.grace_hopper_bgr(), images.astronaut_bgr()
    region = swap_faces_frames(astronaut, hopper).regions[0]
    assert region.filled is not None
    roi = region.roi
    own = hopper[roi.top : roi.bottom, roi.left : roi.right]
    differs = (region.filled != own).any(axis=2)
    assert differs.sum() > 100  # the frame's pixels
    assert not differs[region.weights == 0].any()  # only where the swap reports a change
    assert swap_faces_frames(hopper, astronaut).regions[0].filled is None


def test_turn_of_reads_the_nose_position_between_the_cheeks():
    points = np.zeros((468, 2), np.float32)
    points[234], points[454] = (100.0, 50.0), (200.0, 50.0)
    points[NOSE_TIP] = (150.0, 60.0)
    assert turn_of(points) == pytest.approx(0.0)
    points[NOSE_TIP] = (180.0, 60.0)
    assert turn_of(points) == pytest.approx(0.6)
    points[NOSE_TIP] = (120.0, 60.0)
    assert turn_of(points) == pytest.approx(-0.6)


def test_a_rolled_face_does_not_read_as_turned():
    """The mirror's turns are read with the eyes levelled: rolled 45 degrees, a frontal
    face's nose (below its cheek edges) sits off their middle in x, which the plain
    `turn_of` reads as a turn big enough to mirror for."""
    points = find_faces(images.astronaut_bgr(), find_options(DEFAULT_SETTINGS))[0].landmarks
    centre = points.mean(axis=0)
    angle = np.radians(45.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    rolled = ((points - centre) @ rotation.T + centre).astype(np.float32)
    assert abs(turn_of(rolled) - turn_of(points)) > DEFAULT_SETTINGS.mirror_min_turn
    assert level_turn(rolled) == pytest.approx(level_turn(points), abs=0.02)


def test_a_mirrored_source_has_its_landmarks_mirrored():
    frame = images.astronaut_bgr()
    points = find_faces(frame, find_options(DEFAULT_SETTINGS))[0].landmarks
    mirrored = mirrored_source(frame, points, DEFAULT_SETTINGS)
    assert mirrored is not None
    flipped, found = mirrored
    assert np.array_equal(flipped, frame[:, ::-1])
    width = frame.shape[1]
    assert abs(found[NOSE_TIP, 0] - (width - points[NOSE_TIP, 0])) < 3
    assert turn_of(found) == pytest.approx(-turn_of(points), abs=0.05)


def test_the_mirror_waits_for_a_target_turned_far_enough_to_show_the_hidden_cheek():
    """Mirroring gains with the target's turn, not the source's: a source turned a little
    is mirrored onto a target turned far the other way, a source turned far is not
    mirrored onto a target turned a little."""
    frame = images.astronaut_bgr()
    points = find_faces(frame, find_options(DEFAULT_SETTINGS))[0].landmarks

    def mirrored(source_degrees: float, target_degrees: float) -> bool:
        source = turned(points, source_degrees)
        used, _ = oriented_source(frame, source, turned(points, target_degrees), DEFAULT_SETTINGS)
        return used is not frame

    # 12 degrees reads as a turn of 0.16-0.18, 25 as 0.36-0.39, 35 as 0.55-0.58 (level_turn)
    assert mirrored(12, -35) and mirrored(-35, 25)
    assert not mirrored(35, -12)
    assert not mirrored(35, 12)  # turned the same way


def test_the_new_face_stays_off_hair_but_covers_make_up_and_shadows():
    skin = np.zeros((200, 200, 3), np.uint8)
    skin[:] = (120, 150, 200)  # BGR skin tone
    target, face = skin.copy(), skin.copy()
    target[20:50] = (30, 35, 40)  # a dark fringe across the target's forehead
    target[60:75, 20:45] = (60, 40, 90)  # the target's eye shadow, skin all round it
    face[:, 170:] = (200, 200, 200)  # the source's background beside its cheek
    face[160:180, 60:90] = (40, 60, 90)  # a shadow on the source's cheek
    features = np.zeros((200, 200), np.uint8)
    features[80:150, 50:150] = 255
    region = np.zeros((200, 200), np.uint8)
    region[10:195, 5:195] = 255  # the face region: the fringe and background cross its edge
    keep = keep_on_skin(target, face, features, region, 5)
    assert not keep[25:45, 10:190].any()  # the fringe stays
    assert not keep[60:190, 175:].any()  # so does whatever is beside the source's cheek
    assert keep[60:190, 10:165].all()  # skin, features, eye shadow and cheek shadow go

    weights = np.full((200, 200), 255, np.uint8)
    limited = restrict_weights(weights, keep, feather=8)
    assert (limited <= weights).all() and limited[30].max() == 0 and limited[120, 100] == 255


def test_the_inner_face_takes_the_sources_proportions_and_the_outline_stays():
    target = find_faces(images.astronaut_bgr(), find_options(DEFAULT_SETTINGS))[0].landmarks
    source = find_faces(images.grace_hopper_bgr(), find_options(DEFAULT_SETTINGS))[0].landmarks
    shaped = shape_towards(source, target, 1.0, FACE_OVAL)
    oval = list(FACE_OVAL)
    assert np.array_equal(shaped[oval], target[oval])
    inner = np.setdiff1d(np.arange(len(target)), oval)
    # the inner face is the source's: a different shape from the target's own
    eyes_target, eyes_shaped = five_point_landmarks(target), five_point_landmarks(shaped)
    assert np.abs(eyes_shaped - eyes_target).max() > 1.0
    halfway = shape_towards(source, target, 0.5, FACE_OVAL)
    assert np.allclose(halfway[inner], (target[inner] + shaped[inner]) / 2, atol=1e-3)
    assert np.array_equal(shape_towards(source, target, 0.0, FACE_OVAL), target)


def test_a_sources_open_mouth_comes_with_its_proportions_onto_a_closed_one():
    """With the source's proportions the mouth opening is the source's: cutting the
    target's inner mouth there used to put the target's closed lips between the source's."""
    source, target = images.astronaut_bgr(), images.grace_hopper_bgr()  # teeth / closed
    options = find_options(DEFAULT_SETTINGS)
    source_points = find_faces(source, options)[0].landmarks
    target_points = find_faces(target, options)[0].landmarks
    placed = shape_towards(source_points, target_points, 1.0, FACE_OVAL)
    opening = np.zeros(target.shape[:2], np.uint8)
    cv2.fillPoly(opening, [np.rint(placed[list(INNER_MOUTH)]).astype(np.int32)], 255)
    inside = cv2.erode(opening, np.ones((5, 5), np.uint8)) > 0
    assert inside.sum() > 50  # the astronaut's smile, open onto Hopper's closed mouth

    def lightness_inside(settings: EngineSettings) -> float:
        frame = swap_face_frames(source, target, settings=settings).frame
        return float(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)[inside].mean())

    target_lightness = float(cv2.cvtColor(target, cv2.COLOR_BGR2GRAY)[inside].mean())
    cut = replace(DEFAULT_SETTINGS, keep_target_mouth=True)
    assert abs(lightness_inside(cut) - target_lightness) < 3  # the target's lips show
    assert lightness_inside(DEFAULT_SETTINGS) > target_lightness + 30  # the source's teeth


def test_a_followed_face_keeps_the_targets_expression_on_the_sources_proportions():
    """In video the target's points' offset from their rest shape (its expression: a
    mouth opening, a blink) is added to the source's, which would otherwise freeze."""
    options = find_options(DEFAULT_SETTINGS)
    target = find_faces(images.astronaut_bgr(), options)[0].landmarks
    source = find_faces(images.grace_hopper_bgr(), options)[0].landmarks
    rest = rest_shape(None, target, 1.0)
    opened = target.copy()
    opened[[14, 87, 178, 88, 95, 317, 402, 318, 324]] += np.float32((0.0, 6.0))  # lower lip
    still = shape_towards(source, target, 1.0, FACE_OVAL)
    at_rest = shape_towards(source, target, 1.0, FACE_OVAL, target_rest=rest)
    speaking = shape_towards(source, opened, 1.0, FACE_OVAL, target_rest=rest)
    assert np.abs(at_rest - still).max() < 0.5  # no expression at rest
    assert 5.0 < (speaking[14, 1] - speaking[13, 1]) - (still[14, 1] - still[13, 1]) < 7.0
    eyes = five_point_landmarks(speaking)[:2]
    assert np.abs(eyes - five_point_landmarks(still)[:2]).max() < 0.5
    # the rest is a running mean: halfway to a frame given weight 0.5
    halfway = rest_shape(rest, opened, 0.5)
    assert abs(float(halfway[14, 1] - rest[14, 1]) - 3.0) < 0.5


def test_a_face_turned_to_the_front_and_back_is_where_it_was():
    points = find_faces(images.astronaut_bgr(), find_options(DEFAULT_SETTINGS))[0].landmarks
    for face in (points, turned(points, 30)):
        view = HeadView.of(face)
        off = np.linalg.norm(view.seen(view.frontal(face)) - face, axis=1)
        # exactly, but for the points beyond the cheek edges (and, turned, those folded
        # behind them), which are held at the cylinder's side
        print(f"points moved by the round trip: {(off > 0.05).mean():.1%}")
        assert (off > 0.05).mean() < 0.1


def test_a_turned_face_takes_the_sources_proportions_turned_as_it_is():
    source = find_faces(images.astronaut_bgr(), find_options(DEFAULT_SETTINGS))[0].landmarks
    target = turned(source, 30)  # the same face, turned: its proportions are the source's
    inner = np.setdiff1d(np.arange(len(source)), list(FACE_OVAL))
    iod = float(np.linalg.norm(np.subtract(*five_point_landmarks(target)[:2])))

    def error(placed: np.ndarray) -> float:
        return float(np.linalg.norm(placed[inner] - target[inner], axis=1).mean() / iod)

    frontal_placement = error(align_points(source, target))  # the source pasted flat on it
    placement = error(shape_towards(source, target, 1.0, FACE_OVAL))
    print(f"inner points off the turned face / IOD: {placement:.3f} (flat {frontal_placement:.3f})")
    assert placement < 0.5 * frontal_placement


def feathered_disc(size: int = 200, radius: int = 70, feather: int = 12) -> np.ndarray:
    disc = np.zeros((size, size), np.uint8)
    cv2.circle(disc, (size // 2, size // 2), radius, 255, -1)
    distance = cv2.distanceTransform(disc, cv2.DIST_L2, 3)
    return np.rint(np.clip(distance / feather, 0, 1) * 255).astype(np.uint8)


def test_the_outer_band_leaves_out_the_edges_of_holes_inside_the_face():
    weights = feathered_disc()
    with_hole = weights.copy()
    cv2.circle(with_hole, (100, 100), 15, 0, -1)  # an eye kept out of the blend
    band = outer_feather_band(with_hole, 14)
    assert band[100, 100 - 15 - 3] == 0  # the hole's own fade is not the face's edge
    assert band[100, 100 - 70 + 3] == 255  # the outer fade is
    assert np.array_equal(band, outer_feather_band(weights, 14))


def test_a_colour_step_at_the_edge_is_matched_there_and_left_alone_deep_inside():
    weights = feathered_disc()
    face = np.full((200, 200, 3), 100, np.uint8)
    face[95:105, 60:140] = 40  # a feature, which must keep its contrast
    target = np.full((200, 200, 3), 150, np.uint8)
    matched, _ = match_boundary(face, target, weights, sigma=8.0)
    at_edge, centre = matched[100, 100 - 70 + 4].astype(int), matched[60, 100].astype(int)
    print(f"edge {at_edge}, centre {centre}")
    assert np.all(np.abs(at_edge - 150) <= 12)  # was 50 off
    assert np.all(np.abs(centre - 100) <= 5)  # a radius away from the band: untouched
    feature_step = int(matched[100, 100, 0]) - int(matched[90, 100, 0])
    assert feature_step == 40 - 100  # the correction is smooth: it shifts, never flattens
    unchanged, _ = match_boundary(face, target, np.zeros_like(weights), sigma=8.0)
    assert np.array_equal(unchanged, face)


def test_a_narrowed_feather_covers_the_same_region_and_reaches_full_weight_sooner():
    disc = np.zeros((200, 200), np.uint8)
    cv2.circle(disc, (100, 100), 70, 255, -1)
    weights = feathered(disc, 20)
    narrow = narrowed_feather(weights, 0.4)
    assert np.array_equal(narrow == 0, weights == 0)
    assert np.all(narrow >= weights)
    assert np.abs(narrow.astype(int) - feathered(disc, 8)).max() <= 4  # as if feathered over 8


def test_two_bands_bring_the_texture_nearer_the_edge_and_the_colour_over_the_whole_feather():
    disc = np.zeros((200, 200), np.uint8)
    cv2.circle(disc, (100, 100), 70, 255, -1)
    weights = feathered(disc, 24)
    ys, xs = np.mgrid[0:200, 0:200]
    texture = np.where((ys // 2 + xs // 2) % 2 == 0, 30, -30)  # far finer than sigma
    face = np.repeat((160 + texture).astype(np.uint8)[:, :, None], 3, axis=2)
    target = np.full((200, 200, 3), 100, np.uint8)
    two = blend_two_bands(
        target, face, weights, narrowed_feather(weights, 0.4), residual_of(face, target, sigma=8.0)
    )
    one = alpha_blend_roi(target, face, weights)
    depth = cv2.distanceTransform(disc, cv2.DIST_L2, 3)
    ring = (depth >= 7) & (depth <= 9)  # a third into the feather: weight ~0.26, detail ~0.94
    means, spreads = (
        [float(x[ring][:, 0].mean()) for x in (one, two)],
        [float(x[ring][:, 0].std()) for x in (one, two)],
    )
    print(f"ring mean {means[0]:.1f} / {means[1]:.1f}, texture {spreads[0]:.1f} / {spreads[1]:.1f}")
    # the colour still fades in as `weights` says (within 4 of the 60 levels: the excess
    # weight is taken at the reduced size, a little smoothed)
    assert abs(means[1] - means[0]) <= 4
    assert spreads[1] > 2.5 * spreads[0]  # the texture is nearly all there already
    assert np.array_equal(two[weights == 0], target[weights == 0])
    assert np.array_equal(two[depth > 30], face[depth > 30])  # full weight: the face itself


def test_two_bands_take_off_no_more_than_a_saturated_face_holds():
    """A light face whose boundary correction pushes its red past 255, flat (no detail)
    inside the feather: there the two bands must give the one-band blend of the matched
    face. They took off the unsaturated excess too (up to 7 levels of red here), which
    showed as a green line along a forehead."""
    disc = np.zeros((200, 200), np.uint8)
    cv2.circle(disc, (100, 100), 70, 255, -1)
    weights = feathered(disc, 24)
    depth = cv2.distanceTransform(disc, cv2.DIST_L2, 3)
    face = np.full((200, 200, 3), (150, 190, 155), np.uint8)
    face[depth > 6] = (150, 190, 254)  # darker at the edge than the target, light inside
    target = np.full((200, 200, 3), (150, 190, 255), np.uint8)
    matched, _ = match_boundary(face, target, weights, sigma=8.0)
    one = alpha_blend_roi(target, matched, weights).astype(int)
    two = blend_face(target, face, weights, boundary_sigma=8.0, detail_feather=0.4).astype(int)
    flat = (depth > 8) & (depth < 24)
    assert np.abs(one - two)[flat].max() <= 1


def test_the_mesh_is_one_surface_wound_one_way_with_the_outline_as_its_edge():
    triangles = mesh_triangles()
    directed = [(int(a), int(b)) for t in triangles for a, b in zip(t, np.roll(t, -1), strict=True)]
    assert len(set(directed)) == len(directed)  # no edge runs the same way twice
    undirected: dict[frozenset[int], int] = {}
    for a, b in directed:
        undirected[frozenset((a, b))] = undirected.get(frozenset((a, b)), 0) + 1
    edge = {pair for pair, count in undirected.items() if count == 1}
    oval = {frozenset(p) for p in zip(FACE_OVAL, FACE_OVAL[1:] + FACE_OVAL[:1], strict=True)}
    assert edge == oval  # eyes and mouth closed, nothing else open
    assert set(np.unique(triangles)) == set(range(468))


def turned(points: np.ndarray, degrees: float) -> np.ndarray:
    """`points` of a frontal face as seen turned by `degrees` about a vertical axis, the
    face taken as a cylinder as wide as its cheeks: its far side folds behind."""
    centre = (points[:, 0].max() + points[:, 0].min()) / 2
    radius = (points[:, 0].max() - points[:, 0].min()) / 2
    angle = np.arcsin(np.clip((points[:, 0] - centre) / radius, -1, 1))
    moved = points.copy()
    moved[:, 0] = centre + radius * np.sin(angle + np.radians(degrees))
    return moved


def test_a_turned_face_is_painted_with_the_side_it_shows():
    frame = images.astronaut_bgr()
    source = find_faces(frame, find_options(DEFAULT_SETTINGS))[0].landmarks
    target = turned(source, 40)
    triangles = triangulate_face_pair(source, target)
    shows = facing_camera(target, triangles)
    hidden = int((~shows).sum())
    assert hidden > 0 and not shows[:hidden].any()  # the hidden ones come first

    roi = Box(0, 0, frame.shape[1], frame.shape[0])
    front, front_covered = warp_face_to_landmarks(frame, source, target, triangles[shows], roi)
    ordered, _ = warp_face_to_landmarks(frame, source, target, triangles, roi)
    # painted the other way round, the folded far side lands on top of the near side
    unordered, _ = warp_face_to_landmarks(frame, source, target, triangles[::-1], roi)
    near_side = cv2.erode(front_covered, np.ones((3, 3), np.uint8)) > 0
    assert np.array_equal(ordered[near_side], front[near_side])
    assert (unordered[near_side] != front[near_side]).any(axis=1).sum() > 500


def shaded_edge_case() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A textured face over a disc of a target whose skin falls from 170 to 60 between 32
    and 16 pixels inside the disc's edge and stays there (a hard shade along the face's
    edge), and the disc's feathered weights."""
    face = textured((220, 220))
    region = np.zeros((220, 220), np.uint8)
    cv2.circle(region, (110, 110), 80, 255, -1)
    inside = cv2.distanceTransform(region, cv2.DIST_L2, 3)
    level = np.clip(60 + 110 * (inside - 16) / 16, 60, 170)
    target = np.repeat(np.rint(level)[:, :, None], 3, axis=2).astype(np.uint8)
    return face, target, feathered(region, 10)


def test_the_seam_step_of_every_third_pixel_reads_as_the_full_one():
    face, target, weights = shaded_edge_case()
    result = alpha_blend_roi(target, face, weights)
    full = seam_step(target, result, weights, 60.0)
    sampled = SeamCheck(target, weights, 60.0, stride=3).step(result)
    print(f"seam step: full {full:.1f}, every third pixel {sampled:.1f}")
    assert full > 10  # the shade shows: the face is lighter than the target at its edge
    assert abs(sampled - full) < 0.15 * full
    assert seam_step(target, target, weights, 60.0) == pytest.approx(0, abs=0.5)
    # one check measures many blends: each reads as the measure taken afresh
    check = SeamCheck(target, weights, 60.0)
    assert check.step(result) == full and check.step(target) == seam_step(
        target, target, weights, 60.0
    )


def test_only_a_blend_the_screen_reads_near_the_limit_gets_the_full_check():
    face, target, weights = shaded_edge_case()
    result = alpha_blend_roi(target, face, weights)
    inter_ocular = 150.0  # the screen takes every third pixel
    screened = SeamCheck(target, weights, inter_ocular, stride=3).step(result)
    well_over = screened + SEAM_SCREEN_MARGIN + 1
    assert _seam_check(target, result, weights, inter_ocular, well_over) is None
    check = _seam_check(target, result, weights, inter_ocular, screened + 1)
    assert check is not None
    assert check.step(result) == seam_step(target, result, weights, inter_ocular)


def test_a_blend_whose_edge_shows_a_step_is_shaded_again_and_one_without_is_left():
    face, target, weights = shaded_edge_case()
    settings = replace(DEFAULT_SETTINGS, seam_limit=3.0)
    unchecked = replace(settings, seam_limit=0.0)

    def step(settings: EngineSettings) -> float:
        result = _blend_checked(target, face, recoloured(settings), weights, 60.0, settings)
        return seam_step(target, result, weights, 60.0)

    def recoloured(settings: EngineSettings) -> np.ndarray:
        return _recolour(face, target, weights, 60.0, settings)

    before, after = step(unchecked), step(settings)
    print(f"seam step: unchecked {before:.1f}, checked {after:.1f}")
    assert before > settings.seam_limit and after < 0.6 * before
    # an even target shows no step: the check leaves the first blend as it was
    even = np.full_like(target, 170)
    plain = _recolour(face, even, weights, 60.0, settings)
    assert np.array_equal(
        _blend_checked(even, face, plain, weights, 60.0, settings),
        _blend_checked(even, face, plain, weights, 60.0, unchecked),
    )


def test_the_seam_fallback_shades_only_the_side_whose_edge_shows_a_step():
    face, shaded, weights = shaded_edge_case()
    # the shade along the left half of the edge only; the right half's skin stays even
    target = shaded.copy()
    target[:, 110:] = 170
    # the limit 6: the left half's sectors read 5-12, the right half's 0-1.5
    settings = replace(DEFAULT_SETTINGS, seam_limit=6.0)
    unchecked = replace(settings, seam_limit=0.0)
    recoloured = _recolour(face, target, weights, 60.0, settings)
    before = _blend_checked(target, face, recoloured, weights, 60.0, unchecked)
    after = _blend_checked(target, face, recoloured, weights, 60.0, settings)
    check = SeamCheck(target, weights, 60.0)
    steps_before, steps_after = check.sector_steps(before), check.sector_steps(after)
    print(f"worst sector: before {np.nanmax(steps_before):.1f}, after {np.nanmax(steps_after):.1f}")
    assert np.nanmax(steps_after) < 0.6 * np.nanmax(steps_before)
    changed = np.abs(after.astype(int) - before).max(axis=2) > 1
    assert changed[:, :100].sum() > 1000  # the shaded side took the target's shade
    assert not changed[:, 170:].any()  # the even side is the first blend's


def test_a_value_by_sector_lands_on_the_pixels_the_seam_check_counts_in_that_sector():
    ring = np.zeros((200, 240), np.uint8)
    cv2.circle(ring, (130, 90), 70, 255, 6)
    centre = (130.0, 90.0)
    xs, ys, labels = _sector_points(ring, centre, 24)
    for sector in (0, 5, 13, 22):
        spread = by_sector(ring.shape, centre, np.eye(24)[sector])
        assert spread.shape == ring.shape
        assert spread[ys[labels == sector], xs[labels == sector]].mean() > 0.6
        opposite = labels == (sector + 12) % 24
        assert not spread[ys[opposite], xs[opposite]].any()


def test_the_skin_test_leaves_a_face_whose_eyes_are_under_20_pixels_apart_alone():
    source, astronaut = images.grace_hopper_bgr(), images.astronaut_bgr()
    small = variants.small_face(
        astronaut, 36, variants.ASTRONAUT_FACE_FRACTION, (1200, 900)
    )  # eyes 18 px apart
    no_skin_test = replace(DEFAULT_SETTINGS, skin_mask=False)
    for target, cut in ((astronaut, True), (small, False)):
        weights = swap_face_frames(source, target).weights
        plain = swap_face_frames(source, target, settings=no_skin_test).weights
        # the astronaut's hair reaches in over her forehead: cut at full size only
        assert (not np.array_equal(weights, plain)) is cut
