"""Full scale (opt-in: ``python -m pytest -m long``; ~10 min and ~16 GB on 2 cores)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.long
def test_full_scale_nest_builds_and_runs(tmp_path):
    out = tmp_path / "full"
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "run", "main.py"), "nest", "--n-scaling", "1",
         "--k-scaling", "1", "--bg", "dc", "--t-presim", "100", "--t-sim", "200",
         "--threads", "3", "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["num_synapses_total"] == 298_880_968
    assert sum(metadata["num_neurons"].values()) == 77_169
    timings = json.loads((out / "timings.json").read_text())
    assert timings["peak_rss_bytes"] < 20e9
    rates = json.loads((out / "rates.json").read_text())["populations"]
    assert all(row["mean_hz"] > 0 for row in rates.values())
