"""The operator's model directory: find the files, check them, open them with onnxruntime.

Everything that can be wrong with a model directory is found here, at start: a missing
file, a checksum that does not match the operator's manifest, a graph whose inputs or
outputs do not have the accepted signature. Each is one `InvalidModelDir` line naming the
file; nothing about the models can fail later at request time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faceport.errors import InvalidModelDir

logger = logging.getLogger(__name__)

SWAPPER_FILE = "inswapper_128.onnx"
RECOGNIZER_FILES = ("w600k_r50.onnx", "buffalo_l/w600k_r50.onnx")
RESTORER_FILE = "GFPGANv1.4.onnx"
MANIFEST_FILE = "manifest.json"

SWAP_SIZE = 128
RECOGNITION_SIZE = 112
RESTORE_SIZE = 512
LATENT_SIZE = 512
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


@dataclass(frozen=True)
class Model:
    """One opened model: its session and the names of the tensors it is called with."""

    path: Path
    session: Any  # onnxruntime.InferenceSession
    inputs: tuple[str, ...]
    output: str

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """The model's (first) output for `feeds`."""
        result: np.ndarray = self.session.run([self.output], feeds)[0]
        return result


@dataclass(frozen=True)
class Models:
    """The checked models of a directory and the provider they run on."""

    directory: Path
    swapper: Model
    emap: np.ndarray  # the swapper's embedding map, (512, 512) float32
    recognizer: Model
    restorer: Model | None
    providers: tuple[str, ...]


def load_models(directory: Path, providers: tuple[str, ...] | None = None) -> Models:
    """Check the model directory and open its models (see docs/ARCHITECTURE.md, "The neural
    backend", for the accepted files and signatures).

    `providers` defaults to CUDA then CPU when onnxruntime offers CUDA, else CPU alone.
    Raises `InvalidModelDir` with one line naming what is wrong.
    """
    if not directory.is_dir():
        raise InvalidModelDir(f"FACEPORT_MODEL_DIR {directory} is not a directory.")
    swapper_path = _required(directory, (SWAPPER_FILE,))
    recognizer_path = _required(directory, RECOGNIZER_FILES)
    restorer_path = directory / RESTORER_FILE if (directory / RESTORER_FILE).is_file() else None
    _check_manifest(directory)
    chosen = providers or default_providers()
    swapper = _open(
        swapper_path,
        chosen,
        {"target": (1, 3, SWAP_SIZE, SWAP_SIZE), "source": (1, LATENT_SIZE)},
        (1, 3, SWAP_SIZE, SWAP_SIZE),
    )
    recognizer = _open(
        recognizer_path,
        chosen,
        {None: (1, 3, RECOGNITION_SIZE, RECOGNITION_SIZE)},
        (1, LATENT_SIZE),
    )
    restorer = None
    if restorer_path is not None:
        shape = (1, 3, RESTORE_SIZE, RESTORE_SIZE)
        restorer = _open(restorer_path, chosen, {None: shape}, shape)
    models = Models(
        directory=directory,
        swapper=swapper,
        emap=_embedding_map(swapper_path),
        recognizer=recognizer,
        restorer=restorer,
        providers=tuple(swapper.session.get_providers()),
    )
    logger.info(
        "onnx engine: models from %s on %s%s",
        directory,
        models.providers[0],
        "" if restorer is None else " (with the GFPGAN restorer)",
    )
    return models


def default_providers() -> tuple[str, ...]:
    """CUDA then CPU when this onnxruntime build offers CUDA; CPU otherwise."""
    import onnxruntime as ort

    if CUDA in ort.get_available_providers():
        if hasattr(ort, "preload_dlls"):  # CUDA/cuDNN from the nvidia-* wheels
            ort.preload_dlls()
        return (CUDA, CPU)
    return (CPU,)


def _required(directory: Path, names: tuple[str, ...]) -> Path:
    for name in names:
        if (directory / name).is_file():
            return directory / name
    also = f" (nor {' or '.join(names[1:])})" if len(names) > 1 else ""
    raise InvalidModelDir(f"{names[0]} is missing from {directory}{also}.")


def _check_manifest(directory: Path) -> None:
    path = directory / MANIFEST_FILE
    if not path.is_file():
        return
    try:
        manifest = json.loads(path.read_text())
        entries = {str(name): str(digest).lower() for name, digest in manifest.items()}
    except (ValueError, AttributeError) as exc:
        raise InvalidModelDir(f"{path} is not a JSON object of file name -> sha256.") from exc
    for name, expected in sorted(entries.items()):
        file = directory / name
        if not file.is_file():
            raise InvalidModelDir(f"{name} is listed in {MANIFEST_FILE} but missing.")
        actual = file_sha256(file)
        if actual != expected:
            raise InvalidModelDir(
                f"{name}: sha256 {actual} does not match {MANIFEST_FILE} ({expected})."
            )


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _open(
    path: Path,
    providers: tuple[str, ...],
    inputs: dict[str | None, tuple[int, ...]],
    output: tuple[int, ...],
) -> Model:
    """Open `path` and check its signature: `inputs` by name (None: the one input, any
    name) and one output of shape `output`. Dynamic dimensions are accepted."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=list(providers))
    except Exception as exc:  # onnxruntime raises its own untyped errors
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InvalidModelDir(f"{path.name} is not a loadable ONNX model: {reason}") from exc
    found = {tensor.name: tensor.shape for tensor in session.get_inputs()}
    if len(found) != len(inputs) or (None not in inputs and set(found) != set(inputs)):
        raise InvalidModelDir(f"{path.name}: inputs {sorted(found)}, expected {_names(inputs)}.")
    names = tuple(found) if None in inputs else tuple(inputs)
    for name in names:
        _check_shape(path, f"input '{name}'", found[name], inputs.get(name, inputs.get(None)))
    outputs = session.get_outputs()
    if len(outputs) != 1:
        raise InvalidModelDir(f"{path.name}: {len(outputs)} outputs, expected 1.")
    _check_shape(path, f"output '{outputs[0].name}'", outputs[0].shape, output)
    return Model(path=path, session=session, inputs=names, output=outputs[0].name)


def _names(inputs: dict[str | None, tuple[int, ...]]) -> str:
    return "one input" if None in inputs else str(sorted(n for n in inputs if n is not None))


def _check_shape(path: Path, what: str, shape: list[Any], expected: tuple[int, ...] | None) -> None:
    assert expected is not None
    fits = len(shape) == len(expected) and all(
        not isinstance(dim, int) or dim in (want, 0, -1)
        for dim, want in zip(shape, expected, strict=True)
    )
    if not fits:
        shown = "x".join(str(d) if isinstance(d, int) else "?" for d in shape)
        raise InvalidModelDir(
            f"{path.name}: {what} has shape {shown}, expected {'x'.join(map(str, expected))}."
        )


def _embedding_map(path: Path) -> np.ndarray:
    """The inswapper's embedding map: the graph's last initializer, 512x512."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    emap = numpy_helper.to_array(graph.initializer[-1]) if graph.initializer else None
    if emap is None or emap.shape != (LATENT_SIZE, LATENT_SIZE):
        shown = "none" if emap is None else "x".join(map(str, emap.shape))
        raise InvalidModelDir(
            f"{path.name}: the last initializer (the embedding map) is {shown}, expected "
            f"{LATENT_SIZE}x{LATENT_SIZE}."
        )
    return emap.astype(np.float32)
