"""Benchmark of the image face swap on a ~1 MP single-face target.

Run: .venv/bin/python -m tests.bench.bench_engine [--runs 20] [--format png]
Prints median and p95 per stage and in total, with the source cache cleared before each
call (cold) and with the source already cached (the same source for many targets), the
identity distances of the result, and writes a source | target | result contact sheet
to bench-out/engine_v1.png.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from faceport.engine import clear_source_cache, decode_image, swap_face
from tests.support import images
from tests.support.identity import identity_distance

STAGES = ("decode", "detect", "landmarks", "warp", "colour", "blend", "encode")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def contact_sheet(frames: list[np.ndarray], height: int = 512) -> np.ndarray:
    resized = [
        cv2.resize(frame, (round(frame.shape[1] * height / frame.shape[0]), height))
        for frame in frames
    ]
    return np.hstack(resized)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--format", choices=["png", "jpg", "webp"], default="png")
    parser.add_argument("--out", type=Path, default=Path("bench-out/engine_v1.png"))
    args = parser.parse_args()

    source = images.astronaut_jpeg()
    target = images.grace_hopper_1mp_jpeg()
    target_frame = decode_image(target)
    height, width = target_frame.shape[:2]
    print(f"source astronaut 512x512 jpeg; target {width}x{height} ({width * height / 1e6:.2f} MP)"
          f" jpeg; output {args.format}; {args.runs} runs after {args.warmup} warm-up")  # fmt: skip

    for _ in range(args.warmup):
        swap_face(source, target, output_format=args.format)

    result = b""
    for mode in ("cold", "cached"):
        per_stage: dict[str, list[float]] = {stage: [] for stage in STAGES}
        totals: list[float] = []
        for _ in range(args.runs):
            if mode == "cold":
                clear_source_cache()
            timings: dict[str, float] = {}
            start = time.perf_counter()
            result = swap_face(source, target, output_format=args.format, timings=timings)
            totals.append(time.perf_counter() - start)
            for stage in STAGES:
                per_stage[stage].append(timings.get(stage, 0.0))

        print(f"source {mode}:")
        print(f"{'stage':<10} {'p50 ms':>8} {'p95 ms':>8}")
        for stage in STAGES:
            values = per_stage[stage]
            print(f"{stage:<10} {statistics.median(values) * 1e3:8.1f} "
                  f"{percentile(values, 0.95) * 1e3:8.1f}")  # fmt: skip
        print(f"{'total':<10} {statistics.median(totals) * 1e3:8.1f} "
              f"{percentile(totals, 0.95) * 1e3:8.1f}")  # fmt: skip
    print(f"output {len(result) / 1024:.0f} KiB")

    to_source = identity_distance(result, source)
    to_target = identity_distance(result, target)
    between = identity_distance(source, target)
    print(f"identity: result-source {to_source:.3f}  result-target {to_target:.3f}  "
          f"source-target {between:.3f}  (< 0.6 = same person)")  # fmt: skip

    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet = contact_sheet([decode_image(source), target_frame, decode_image(result)])
    cv2.imwrite(str(args.out), sheet)
    print(f"contact sheet: {args.out}")


if __name__ == "__main__":
    main()
