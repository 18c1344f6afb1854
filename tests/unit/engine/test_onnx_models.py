"""The model directory is checked at start: each fault refused with one line naming it."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

from faceport.engine.onnx import load_onnx_backend
from faceport.errors import InvalidModelDir
from tests.support.onnx_models import model_dir, recognizer_model, restorer_model, swapper_model


def _refusal(directory: Path) -> str:
    with pytest.raises(InvalidModelDir) as caught:
        load_onnx_backend(directory)
    message = caught.value.message
    assert "\n" not in message
    return message


def test_a_complete_directory_is_accepted_with_or_without_the_restorer(tmp_path: Path) -> None:
    assert not load_onnx_backend(model_dir(tmp_path / "plain")).can_enhance
    with_restorer = model_dir(tmp_path / "full", restorer=True, buffalo=True, manifest=True)
    assert load_onnx_backend(with_restorer).can_enhance


def test_a_missing_swapper_is_refused(tmp_path: Path) -> None:
    recognizer_model(tmp_path / "w600k_r50.onnx")
    assert _refusal(tmp_path) == f"inswapper_128.onnx is missing from {tmp_path}."


def test_a_missing_recognizer_is_refused(tmp_path: Path) -> None:
    swapper_model(tmp_path / "inswapper_128.onnx")
    assert _refusal(tmp_path) == (
        f"w600k_r50.onnx is missing from {tmp_path} (nor buffalo_l/w600k_r50.onnx)."
    )


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    assert "is not a directory" in _refusal(tmp_path / "nowhere")


def test_a_swapper_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    model_dir(tmp_path)
    swapper_model(tmp_path / "inswapper_128.onnx", side=256)
    assert _refusal(tmp_path) == (
        "inswapper_128.onnx: input 'target' has shape 1x3x256x256, expected 1x3x128x128."
    )


def test_a_restorer_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    model_dir(tmp_path)
    recognizer_model(tmp_path / "GFPGANv1.4.onnx")  # 112 px in, 512 values out
    assert _refusal(tmp_path).startswith("GFPGANv1.4.onnx: input 'input.1' has shape 1x3x112x112")


def test_a_recognizer_in_the_swapper_place_is_refused(tmp_path: Path) -> None:
    model_dir(tmp_path)
    restorer_model(tmp_path / "inswapper_128.onnx")
    assert _refusal(tmp_path) == (
        "inswapper_128.onnx: inputs ['input'], expected ['source', 'target']."
    )


def test_a_checksum_that_does_not_match_the_manifest_is_refused(tmp_path: Path) -> None:
    model_dir(tmp_path, manifest=True)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["w600k_r50.onnx"] = "0" * 64
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    message = _refusal(tmp_path)
    assert message.startswith("w600k_r50.onnx: sha256 ")
    assert message.endswith(f"does not match manifest.json ({'0' * 64}).")


def test_a_manifest_entry_without_its_file_is_refused(tmp_path: Path) -> None:
    model_dir(tmp_path, manifest=True)
    (tmp_path / "manifest.json").write_text(json.dumps({"GFPGANv1.4.onnx": "ab" * 32}))
    assert _refusal(tmp_path) == "GFPGANv1.4.onnx is listed in manifest.json but missing."


def test_a_file_that_is_not_onnx_is_refused(tmp_path: Path) -> None:
    model_dir(tmp_path)
    (tmp_path / "inswapper_128.onnx").write_bytes(b"not a model")
    assert _refusal(tmp_path).startswith("inswapper_128.onnx is not a loadable ONNX model")


def test_a_swapper_without_its_embedding_map_last_is_refused(tmp_path: Path) -> None:
    model_dir(tmp_path)
    path = tmp_path / "inswapper_128.onnx"
    model = onnx.load(str(path))
    emap = model.graph.initializer[-1]
    model.graph.initializer.remove(emap)
    model.graph.initializer.insert(0, emap)
    onnx.save(model, str(path))
    assert _refusal(tmp_path) == (
        "inswapper_128.onnx: the last initializer (the embedding map) is 1, expected 512x512."
    )
