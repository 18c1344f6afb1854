"""Benchmark of the video face swap: end-to-end frames per second, peak memory, and where
the time goes, for 10 s one-face clips at 720p and 1080p (30 fps, with audio).

Run: .venv/bin/python -m tests.bench.bench_video [--runs 3] [--sizes 720 1080]
Each size runs in its own process (so its peak RSS is its own): one cold run (models
loaded, source analysed) and `--runs` warm runs, reported as the median. Clips are made
once from the packaged photos into bench-out/.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.support import images
from tests.support.video import ClipSpec, write_clip

SIZES = {720: (1280, 720), 1080: (1920, 1080)}
OUT = Path("bench-out")


def clip_for(size: int) -> Path:
    width, height = SIZES[size]
    path = OUT / f"video_{size}p_10s.mp4"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        spec = ClipSpec(
            width=width,
            height=height,
            fps=30,
            frames=300,
            face_scale=0.8,
            pan_px=width * 0.15,
            zoom=0.1,
            turn_deg=4.0,
        )
        write_clip(path, spec)
    return path


def measure(size: int, runs: int) -> dict[str, object]:
    """Swap the clip `runs + 1` times in this process; the numbers as a dict."""
    from faceport.engine import swap_face_video

    clip = clip_for(size)
    source = images.astronaut_jpeg()
    output = OUT / f"video_{size}p_out.mp4"
    walls, reports = [], []
    for _ in range(runs + 1):
        cpu_before = time.process_time()
        start = time.perf_counter()
        report = swap_face_video(source, clip, output)
        walls.append(time.perf_counter() - start)
        reports.append((report, time.process_time() - cpu_before))
    frames = reports[0][0].frames
    warm = walls[1:]
    median_run = sorted(range(1, runs + 1), key=lambda i: walls[i])[runs // 2]
    report, cpu = reports[median_run]
    return {
        "size": size,
        "frames": frames,
        "cold_fps": frames / walls[0],
        "warm_fps": [frames / w for w in warm],
        "median_fps": frames / statistics.median(warm),
        "cpu_ms_per_frame": cpu / frames * 1e3,
        "busy_ms_per_frame": {k: v / frames * 1e3 for k, v in report.busy_s.items()},
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "output_kib": output.stat().st_size / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[720, 1080])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.runs)))
        return
    print(
        f"video swap, 10 s one-face clips at 30 fps with audio; {args.runs} warm runs "
        "after one cold run, each size in its own process"
    )
    for size in args.sizes:
        clip_for(size)  # made here, so its making is not in the child's peak memory
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.bench.bench_video",
                "--one",
                str(size),
                "--runs",
                str(args.runs),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        busy = ", ".join(f"{k} {v:.1f}" for k, v in result["busy_ms_per_frame"].items())
        warm = " ".join(f"{fps:.1f}" for fps in result["warm_fps"])
        print(
            f"{size}p: {result['median_fps']:.1f} fps end to end (median of warm runs: "
            f"{warm}; cold {result['cold_fps']:.1f}); peak RSS "
            f"{result['peak_rss_mib']:.0f} MiB; output {result['output_kib']:.0f} KiB"
        )
        print(
            f"  CPU {result['cpu_ms_per_frame']:.1f} ms per frame over both cores; "
            f"busy per stage (ms/frame, threads overlap): {busy}"
        )


if __name__ == "__main__":
    main()
