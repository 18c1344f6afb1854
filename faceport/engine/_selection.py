"""Which source face goes onto which target face: checking and resolving a selection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from faceport.errors import InvalidFaceSelection, SourceIndexOutOfRange, TargetIndexOutOfRange
from faceport.tasks import TargetSelection  # defined once, with the task's options

FaceMap: TypeAlias = list[tuple[int, int]]
"""(source_index, target_index) pairs; both sides indexed largest face first."""

FacePair: TypeAlias = tuple[int, int]


def _is_index(value: object) -> bool:
    # bool is an int to Python, but `True` as a face index is a client mistake
    return isinstance(value, int) and not isinstance(value, bool)


def _faces(count: int) -> str:
    return f"{count} face{'s' if count != 1 else ''}"


def requested_pairs(
    target_index: TargetSelection, face_map: Sequence[tuple[int, int]] | None
) -> list[FacePair] | None:
    """Return the (source, target) pairs asked for, or None for "every target face".

    Checks what can be checked without looking at the images: the shape of the selection
    and that no target face is named twice. Raises `InvalidFaceSelection`.
    """
    if face_map is not None:
        pairs = []
        for pair in face_map:
            if len(pair) != 2 or not all(_is_index(index) for index in pair):
                raise InvalidFaceSelection(
                    f"A face map entry must be a (source_index, target_index) pair of "
                    f"integers, not {pair!r}."
                )
            pairs.append((pair[0], pair[1]))
    elif target_index == "all":
        return None
    elif _is_index(target_index):
        pairs = [(0, target_index)]  # type: ignore[list-item]
    elif isinstance(target_index, list) and all(_is_index(index) for index in target_index):
        pairs = [(0, index) for index in target_index]
    else:
        raise InvalidFaceSelection(
            f'target_index must be an integer, a list of integers or "all", not {target_index!r}.'
        )
    if not pairs:
        raise InvalidFaceSelection("The face selection is empty.")
    targets = [target for _, target in pairs]
    repeated = sorted({target for target in targets if targets.count(target) > 1})
    if repeated:
        raise InvalidFaceSelection(
            f"Target face {repeated[0]} is selected more than once; each target face can "
            "receive one source face.",
            target_index=repeated[0],
        )
    return pairs


def check_target_index(target_index: int, faces_found: int) -> None:
    """Raise `TargetIndexOutOfRange` unless `target_index` names one of `faces_found` faces."""
    if not 0 <= target_index < faces_found:
        raise TargetIndexOutOfRange(
            f"target_index {target_index} is out of range: the target has "
            f"{_faces(faces_found)} (valid indexes 0 to {faces_found - 1}).",
            faces_found=faces_found,
            target_index=target_index,
        )


def check_source_index(source_index: int, faces_found: int) -> None:
    """Raise `SourceIndexOutOfRange` unless `source_index` names one of `faces_found` faces."""
    if not 0 <= source_index < faces_found:
        raise SourceIndexOutOfRange(
            f"source index {source_index} is out of range: the source has "
            f"{_faces(faces_found)} (valid indexes 0 to {faces_found - 1}).",
            faces_found=faces_found,
            source_index=source_index,
        )


def resolve_pairs(requested: list[FacePair] | None, target_faces: int) -> list[FacePair]:
    """Return the concrete pairs: every target face gets source face 0 when `requested` is None.

    Raises `TargetIndexOutOfRange` for a target index beyond `target_faces`.
    """
    if requested is None:
        return [(0, index) for index in range(target_faces)]
    for _, target in requested:
        check_target_index(target, target_faces)
    return list(requested)
