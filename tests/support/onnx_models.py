"""Stand-in ONNX models with the tensor names and shapes of the models operators bring.

They are built here with the `onnx` package (faceport ships no model weights): a swapper
with the inswapper-128 signature that returns its target (identity) or its inverse, an
ArcFace-signature recognizer whose embedding depends on the pixels, and a GFPGAN-512
signature restorer that inverts its input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from faceport.engine.onnx._models import file_sha256

OPSET = 17
Swapper = Literal["identity", "invert"]


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def swapper_model(path: Path, kind: Swapper = "identity", *, side: int = 128) -> Path:
    """inputs `target` 1x3xSIDExSIDE and `source` 1x512, output `output` like `target`;
    the embedding map is the last initializer. The source enters the output times zero,
    so both inputs are used."""
    rng = np.random.default_rng(16)
    emap = rng.normal(size=(512, 512)).astype(np.float32)
    initializers = [
        numpy_helper.from_array(np.array([0.0], np.float32), "zero"),
        numpy_helper.from_array(np.array([1.0], np.float32), "one"),
        numpy_helper.from_array(emap, "emap"),
    ]
    nodes = [
        helper.make_node("ReduceSum", ["source"], ["source_sum"]),
        helper.make_node("Mul", ["source_sum", "zero"], ["nothing"]),
        helper.make_node("Add", ["target", "nothing"], ["same" if kind == "invert" else "output"]),
    ]
    if kind == "invert":
        nodes.append(helper.make_node("Sub", ["one", "same"], ["output"]))
    shape = [1, 3, side, side]
    graph = helper.make_graph(
        nodes,
        "inswapper_stand_in",
        [
            helper.make_tensor_value_info("target", TensorProto.FLOAT, shape),
            helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)],
        initializers,
    )
    return _save(graph, path)


def recognizer_model(path: Path) -> Path:
    """input `input.1` 1x3x112x112, output `683` 1x512 (w600k_r50's names): 14x14
    average pools of the pixels times a fixed random matrix."""
    rng = np.random.default_rng(112)
    weights = rng.normal(size=(3 * 8 * 8, 512)).astype(np.float32)
    nodes = [
        helper.make_node(
            "AveragePool", ["input.1"], ["pooled"], kernel_shape=[14, 14], strides=[14, 14]
        ),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "weights"], ["683"]),
    ]
    graph = helper.make_graph(
        nodes,
        "arcface_stand_in",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 112, 112])],
        [helper.make_tensor_value_info("683", TensorProto.FLOAT, [1, 512])],
        [numpy_helper.from_array(weights, "weights")],
    )
    return _save(graph, path)


def restorer_model(path: Path) -> Path:
    """input `input` 1x3x512x512, output `output` the same: the input negated, which in
    GFPGAN's -1..1 range inverts the colours."""
    shape = [1, 3, 512, 512]
    graph = helper.make_graph(
        [helper.make_node("Neg", ["input"], ["output"])],
        "gfpgan_stand_in",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)],
    )
    return _save(graph, path)


def model_dir(
    directory: Path,
    *,
    swapper: Swapper = "identity",
    restorer: bool = False,
    buffalo: bool = False,
    manifest: bool = False,
) -> Path:
    """A model directory laid out as insightface publishes the files."""
    files = [
        swapper_model(directory / "inswapper_128.onnx", swapper),
        recognizer_model(directory / ("buffalo_l/w600k_r50.onnx" if buffalo else "w600k_r50.onnx")),
    ]
    if restorer:
        files.append(restorer_model(directory / "GFPGANv1.4.onnx"))
    if manifest:
        digests = {str(f.relative_to(directory)): file_sha256(f) for f in files}
        (directory / "manifest.json").write_text(json.dumps(digests))
    return directory
