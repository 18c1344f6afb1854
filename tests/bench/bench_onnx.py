"""Benchmark of the neural backend's own stages on CPU, with the stand-in models.

Run: .venv/bin/python -m tests.bench.bench_onnx [--runs 30]

The stand-ins (tests/support/onnx_models.py) do almost no arithmetic, so what this
measures is faceport's overhead around a model: the 5-point alignment and soft mask
(`align`), one inference call through onnxruntime with its blob conversion (`swap`,
`restore`; `recognize` once per source, then cached with the source's analysis, so it is
also timed cold on its own), and the inverse warp and blend (`paste`); a real inswapper-128 or
GFPGAN adds its own inference time on top. Each scenario prints p50 and p95 per stage and
for the whole swap call (decode, face finding and encode included, the source cached), for
a ~1 MP one-face target, a 12 MP six-face target swapped "all", and a 1 MP target with
`enhance` (the 512 px restorer pass). It also prints the provider that ran.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from faceport.engine import TargetSelection, swap_face
from faceport.engine._swap import analyse_source
from faceport.engine.onnx import OnnxBackend, load_onnx_backend
from tests.bench.bench_engine import percentile
from tests.support import images, variants
from tests.support.onnx_models import model_dir

STAGES = ("recognize", "align", "swap", "restore", "paste")


def run_scenario(
    backend: OnnxBackend,
    name: str,
    target: bytes,
    selection: TargetSelection,
    enhance: bool,
    runs: int,
) -> None:
    source = images.astronaut_jpeg()
    per_stage: dict[str, list[float]] = {stage: [] for stage in STAGES}
    totals: list[float] = []
    swap_face(source, target, target_index=selection, painter=backend.painter(enhance=enhance))
    for _ in range(runs):
        timings: dict[str, float] = {}
        started = time.perf_counter()
        swap_face(
            source,
            target,
            target_index=selection,
            painter=backend.painter(enhance=enhance),
            timings=timings,
        )
        totals.append(time.perf_counter() - started)
        for stage in STAGES:
            per_stage[stage].append(timings.get(stage, 0.0))
    print(f"\n{name}  ({runs} runs, ms)")
    print(f"  {'stage':<10} {'p50':>8} {'p95':>8}")
    for stage, values in [*per_stage.items(), ("whole call", totals)]:
        if any(values):
            p50, p95 = percentile(values, 0.5) * 1e3, percentile(values, 0.95) * 1e3
            print(f"  {stage:<10} {p50:8.2f} {p95:8.2f}")


def time_recognizer(backend: OnnxBackend, runs: int) -> None:
    """The recognizer path (align to 112 px, inference, latent) without the cache."""
    source = analyse_source(images.astronaut_jpeg())
    totals = []
    for _ in range(runs):
        started = time.perf_counter()
        backend.source_latent(source.frame, source.landmarks[0])
        totals.append(time.perf_counter() - started)
    p50, p95 = percentile(totals, 0.5) * 1e3, percentile(totals, 0.95) * 1e3
    print(f"\nrecognize, cold ({runs} runs, ms)\n  {'latent':<10} {p50:8.2f} {p95:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        backend = load_onnx_backend(model_dir(Path(scratch), restorer=True))
        print(f"neural backend on {backend.describe()['provider']}, stand-in models")
        twelve = variants.encode_jpeg(variants.six_faces_12mp(), 90)
        one = images.grace_hopper_1mp_jpeg()
        run_scenario(backend, "1 MP, 1 face", one, 0, False, args.runs)
        run_scenario(backend, "12 MP, 6 faces (all)", twelve, "all", False, max(3, args.runs // 5))
        run_scenario(backend, "1 MP, 1 face, enhance", one, 0, True, args.runs)
        time_recognizer(backend, args.runs)


if __name__ == "__main__":
    main()
