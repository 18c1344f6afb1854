"""The `faceport` command on real files, with no server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import pytest

from faceport.cli import main
from faceport.engine import read_digital_source_type
from tests.support.identity import identity_distance
from tests.support.images import astronaut_jpeg, coffee_jpeg, grace_hopper_jpeg, two_faces_jpeg
from tests.support.video import ClipSpec, write_clip


@pytest.fixture
def photos(tmp_path: Path) -> dict[str, Path]:
    files = {
        "astronaut": astronaut_jpeg(),
        "hopper": grace_hopper_jpeg(),
        "coffee": coffee_jpeg(),
        "two": two_faces_jpeg(),
    }
    paths = {name: tmp_path / f"{name}.jpg" for name in files}
    for name, data in files.items():
        paths[name].write_bytes(data)
    (tmp_path / "junk.jpg").write_bytes(b"not an image at all")
    paths["junk"] = tmp_path / "junk.jpg"
    return paths


def test_swap_writes_a_labelled_result(photos: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.webp"
    code = subprocess.run(
        [
            sys.executable,
            "-m",
            "faceport.cli",
            "swap",
            str(photos["astronaut"]),
            str(photos["hopper"]),
            "-o",
            str(out),
        ],
        capture_output=True,
        check=False,
    ).returncode
    assert code == 0
    result = out.read_bytes()
    assert result[8:12] == b"WEBP"  # format taken from the suffix
    assert read_digital_source_type(result) is not None
    assert identity_distance(result, astronaut_jpeg()) < identity_distance(
        result, grace_hopper_jpeg()
    )


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["coffee", "hopper"], "no_face_in_source"),
        (["astronaut", "coffee"], "no_face_in_target"),
        (["astronaut", "hopper", "--target-index", "3"], "target_index_out_of_range"),
        (["junk", "hopper"], "unreadable_image"),
    ],
)
def test_swap_failures_exit_2_with_one_line(
    photos: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    reason: str,
) -> None:
    argv = ["swap", *(str(photos.get(a, a)) for a in args), "-o", str(tmp_path / "o.png")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"faceport: {reason}:") and "\n" not in err
    assert not (tmp_path / "o.png").exists()


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["swap", str(tmp_path / "nope.jpg"), str(tmp_path / "nope.jpg"), "-o", "x.png"]
    assert main(argv) == 2
    assert "nope.jpg" in capsys.readouterr().err


def test_detect_prints_faces_largest_first(
    photos: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["detect", str(photos["two"])]) == 0
    faces = json.loads(capsys.readouterr().out)["faces"]
    assert [f["index"] for f in faces] == [0, 1]
    areas = [f["box"]["width"] * f["box"]["height"] for f in faces]
    assert areas[0] >= areas[1]
    assert all(len(f["landmarks"]) == 5 for f in faces)


def test_fuse_with_similarity_zero_keeps_the_template_face(
    photos: dict[str, Path], tmp_path: Path
) -> None:
    low, high = tmp_path / "low.png", tmp_path / "high.png"
    donor, template = str(photos["astronaut"]), str(photos["hopper"])
    assert main(["fuse", donor, template, "-o", str(low), "--similarity", "0"]) == 0
    assert main(["fuse", donor, template, "-o", str(high), "--similarity", "1"]) == 0
    donor_bytes = astronaut_jpeg()
    assert identity_distance(high.read_bytes(), donor_bytes) < identity_distance(
        low.read_bytes(), donor_bytes
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["fuse", "a", "b", "-o", "c", "--similarity", "2"],
        ["swap", "a", "b", "-o", "c", "--target-index", "x"],
        ["swap", "a", "b", "-o", "c", "--face-map", "0-1"],
    ],
)
def test_bad_arguments_are_refused_by_the_parser(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2


def test_swap_video_writes_an_mp4_with_the_input_timing(
    photos: dict[str, Path], tmp_path: Path
) -> None:
    clip = write_clip(tmp_path / "clip.mp4", ClipSpec(frames=12))
    out = tmp_path / "out.mp4"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "faceport.cli",
            "swap-video",
            str(photos["astronaut"]),
            str(clip),
            "-o",
            str(out),
        ],
        capture_output=True,
        check=False,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["frames"] == report["swapped_frames"] == 12
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert len(container.streams.audio) == 1
        assert sum(1 for _ in container.decode(video=0)) == 12


def test_swap_video_refuses_a_video_over_a_limit(
    photos: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clip = write_clip(tmp_path / "clip.mp4", ClipSpec(frames=30))  # 2 s
    monkeypatch.setenv("FACEPORT_MAX_VIDEO_DURATION_S", "1")
    out = tmp_path / "out.mp4"
    assert main(["swap-video", str(photos["astronaut"]), str(clip), "-o", str(out)]) == 2
    assert capsys.readouterr().err.startswith("faceport: video_too_long:")
    assert not out.exists()
