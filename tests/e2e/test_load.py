"""The bounded form of `tests/bench/bench_load.py` (`make bench` runs it in full): 500
submits from 32 clients with duplicates mixed in, then SIGKILL under load and a restart.
Only outcomes are asserted (resets, lost, made twice, ledger), never timings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.bench_load import run_kill_restart, run_load


@pytest.mark.timeout(120)
def test_500_submits_from_32_clients_no_reset_none_lost_ledger_exact(tmp_path: Path) -> None:
    report = run_load(tmp_path / "data", submits=500, clients=32)
    assert report["submits"] == 500, report
    assert (report["resets"], report["error_count"]) == (0, 0), report
    assert report["duplicates"] > 0 and report["duplicate_mismatches"] == 0, report
    assert (report["lost"], report["made_twice"], report["unfinished"]) == (0, 0, 0), report
    assert report["ledger_exact"], report


@pytest.mark.timeout(120)
def test_killed_under_load_and_restarted_nothing_lost_or_charged_twice(tmp_path: Path) -> None:
    report = run_kill_restart(tmp_path / "data", submits=200, clients=16, kills=1)
    assert report["error_count"] == 0, report
    assert report["acknowledged"] > 0 and report["duplicate_mismatches"] == 0, report
    assert (report["lost"], report["made_twice"], report["unfinished"]) == (0, 0, 0), report
    assert report["ledger_exact"], report
