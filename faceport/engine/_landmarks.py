"""468-point face landmarks with mediapipe face_mesh, run on a crop around one face."""

from __future__ import annotations

import functools
import itertools
import threading
from typing import Any

import numpy as np

from ._detect import shrink
from ._types import Box, Frame, Landmarks, Triangles

_local = threading.local()

# Inner lip contour of the 468-point mesh, in order around the mouth opening.
INNER_MOUTH = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308,
               324, 318, 402, 317, 14, 87, 178, 88, 95)  # fmt: skip


# Eye contours of the 468-point mesh (no iris points without refine_landmarks): the eye on
# the image's left (the person's right) and the eye on the image's right.
IMAGE_LEFT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
IMAGE_RIGHT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388,
                   466)  # fmt: skip
NOSE_TIP = 1
IMAGE_LEFT_MOUTH_CORNER = 61
IMAGE_RIGHT_MOUTH_CORNER = 291


def five_point_landmarks(points: Landmarks) -> Landmarks:
    """Return the 5 classic face points from 468 mesh points, shape (5, 2).

    Order (as RetinaFace/InsightFace use it, sides as seen in the image): left eye centre,
    right eye centre, nose tip, left mouth corner, right mouth corner. Eye centres are the
    mean of each eye's contour.
    """
    return np.stack(
        [
            points[list(IMAGE_LEFT_EYE)].mean(axis=0),
            points[list(IMAGE_RIGHT_EYE)].mean(axis=0),
            points[NOSE_TIP],
            points[IMAGE_LEFT_MOUTH_CORNER],
            points[IMAGE_RIGHT_MOUTH_CORNER],
        ]
    ).astype(np.float32)


def inter_ocular_distance(points: Landmarks) -> float:
    """The distance between the two eye centres of 468 mesh points, in pixels."""
    eyes = five_point_landmarks(points)[:2]
    return float(np.linalg.norm(eyes[1] - eyes[0]))


def _face_mesh() -> Any:
    # mediapipe graphs keep per-call state, so each worker thread gets its own
    mesh = getattr(_local, "face_mesh", None)
    if mesh is None:
        import mediapipe as mp

        mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True,
            max_num_faces=1,
            refine_landmarks=False,
            min_detection_confidence=0.3,
        )
        _local.face_mesh = mesh
    return mesh


def crop_box_around_face(box: Box, frame_shape: tuple[int, ...], margin: float) -> Box:
    """Return a square box centred on `box`, `margin` times its longer side, clipped to the frame.

    A dlib box runs from the brows to the chin; the margin brings in forehead, ears and
    enough context for the mesh's own face detector to lock on.
    """
    height, width = frame_shape[:2]
    side = max(box.width, box.height) * margin
    centre_x = (box.left + box.right) / 2
    # dlib boxes sit low on the face (no forehead), so the crop is centred a little higher
    centre_y = (box.top + box.bottom) / 2 - 0.1 * box.height
    return Box(
        left=max(0, int(centre_x - side / 2)),
        top=max(0, int(centre_y - side / 2)),
        right=min(width, int(centre_x + side / 2)),
        bottom=min(height, int(centre_y + side / 2)),
    )


def locate_landmarks(
    frame: Frame, box: Box, *, margin: float = 2.0, crop_max_side: int = 320
) -> Landmarks | None:
    """Return the 468 mesh landmarks of the face in `box`, in frame coordinates.

    The mesh runs on a crop around the box (run on a whole group photo it finds only
    some faces) reduced to at most `crop_max_side` pixels; returns None if it finds no
    face there.
    """
    for attempt_margin in (margin, margin * 1.5):
        crop_box = crop_box_around_face(box, frame.shape, attempt_margin)
        if crop_box.area == 0:
            return None
        crop = frame[crop_box.top : crop_box.bottom, crop_box.left : crop_box.right]
        scale = min(1.0, crop_max_side / max(crop.shape[:2]))
        if scale < 1.0:
            crop = shrink(crop, scale)
        rgb = np.ascontiguousarray(crop[:, :, ::-1])
        result = _face_mesh().process(rgb)
        if result.multi_face_landmarks:
            points = result.multi_face_landmarks[0].landmark
            normalised = np.array([(p.x, p.y) for p in points], dtype=np.float32)
            # normalised coordinates are relative to the crop, whatever size it was resized to
            size = np.array([crop_box.width, crop_box.height], dtype=np.float32)
            origin = np.array([crop_box.left, crop_box.top], dtype=np.float32)
            return (normalised * size + origin).astype(np.float32)
    return None


# the mesh's outermost points of the two cheeks at eye level, sides as seen in the image
IMAGE_LEFT_CHEEK_EDGE = 234
IMAGE_RIGHT_CHEEK_EDGE = 454


def turn_of(points: Landmarks) -> float:
    """How far a face is turned, from where its nose tip sits between the cheek edges:
    0 facing the camera, towards +1 turned to the image's right (the nose near the right
    edge, the right cheek hidden), towards -1 turned to the left."""
    left = float(points[IMAGE_LEFT_CHEEK_EDGE, 0])
    right = float(points[IMAGE_RIGHT_CHEEK_EDGE, 0])
    nose = float(points[NOSE_TIP, 0])
    width = right - left
    if abs(width) < 1e-6:
        return 0.0
    return ((nose - left) - (right - nose)) / width


# the features a face is recognised by: brows, eyes, nose and the outer lips; the blend
# keeps the source there whatever its colour (skin masks stop outside them)
FEATURE_POINTS = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
                  *IMAGE_LEFT_EYE, *IMAGE_RIGHT_EYE, NOSE_TIP, 4, 61, 291, 0, 17,
                  37, 267, 84, 314)  # fmt: skip


# the mesh's outline of the face, in order around it (mediapipe's FACEMESH_FACE_OVAL)
FACE_OVAL = (176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109, 10,
             338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400,
             377, 152, 148)  # fmt: skip


def _lid_strip(first: tuple[int, ...], second: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """Triangles closing the opening between two contours that share their end points
    (lower and upper lid, upper and lower inner lip), both running the same way."""
    triangles = []
    for i in range(len(first) - 1):
        for triangle in (
            (first[i], first[i + 1], second[i + 1]),
            (first[i], second[i + 1], second[i]),
        ):
            if len(set(triangle)) == 3:
                triangles.append(triangle)
    return triangles


def _openings() -> list[tuple[int, int, int]]:
    # each contour tuple runs from one corner along one side to the other corner and back
    triangles = []
    for contour, half in ((IMAGE_LEFT_EYE, 8), (IMAGE_RIGHT_EYE, 8), (INNER_MOUTH, 10)):
        ring = (*contour, contour[0])
        triangles += _lid_strip(ring[: half + 1], ring[half:][::-1])
    return triangles


def _oriented(triangles: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """The triangles turned so that neighbours run their shared edge opposite ways (one
    winding across the whole surface), by a walk out from the first."""
    by_edge: dict[frozenset[int], list[int]] = {}
    for index, triangle in enumerate(triangles):
        for a, b in zip(triangle, triangle[1:] + triangle[:1], strict=True):
            by_edge.setdefault(frozenset((a, b)), []).append(index)
    oriented: dict[int, tuple[int, int, int]] = {0: triangles[0]}
    queue = [0]
    while queue:
        triangle = oriented[queue.pop()]
        for a, b in zip(triangle, triangle[1:] + triangle[:1], strict=True):
            for neighbour in by_edge[frozenset((a, b))]:
                if neighbour in oriented:
                    continue
                p, q, r = triangles[neighbour]
                # the neighbour must run b -> a; flip it if it runs a -> b
                runs_ab = (p, q) == (a, b) or (q, r) == (a, b) or (r, p) == (a, b)
                oriented[neighbour] = (p, r, q) if runs_ab else (p, q, r)
                queue.append(neighbour)
    return [oriented[index] for index in range(len(triangles))]


@functools.cache
def mesh_triangles() -> Triangles:
    """The triangles of the 468-point mesh's own surface, eyes and mouth closed, all wound
    the same way, shape (N, 3); why not Delaunay: ARCHITECTURE.md, "Engine quality v2"
    (Triangles).

    mediapipe publishes the surface as edges (FACEMESH_TESSELATION); its triangles are the
    edge triples, less the two that only frame a point inside them (every edge of those is
    shared by three triples, not two).
    """
    import mediapipe as mp

    edges = mp.solutions.face_mesh.FACEMESH_TESSELATION
    neighbours: dict[int, set[int]] = {}
    for a, b in edges:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    triples = sorted(
        {tuple(sorted((a, b, c))) for a, b in edges for c in neighbours[a] & neighbours[b]}
    )
    uses: dict[frozenset[int], int] = {}
    for triple in triples:
        for pair in itertools.combinations(triple, 2):
            uses[frozenset(pair)] = uses.get(frozenset(pair), 0) + 1
    surface = [
        (a, b, c)
        for a, b, c in triples
        if any(uses[frozenset(pair)] < 3 for pair in itertools.combinations((a, b, c), 2))
    ]
    return np.array(_oriented(surface + _openings()), dtype=np.int32)
