"""`make cost`: what one task of each operation costs on AWS at 1, 100 and 10,000 tasks
per hour, from engine time measured here (median of a few warm runs) and the list prices
and assumptions of infra/costs.py; the seeds' hosted prices beside it.

    .venv/bin/python -m tests.bench.bench_cost
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2

from faceport.adapters.local.engine import InProcessEngine
from infra import costs
from tests.support.images import astronaut_jpeg, grace_hopper_1mp_bgr
from tests.support.video import ClipSpec, write_clip

LOADS = (1, 100, 10_000)
RUNS = 5


def median_s(work: Callable[[int], object], runs: int = RUNS) -> float:
    """Median seconds of `work(i)` over `runs` calls after a warm-up (models loaded: a
    serving container's steady state). Each call gets a target of its own, so no
    analysis cache answers for a photo it has seen."""
    work(runs)
    times = []
    for i in range(runs):
        start = time.perf_counter()
        work(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def targets(count: int) -> list[bytes]:
    """The 1 MP photo `count` times, each differing in one pixel (another hash)."""
    photo = grace_hopper_1mp_bgr()
    made = []
    for i in range(count):
        copy = photo.copy()
        copy[i, i] = 255 - copy[i, i]
        made.append(cv2.imencode(".jpg", copy, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
    return made


def video_minute_s(engine: InProcessEngine) -> float:
    """Engine seconds for one minute of 720p video (a 4 s clip, scaled)."""
    seconds = 4
    spec = ClipSpec(width=1280, height=720, fps=30, frames=30 * seconds, audio=False)
    with tempfile.TemporaryDirectory() as scratch:
        clip = write_clip(Path(scratch) / "clip.mp4", spec)
        out = Path(scratch) / "out.mp4"
        run = lambda _i: engine.swap_face_video(  # noqa: E731
            astronaut_jpeg(), clip, out, target_index=0, reference_face=None,
            progress=lambda _f: None, should_stop=lambda: False,
        )  # fmt: skip
        return median_s(run, runs=1) * 60 / seconds


def measured() -> list[costs.Workload]:
    engine = InProcessEngine()
    source, photos = astronaut_jpeg(), targets(RUNS + 1)
    swap = median_s(
        lambda i: engine.swap_face(
            source, photos[i], target_index=0, face_map=None, output_format="jpg"
        )
    )
    fuse = median_s(
        lambda i: engine.fuse_faces(source, photos[i], similarity=0.5, output_format="jpg")
    )
    detect = median_s(lambda i: engine.detect_faces(photos[i]))
    mb = len(photos[0]) / 1e6
    return [
        costs.Workload("face swap (1 MP)", swap, 2 * mb, mb),
        costs.Workload("face fusion (1 MP)", fuse, 2 * mb, mb),
        costs.Workload("face detection (1 MP)", detect, mb, 0.0),
        costs.Workload("video, 1 min 720p", video_minute_s(engine), 25.0, 25.0, 120),
    ]


def main() -> None:
    workloads = measured()
    instance = costs.DEFAULT_INSTANCE
    print(f"USD per task on AWS ({instance}; prices and assumptions: infra/costs.py)")
    header = "".join(f"{f'{n:,}/h':>14}" for n in LOADS)
    print(f"{'operation':26}{'engine s':>10}{header}")
    for work in workloads:
        row = "".join(f"{costs.cost_per_task(work, n, instance):14.6f}" for n in LOADS)
        print(f"{work.name:26}{work.engine_s:10.2f}{row}")
    for name, price in costs.HOSTED.items():
        print(f"{'hosted: ' + name + ' swap':26}{'':>10}" + f"{price:14.6f}" * len(LOADS))
    swap = costs.cost_per_task(workloads[0], 10_000, instance)
    verdict = "meets" if swap < 0.0005 else "misses"
    print(f"goal: image swap < $0.0005 at 10,000/h on {instance}: ${swap:.6f} ({verdict})")
    video = workloads[-1]
    cpu = costs.SAGEMAKER_PER_HOUR[instance]
    print(f"video, engine instance only, kept busy: ${video.engine_s * cpu / 3600:.4f} per")
    print(f"  minute of 720p on {instance} (measured here). GPU instances (not measured")
    print("  here: no GPU on this machine) cost less per minute once they are faster by:")
    for name, per_hour in costs.SAGEMAKER_PER_HOUR.items():
        if name != instance:
            print(f"  {name:16} ${per_hour:.3f}/h: more than {per_hour / cpu:.1f}x")


if __name__ == "__main__":
    main()
