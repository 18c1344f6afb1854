"""`make quality`: the engine over sample pairs and harder variants, scored and shown.

Run: .venv/bin/python -m tests.quality.run_quality [--out build/quality]

Pairs are built from photos that ship in installed packages (skimage's astronaut,
matplotlib's Grace Hopper) and variants made from them: rolled +-30 degrees, a
perspective squeeze standing in for a head turned sideways (a proxy: a real turn hides a
cheek, no 2-D warp does), faces 40 and 60 px across in a 1 MP frame, faces cut by the
frame edge, and a group of three faces swapped all at once.

Each swapped face is scored with dlib's face descriptor (Euclidean distance, < 0.6 = same
person): result to source (low is good), result to target (high is good), source to
target (the pair's baseline; faces where source and target are one person, as in a
group photo swapped "all", are marked and left out of the identity summary); with the
pose error (dlib's 68 landmarks of the result
against the target's, in the same box, mean distance over the inter-ocular distance;
low is good); and, for targets wearing glasses (Grace Hopper), the glasses ghost (how much of the
target's frame contrast survives below and beside the new eyes; 0 gone, 1 all). A
contact sheet of every source / target / result triple, with the face enlarged, is
written to the output folder.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from faceport.engine import (
    EngineSettings,
    TargetSelection,
    decode_image,
    detect_faces_in_image,
    swap_face,
)
from tests.quality.scoring import glasses_ghost, pose_error, summarise
from tests.support import images, variants
from tests.support.identity import (
    SAME_PERSON_THRESHOLD,
    Rect,
    descriptor_in_box,
    landmarks68_in_box,
)


@dataclass(frozen=True)
class Pair:
    name: str
    source: bytes
    target: np.ndarray
    selection: TargetSelection = 0


@dataclass(frozen=True)
class FaceScore:
    pair: str
    face: int
    width: int
    engine_ms: float
    to_source: float
    to_target: float
    source_target: float
    pose: float
    ghost: float | None

    @property
    def same_person(self) -> bool:
        """Source and target face are one person (a group photo's own face): no identity
        to move, so such faces are left out of the identity summary."""
        return self.source_target < SAME_PERSON_THRESHOLD


def sample_pairs() -> list[Pair]:
    """Every pair `make quality` runs: plain, rolled, turned, small, cropped, grouped."""
    hopper, astronaut = images.grace_hopper_bgr(), images.astronaut_bgr()
    a_src, h_src = images.astronaut_jpeg(), images.grace_hopper_jpeg()
    canvas_1mp = (1200, 900)
    return [
        Pair("astronaut > hopper", a_src, hopper),
        Pair("hopper > astronaut", h_src, astronaut),
        Pair("astronaut > hopper 1 MP", a_src, images.grace_hopper_1mp_bgr()),
        Pair("astronaut > hopper roll -30", a_src, variants.rolled(hopper, -30)),
        Pair("astronaut > hopper roll +30", a_src, variants.rolled(hopper, 30)),
        Pair("hopper > astronaut roll +30", h_src, variants.rolled(astronaut, 30)),
        Pair("astronaut > hopper yaw~ left", a_src, variants.turned(hopper, -0.4)),
        Pair("astronaut > hopper yaw~ right", a_src, variants.turned(hopper, 0.4)),
        Pair("hopper > astronaut yaw~ right", h_src, variants.turned(astronaut, 0.4)),
        Pair("astronaut > hopper 40 px", a_src,
             variants.small_face(hopper, 40, variants.HOPPER_FACE_FRACTION, canvas_1mp)),
        Pair("astronaut > hopper 60 px", a_src,
             variants.small_face(hopper, 60, variants.HOPPER_FACE_FRACTION, canvas_1mp)),
        Pair("hopper > astronaut 40 px", h_src,
             variants.small_face(astronaut, 40, variants.ASTRONAUT_FACE_FRACTION, canvas_1mp)),
        Pair("astronaut > hopper cut chin", a_src, variants.cropped(hopper, (60, 40, 470, 320))),
        Pair("astronaut > hopper cut side", a_src, variants.cropped(hopper, (200, 60, 512, 480))),
        Pair("astronaut > group of 3 (all)", a_src, variants.group_of_three(), "all"),
        Pair("hopper > group of 3 (all)", h_src, variants.group_of_three(), "all"),
    ]  # fmt: skip


def rect_of(box: tuple[int, int, int, int]) -> Rect:
    x, y, width, height = box
    return (x, y, x + width, y + height)


def score_pair(
    pair: Pair, settings: EngineSettings, glasses_wearer: np.ndarray
) -> tuple[list[FaceScore], np.ndarray]:
    """Swap, then score every swapped face; returns the scores and the result frame.

    The glasses ghost is scored on target faces of `glasses_wearer` (a descriptor) only,
    and only when the source is someone else (whose own glasses would count).
    """
    target_bytes = variants.encode_png(pair.target)
    start = time.perf_counter()
    result_bytes = swap_face(
        pair.source, target_bytes, target_index=pair.selection, settings=settings
    )
    engine_ms = (time.perf_counter() - start) * 1e3
    result = decode_image(result_bytes)

    source_frame = decode_image(pair.source)
    source_descriptor = descriptor_in_box(
        source_frame, rect_of(detect_faces_in_image(pair.source)[0].box)
    )
    faces = detect_faces_in_image(target_bytes)
    chosen = range(len(faces)) if pair.selection == "all" else [int(pair.selection)]  # type: ignore[arg-type]
    target_gray = cv2.cvtColor(pair.target, cv2.COLOR_BGR2GRAY)
    result_gray = cv2.cvtColor(result, cv2.COLOR_BGR2GRAY)
    scores = []
    for index in chosen:
        face = faces[index]
        box = rect_of(face.box)
        result_descriptor = descriptor_in_box(result, box)
        target_descriptor = descriptor_in_box(pair.target, box)
        eyes = face.landmarks5[:2] if face.landmarks5 else []
        wears_glasses = (
            np.linalg.norm(target_descriptor - glasses_wearer) < SAME_PERSON_THRESHOLD
            and np.linalg.norm(source_descriptor - glasses_wearer) >= SAME_PERSON_THRESHOLD
        )
        scores.append(
            FaceScore(
                pair=pair.name,
                face=index,
                width=face.box[2],
                engine_ms=engine_ms,
                to_source=float(np.linalg.norm(result_descriptor - source_descriptor)),
                to_target=float(np.linalg.norm(result_descriptor - target_descriptor)),
                source_target=float(np.linalg.norm(source_descriptor - target_descriptor)),
                pose=pose_error(
                    landmarks68_in_box(result, box), landmarks68_in_box(pair.target, box)
                ),
                ghost=glasses_ghost(target_gray, result_gray, eyes) if wears_glasses else None,
            )
        )  # fmt: skip
    return scores, result


def zoom(frame: np.ndarray, box: tuple[int, int, int, int], height: int) -> np.ndarray:
    """The face in `box` with a margin, scaled to `height` (square)."""
    x, y, width, box_height = box
    side = round(max(width, box_height) * 1.6)
    cx, cy = x + width / 2, y + box_height / 2
    left, top = max(0, round(cx - side / 2)), max(0, round(cy - side / 2))
    crop = frame[top : top + side, left : left + side]
    return cv2.resize(crop, (height, height), interpolation=cv2.INTER_CUBIC)


def sheet_row(pair: Pair, result: np.ndarray, height: int = 220) -> np.ndarray:
    """source | target | result | target face | result face, with the pair's name."""

    def fit(frame: np.ndarray) -> np.ndarray:
        return cv2.resize(frame, (round(frame.shape[1] * height / frame.shape[0]), height))

    face_box = detect_faces_in_image(variants.encode_png(pair.target))[0].box
    tiles = [
        fit(decode_image(pair.source)),
        fit(pair.target),
        fit(result),
        zoom(pair.target, face_box, height),
        zoom(result, face_box, height),
    ]
    row = np.hstack(tiles)
    cv2.putText(row, pair.name, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3)
    cv2.putText(row, pair.name, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1)
    return row


def stack_rows(rows: list[np.ndarray]) -> np.ndarray:
    width = max(row.shape[1] for row in rows)
    padded = [
        cv2.copyMakeBorder(row, 2, 2, 0, width - row.shape[1], cv2.BORDER_CONSTANT, value=0)
        for row in rows
    ]
    return np.vstack(padded)


def print_table(scores: list[FaceScore]) -> None:
    header = (f"{'pair':<31} {'face':>4} {'px':>4} {'ms':>6} {'res-src':>8} {'res-tgt':>8} "
              f"{'src-tgt':>8} {'pose':>6} {'ghost':>6}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for s in scores:
        ghost = "-" if s.ghost is None else f"{s.ghost:.2f}"
        mark = "*" if s.same_person else " "
        print(
            f"{s.pair:<31} {s.face:>4} {s.width:>4} {s.engine_ms:>6.0f} {s.to_source:>8.3f} "
            f"{s.to_target:>8.3f} {s.source_target:>7.3f}{mark} {s.pose:>6.3f} {ghost:>6}"
        )
    print("-" * len(header))
    print("* source and target face are the same person: left out of the identity rows below")
    swapped = [s for s in scores if not s.same_person]
    columns = {
        "res-src (low good)": ([s.to_source for s in swapped], True),
        "res-tgt (high good)": ([s.to_target for s in swapped], False),
        "src-tgt (baseline)": ([s.source_target for s in swapped], False),
        "pose err / IOD": ([s.pose for s in scores], True),
        "glasses ghost": ([s.ghost for s in scores if s.ghost is not None], True),
    }
    print(f"{'':<22} {'median':>8} {'worst':>8}")
    for name, (values, worst_is_high) in columns.items():
        if values:
            median, worst = summarise(values, worst_is_high=worst_is_high)
            print(f"{name:<22} {median:>8.3f} {worst:>8.3f}")
    moved = sum(s.to_source < s.to_target for s in swapped)
    same = sum(s.to_source < SAME_PERSON_THRESHOLD for s in swapped)
    print(
        f"faces closer to the source than to the target: {moved}/{len(swapped)}; "
        f"judged the source's person (< {SAME_PERSON_THRESHOLD}): {same}/{len(swapped)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/quality"))
    parser.add_argument("--keep-glasses-frame", action="store_true",
                        help="turn off the glasses frame clean-up, to compare")  # fmt: skip
    args = parser.parse_args()
    settings = EngineSettings(remove_glasses_frame=not args.keep_glasses_frame)

    swap_face(images.astronaut_jpeg(), images.grace_hopper_jpeg())  # load the models first
    hopper = images.grace_hopper_bgr()  # the sample photo with glasses
    glasses_wearer = descriptor_in_box(
        hopper, rect_of(detect_faces_in_image(images.grace_hopper_jpeg())[0].box)
    )
    scores: list[FaceScore] = []
    rows = []
    for pair in sample_pairs():
        pair_scores, result = score_pair(pair, settings, glasses_wearer)
        scores.extend(pair_scores)
        rows.append(sheet_row(pair, result))
    print_table(scores)
    args.out.mkdir(parents=True, exist_ok=True)
    sheet = args.out / "contact_sheet.png"
    cv2.imwrite(str(sheet), stack_rows(rows))
    print(f"contact sheet: {sheet}")


if __name__ == "__main__":
    main()
