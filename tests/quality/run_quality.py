"""`make quality`: the engine over the development set, scored and shown.

Run: .venv/bin/python -m tests.quality.run_quality [--out build/quality] [--quick]
     [--set name=value ...] (EngineSettings fields, to compare a technique on and off)

The set (tests/quality/devset.py) is 26 portraits of 26 people cut from photos that ship in
registry packages, each swapped with another person's, and variants of them: side light,
turns (a perspective proxy), synthetic beards, greyscale, faces 40 and 60 px across in a
1 MP frame and one 700 px across, rolled, group photos swapped "all", and one face of a
group swapped alone (the others must come back byte for byte).

Each swapped face is scored with dlib's face descriptor (Euclidean distance, < 0.6 = same
person): result to source (low is good), result to target (high is good), source to
target (the pair's baseline; faces where source and target are one person, as in a
group photo swapped "all", are marked and left out of the identity summary); with the
pose error (dlib's 68 landmarks of the result against the target's, in the same box, mean
distance over the inter-ocular distance; low is good); for targets wearing glasses the
glasses ghost (how much of the target's frame contrast survives; 0 gone, 1 all); and the
seam and patch scores of tests/quality/scoring.py (colour step across the blend boundary
beyond the target's own, the target as the engine blended onto it, its glasses filled in;
gradient ratio across it, largest flat off-colour blob as a share
of the face), which fail a face above SEAM_LIMIT / PATCH_LIMIT whatever its identity
score. A contact sheet of every source / target / result triple, with the face enlarged,
worst first by seam, patch and identity, is written to the output folder.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np

from faceport.engine import (
    EngineSettings,
    FaceRegion,
    TargetSelection,
    detect_faces_in_image,
    swap_faces_frames,
)
from faceport.engine._blend import paste_roi
from tests.quality import devset
from tests.quality.scoring import glasses_ghost, patch_score, pose_error, seam_score, summarise
from tests.support import images, variants
from tests.support.identity import (
    SAME_PERSON_THRESHOLD,
    Rect,
    descriptor_in_box,
    landmarks68_in_box,
)

# a face fails the table above these, whatever its identity score (ARCHITECTURE.md,
# "Engine quality v2", has the examples they were set by): a worst-sector colour
# step of 10 Delta E across the blend boundary is where a band or an edge starts to show
# at 100 %; a flat off-colour blob of 5 % of the face is a visible patch
SEAM_LIMIT = 10.0
PATCH_LIMIT = 0.05


@dataclass(frozen=True)
class Pair:
    name: str
    source: np.ndarray
    target: np.ndarray
    selection: TargetSelection = 0
    glasses: bool = False  # the target face wears glasses
    not_faces: tuple[int, ...] = ()  # what the detector takes for a face but is none


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
    seam: float
    gradient: float
    patch: float

    @property
    def same_person(self) -> bool:
        """Source and target face are one person (a group photo's own face): no identity
        to move, so such faces are left out of the identity summary."""
        return self.source_target < SAME_PERSON_THRESHOLD

    @property
    def fails(self) -> bool:
        return self.seam > SEAM_LIMIT or self.patch > PATCH_LIMIT


def face_box(frame: np.ndarray) -> tuple[int, int, int, int]:
    return detect_faces_in_image(variants.encode_png(frame))[0].box


def portrait_pairs() -> list[Pair]:
    """Every portrait as a target, with the portrait five places on as its source."""
    people = devset.portraits()
    return [
        Pair(f"{people[(i + 5) % len(people)].name} > {target.name}",
             people[(i + 5) % len(people)].frame, target.frame, glasses=target.glasses)
        for i, target in enumerate(people)
    ]  # fmt: skip


def variant_pairs() -> list[Pair]:
    """The harder cases: light, turn, beard, grey, size, roll and group photos."""
    by_name = {p.name: p.frame for p in devset.portraits()}
    hopper, astronaut = images.grace_hopper_bgr(), images.astronaut_bgr()
    lenna, woman, man = by_name["lenna/0"], by_name["sample6/0"], by_name["breakingbad/0"]
    canvas_1mp = (1200, 900)
    groups = devset.photos()
    return [
        Pair("astronaut > lenna side-lit", astronaut, devset.side_lit(lenna)),
        Pair("hopper > astronaut side-lit", hopper, devset.side_lit(astronaut[:, ::-1].copy())),
        Pair("lenna > sample3/0 side-lit", lenna, devset.side_lit(by_name["sample3/0"])),
        Pair("astronaut > hopper yaw~ left", astronaut, variants.turned(hopper, -0.4),
             glasses=True),
        Pair("lenna > sample6/0 yaw~ right", lenna, variants.turned(woman, 0.4)),
        Pair("sample6/0 > breakingbad/0 (turned)", woman, man),
        Pair("astronaut > sample4/0 bearded", astronaut,
             devset.bearded(by_name["sample4/0"], face_box(by_name["sample4/0"]))),
        Pair("lenna > astronaut bearded", lenna, devset.bearded(astronaut, face_box(astronaut))),
        Pair("takeo > lenna grey", by_name["takeo/0"], devset.greyscale(lenna)),
        Pair("astronaut > sample6/1 grey", astronaut, devset.greyscale(by_name["sample6/1"])),
        Pair("lenna > hopper 40 px", lenna,
             variants.small_face(hopper, 40, variants.HOPPER_FACE_FRACTION, canvas_1mp),
             glasses=True),
        Pair("hopper > astronaut 60 px", hopper,
             variants.small_face(astronaut, 60, variants.ASTRONAUT_FACE_FRACTION, canvas_1mp)),
        Pair("astronaut > sample5/1 700 px", astronaut,
             devset.enlarged(by_name["sample5/1"], 700, face_box(by_name["sample5/1"])[2])),
        Pair("astronaut > hopper 1 MP", astronaut, images.grace_hopper_1mp_bgr(), glasses=True),
        Pair("astronaut > hopper roll -30", astronaut, variants.rolled(hopper, -30), glasses=True),
        Pair("lenna > sample1 (all)", lenna, groups["sample1"], "all",
             not_faces=tuple(index for name, index in devset.NOT_FACES if name == "sample1")),
        Pair("astronaut > sample5 (all)", astronaut, groups["sample5"], "all"),
        Pair("hopper > sample4 face 1 alone", hopper, groups["sample4"], 1),
    ]  # fmt: skip


def all_pairs(quick: bool) -> list[Pair]:
    pairs = portrait_pairs() + variant_pairs()
    return pairs[::3] if quick else pairs


def rect_of(box: tuple[int, int, int, int]) -> Rect:
    x, y, width, height = box
    return (x, y, x + width, y + height)


def full_weights(
    shape: tuple[int, ...], regions: tuple[FaceRegion, ...], index: int | None = None
) -> np.ndarray:
    """The swap's weights over the whole frame: of face `index`, or of every face."""
    weights = np.zeros(shape[:2], np.uint8)
    for region in regions:
        if index is None or region.target_index == index:
            roi = region.roi
            view = weights[roi.top : roi.bottom, roi.left : roi.right]
            np.maximum(view, region.weights, out=view)
    return weights


def blended_onto(target: np.ndarray, region: FaceRegion) -> np.ndarray:
    """What the engine blended `region`'s face onto: the target, with its glasses frame
    filled in where the engine did that first (the seam is the new face's edge against
    that; the fill itself is scored by the glasses ghost, on the target as it was)."""
    return target if region.filled is None else paste_roi(target, region.filled, region.roi)


def unselected_identical(pair: Pair, result: np.ndarray, weights: np.ndarray) -> bool:
    """The result equals the target byte for byte wherever no selected face was blended."""
    untouched = weights == 0
    return bool(np.array_equal(result[untouched], pair.target[untouched]))


def score_pair(pair: Pair, settings: EngineSettings) -> tuple[list[FaceScore], np.ndarray, bool]:
    """Swap, then score every swapped face; returns the scores, the result frame and
    whether every pixel outside the swapped faces came back unchanged."""
    start = time.perf_counter()
    swapped = swap_faces_frames(
        pair.source, pair.target, target_index=pair.selection, settings=settings
    )
    engine_ms = (time.perf_counter() - start) * 1e3
    result = swapped.frame
    everything = full_weights(result.shape, swapped.regions)
    identical = unselected_identical(pair, result, everything)

    source_descriptor = descriptor_in_box(pair.source, rect_of(face_box(pair.source)))
    faces = detect_faces_in_image(variants.encode_png(pair.target))
    scores = []
    for region in swapped.regions:
        if region.target_index in pair.not_faces:
            continue  # swapped, as the engine does, but no face to score
        face = faces[region.target_index]
        box = rect_of(face.box)
        result_descriptor = descriptor_in_box(result, box)
        target_descriptor = descriptor_in_box(pair.target, box)
        eyes = face.landmarks5[:2] if face.landmarks5 else []
        iod = float(np.hypot(eyes[1][0] - eyes[0][0], eyes[1][1] - eyes[0][1]))
        weights = full_weights(result.shape, swapped.regions, region.target_index)
        seam, gradient = seam_score(blended_onto(pair.target, region), result, weights, iod)
        target_gray = cv2.cvtColor(pair.target, cv2.COLOR_BGR2GRAY)
        result_gray = cv2.cvtColor(result, cv2.COLOR_BGR2GRAY)
        scores.append(
            FaceScore(
                pair=pair.name,
                face=region.target_index,
                width=face.box[2],
                engine_ms=engine_ms,
                to_source=float(np.linalg.norm(result_descriptor - source_descriptor)),
                to_target=float(np.linalg.norm(result_descriptor - target_descriptor)),
                source_target=float(np.linalg.norm(source_descriptor - target_descriptor)),
                pose=pose_error(
                    landmarks68_in_box(result, box), landmarks68_in_box(pair.target, box)
                ),
                ghost=glasses_ghost(target_gray, result_gray, eyes) if pair.glasses else None,
                seam=seam,
                gradient=gradient,
                patch=patch_score(pair.target, result, weights, iod),
            )
        )  # fmt: skip
    return scores, result, identical


def zoom(frame: np.ndarray, box: tuple[int, int, int, int], height: int) -> np.ndarray:
    """The face in `box` with a margin, scaled to `height` (square)."""
    x, y, width, box_height = box
    side = round(max(width, box_height) * 1.6)
    cx, cy = x + width / 2, y + box_height / 2
    left, top = max(0, round(cx - side / 2)), max(0, round(cy - side / 2))
    crop = frame[top : top + side, left : left + side]
    return cv2.resize(crop, (height, height), interpolation=cv2.INTER_CUBIC)


def sheet_row(pair: Pair, result: np.ndarray, label: str, height: int = 220) -> np.ndarray:
    """source | target | result | target face | result face, with the pair's name."""

    def fit(frame: np.ndarray) -> np.ndarray:
        return cv2.resize(frame, (round(frame.shape[1] * height / frame.shape[0]), height))

    faces = detect_faces_in_image(variants.encode_png(pair.target))
    index = pair.selection if isinstance(pair.selection, int) else 0
    face = faces[index].box
    tiles = [
        fit(pair.source),
        fit(pair.target),
        fit(result),
        zoom(pair.target, face, height),
        zoom(result, face, height),
    ]
    row = np.hstack(tiles)
    for line, text in enumerate((pair.name, label)):
        origin = (8, 22 + 22 * line)
        cv2.putText(row, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3)
        cv2.putText(row, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1)
    return row


def stack_rows(rows: list[np.ndarray]) -> np.ndarray:
    width = max(row.shape[1] for row in rows)
    padded = [
        cv2.copyMakeBorder(row, 2, 2, 0, width - row.shape[1], cv2.BORDER_CONSTANT, value=0)
        for row in rows
    ]
    return np.vstack(padded)


def badness(scores: list[FaceScore]) -> float:
    """One number to sort the contact sheet by: seam and patch over their limits, then
    identity (result-source) over its goal."""
    return max(max(s.seam / SEAM_LIMIT, s.patch / PATCH_LIMIT, s.to_source / 0.55) for s in scores)


def print_table(scores: list[FaceScore]) -> None:
    header = (
        f"{'pair':<36} {'face':>4} {'px':>4} {'ms':>6} {'res-src':>8} {'res-tgt':>8} "
        f"{'src-tgt':>8} {'pose':>6} {'ghost':>6} {'seam':>6} {'grad':>5} {'patch':>6}"
    )
    print(header)
    print("-" * len(header))
    for s in scores:
        ghost = "-" if s.ghost is None else f"{s.ghost:.2f}"
        mark = "*" if s.same_person else " "
        fail = " FAIL" if s.fails else ""
        print(
            f"{s.pair:<36} {s.face:>4} {s.width:>4} {s.engine_ms:>6.0f} {s.to_source:>8.3f} "
            f"{s.to_target:>8.3f} {s.source_target:>7.3f}{mark} {s.pose:>6.3f} {ghost:>6} "
            f"{s.seam:>6.1f} {s.gradient:>5.2f} {s.patch:>6.3f}{fail}"
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
        "seam (LAB step)": ([s.seam for s in scores], True),
        "gradient ratio": ([s.gradient for s in scores], True),
        "patch (share)": ([s.patch for s in scores], True),
        "engine ms": ([s.engine_ms for s in scores], True),
    }
    print(f"{'':<22} {'median':>8} {'worst':>8}")
    for name, (values, worst_is_high) in columns.items():
        if values:
            median, worst = summarise(values, worst_is_high=worst_is_high)
            print(f"{name:<22} {median:>8.3f} {worst:>8.3f}")
    moved = sum(s.to_source < s.to_target for s in swapped)
    same = sum(s.to_source < SAME_PERSON_THRESHOLD for s in swapped)
    failed = sum(s.fails for s in scores)
    print(
        f"faces closer to the source than to the target: {moved}/{len(swapped)}; "
        f"judged the source's person (< {SAME_PERSON_THRESHOLD}): {same}/{len(swapped)}; "
        f"over the seam ({SEAM_LIMIT}) or patch ({PATCH_LIMIT}) limit: {failed}/{len(scores)}"
    )


Settings = TypeVar("Settings", bound=Any)


def changed_settings(defaults: Settings, assignments: list[str]) -> Settings:
    """`defaults` (a settings dataclass) with `name=value` fields changed, each value
    parsed as that field's type (a tuple as a Python literal: "((0.06, 0.2),)")."""
    changes: dict[str, object] = {}
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        kind = type(getattr(defaults, name))
        if kind is bool:
            changes[name] = value.lower() in ("1", "true", "yes")
        elif kind is tuple:
            changes[name] = ast.literal_eval(value)
        else:
            changes[name] = kind(value)
    return dataclasses.replace(defaults, **changes)


def parse_settings(assignments: list[str]) -> EngineSettings:
    """EngineSettings with `name=value` overrides."""
    return changed_settings(EngineSettings(), assignments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/quality"))
    parser.add_argument("--quick", action="store_true", help="every third pair only")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="an EngineSettings field to change, to compare")  # fmt: skip
    args = parser.parse_args()
    settings = parse_settings(args.set)

    swap_faces_frames(images.astronaut_bgr(), images.grace_hopper_bgr())  # load the models
    scores: list[FaceScore] = []
    rows = []
    changed_elsewhere = []
    for pair in all_pairs(args.quick):
        pair_scores, result, identical = score_pair(pair, settings)
        scores.extend(pair_scores)
        if not identical:
            changed_elsewhere.append(pair.name)
        worst = badness(pair_scores)
        label = (f"seam {max(s.seam for s in pair_scores):.1f}  "
                 f"patch {max(s.patch for s in pair_scores):.3f}  "
                 f"res-src {max(s.to_source for s in pair_scores):.3f}")  # fmt: skip
        rows.append((worst, sheet_row(pair, result, label)))
    print_table(scores)
    print(f"pairs with a pixel changed outside the selected faces: {changed_elsewhere or 'none'}")
    ms = [s.engine_ms for s in scores]
    print(f"engine time per pair: median {statistics.median(ms):.0f} ms")
    args.out.mkdir(parents=True, exist_ok=True)
    sheet = args.out / "contact_sheet.png"
    rows.sort(key=lambda row: -row[0])
    cv2.imwrite(str(sheet), stack_rows([row for _, row in rows]))
    print(f"contact sheet (worst first): {sheet}")


if __name__ == "__main__":
    main()
