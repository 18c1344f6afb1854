"""Benchmark of the image face swap: a ~1 MP one-face target and a 12 MP six-face target.

Run: .venv/bin/python -m tests.bench.bench_engine [--runs 30] [--format png]

For each target it prints p50 and p95 per stage and in total, with the source cache
cleared before each call (cold) and with the source already cached (one source for many
targets); then single-call and batch throughput (a pool of `--workers` processes, each
with its own models, fed the same calls), and peak memory two ways: the peak of
Python/numpy allocations during one call (tracemalloc; OpenCV's and dlib's own buffers
are not traced) and the high-water resident set of a fresh worker process that ran the
scenario (getrusage ru_maxrss, includes the models and the interpreter). It also prints
the identity distances of one result and writes a source | target | result contact
sheet per scenario under build/bench/.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from faceport.engine import (
    TargetSelection,
    clear_source_cache,
    decode_image,
    detect_faces_in_image,
    swap_face,
)
from tests.support import images, variants
from tests.support.identity import identity_distance

STAGES = ("decode", "detect", "landmarks", "warp", "colour", "blend", "encode")


@dataclass(frozen=True)
class Scenario:
    name: str
    target: bytes
    selection: TargetSelection


def scenarios() -> list[Scenario]:
    twelve = variants.encode_jpeg(variants.six_faces_12mp(), 90)
    return [
        Scenario("1 MP, 1 face", images.grace_hopper_1mp_jpeg(), 0),
        Scenario("12 MP, 6 faces (all)", twelve, "all"),
    ]


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def contact_sheet(frames: list[np.ndarray], height: int = 512) -> np.ndarray:
    resized = [
        cv2.resize(frame, (round(frame.shape[1] * height / frame.shape[0]), height))
        for frame in frames
    ]
    return np.hstack(resized)


def time_calls(
    source: bytes, scenario: Scenario, output_format: str, runs: int, cold: bool
) -> tuple[dict[str, list[float]], list[float]]:
    per_stage: dict[str, list[float]] = {stage: [] for stage in STAGES}
    totals: list[float] = []
    for _ in range(runs):
        if cold:
            clear_source_cache()
        timings: dict[str, float] = {}
        start = time.perf_counter()
        swap_face(
            source,
            scenario.target,
            target_index=scenario.selection,
            output_format=output_format,  # type: ignore[arg-type]
            timings=timings,
        )
        totals.append(time.perf_counter() - start)
        for stage in STAGES:
            per_stage[stage].append(timings.get(stage, 0.0))
    return per_stage, totals


def print_table(title: str, per_stage: dict[str, list[float]], totals: list[float]) -> None:
    print(f"  {title}:")
    print(f"  {'stage':<10} {'p50 ms':>8} {'p95 ms':>8}")
    for stage in STAGES:
        values = per_stage[stage]
        print(f"  {stage:<10} {statistics.median(values) * 1e3:8.1f} "
              f"{percentile(values, 0.95) * 1e3:8.1f}")  # fmt: skip
    print(f"  {'total':<10} {statistics.median(totals) * 1e3:8.1f} "
          f"{percentile(totals, 0.95) * 1e3:8.1f}")  # fmt: skip


# --- the worker processes of the batch measurement --------------------------------------

_job: tuple[bytes, Scenario, str] | None = None


def _worker_init(source: bytes, scenario: Scenario, output_format: str) -> None:
    global _job
    _job = (source, scenario, output_format)
    _worker_call(0)  # load the models and cache the source before the clock starts


def _worker_call(_: int) -> int:
    assert _job is not None
    source, scenario, output_format = _job
    result = swap_face(
        source,
        scenario.target,
        target_index=scenario.selection,
        output_format=output_format,  # type: ignore[arg-type]
    )
    return len(result)


def _worker_peak_rss(_: int) -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def batch_throughput(
    source: bytes, scenario: Scenario, output_format: str, workers: int, calls: int
) -> tuple[float, float]:
    """Calls per second of a pool of `workers` processes, and the largest worker's RSS (MiB)."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, _worker_init, (source, scenario, output_format)) as pool:
        # a pool starts its workers without waiting for them: let each finish its warm-up
        pool.map(_worker_call, range(2 * workers), chunksize=1)
        start = time.perf_counter()
        pool.map(_worker_call, range(calls), chunksize=1)
        elapsed = time.perf_counter() - start
        peak_kib = max(pool.map(_worker_peak_rss, range(workers * 4), chunksize=1))
    return calls / elapsed, peak_kib / 1024


def traced_peak(source: bytes, scenario: Scenario, output_format: str) -> float:
    """Peak MiB of Python/numpy allocations during one (cached-source) call."""
    tracemalloc.start()
    try:
        swap_face(source, scenario.target, target_index=scenario.selection,
                  output_format=output_format)  # type: ignore[arg-type]  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed calls per mode (1 MP)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--format", choices=["png", "jpg", "webp"], default="png")
    parser.add_argument("--workers", type=int, default=2, help="processes in the batch pool")
    parser.add_argument("--out", type=Path, default=Path("build/bench"))
    args = parser.parse_args()

    source = images.astronaut_jpeg()
    print(f"source astronaut 512x512 jpeg; output {args.format}; "
          f"{args.warmup} warm-up calls per scenario")  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    for number, scenario in enumerate(scenarios(), start=1):
        frame = decode_image(scenario.target)
        height, width = frame.shape[:2]
        # the 12 MP calls take ~10x longer: fewer of them keep the run short
        runs = args.runs if width * height < 4e6 else max(5, args.runs // 4)
        faces = len(detect_faces_in_image(scenario.target))
        print(f"\n[{scenario.name}] target {width}x{height} ({width * height / 1e6:.1f} MP) "
              f"jpeg, {faces} faces found, target_index={scenario.selection!r}, "
              f"{runs} runs per mode")  # fmt: skip
        for _ in range(args.warmup):
            swap_face(source, scenario.target, target_index=scenario.selection)
        single_totals: list[float] = []
        for mode in ("cold", "cached"):
            per_stage, totals = time_calls(source, scenario, args.format, runs, mode == "cold")
            print_table(f"source {mode}", per_stage, totals)
            single_totals = totals
        single_rate = 1 / statistics.mean(single_totals)
        batch_calls = max(4 * args.workers, runs)
        batch_rate, rss_mib = batch_throughput(
            source, scenario, args.format, args.workers, batch_calls
        )
        print(f"  throughput (cached source): single call {single_rate:.1f}/s; "
              f"batch of {batch_calls} on {args.workers} processes {batch_rate:.1f}/s")  # fmt: skip
        print(f"  peak memory: {traced_peak(source, scenario, args.format):.0f} MiB traced in one "
              f"call (tracemalloc); {rss_mib:.0f} MiB max RSS of a worker (ru_maxrss)")  # fmt: skip

        result = swap_face(source, scenario.target, target_index=scenario.selection,
                           output_format=args.format)  # type: ignore[arg-type]  # fmt: skip
        if scenario.selection == 0:
            to_source = identity_distance(result, source)
            to_target = identity_distance(result, scenario.target)
            between = identity_distance(source, scenario.target)
            print(f"  identity: result-source {to_source:.3f}  result-target {to_target:.3f}  "
                  f"source-target {between:.3f}  (< 0.6 = same person)")  # fmt: skip
        sheet_path = args.out / f"engine_{number}.png"
        sheet = contact_sheet([decode_image(source), frame, decode_image(result)])
        cv2.imwrite(str(sheet_path), sheet)
        print(f"  contact sheet: {sheet_path}")


if __name__ == "__main__":
    main()
