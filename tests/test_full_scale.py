"""Full scale (opt-in: ``python -m pytest -m long``; ~20 min and ~16 GB on 2 cores).

The two tests run one after the other (never together: each needs 12-15 GB).
Brian2's first full-scale run in a new environment also compiles its Cython code.
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_full_scale(simulator, out, extra=()):
    env = dict(os.environ, PD14_BRIAN2_CODEGEN="cython")  # numpy would take hours
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "run", "main.py"), simulator, "--n-scaling", "1",
         "--k-scaling", "1", "--bg", "dc", "--t-presim", "100", "--t-sim", "200",
         "--out", str(out), *extra], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.long
def test_full_scale_brian2_builds_and_runs_in_24_gb(tmp_path):
    out = tmp_path / "full_brian2"
    run_full_scale("brian2", out)
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["num_synapses_total"] == 298_880_968
    timings = json.loads((out / "timings.json").read_text())
    assert timings["peak_rss_bytes"] < 20e9
    rates = json.loads((out / "rates.json").read_text())["populations"]
    assert all(row["mean_hz"] > 0 for row in rates.values())


@pytest.mark.long
def test_full_scale_nest_builds_and_runs(tmp_path):
    out = tmp_path / "full"
    run_full_scale("nest", out, ["--threads", "3"])
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["num_synapses_total"] == 298_880_968
    assert sum(metadata["num_neurons"].values()) == 77_169
    timings = json.loads((out / "timings.json").read_text())
    assert timings["peak_rss_bytes"] < 20e9
    rates = json.loads((out / "rates.json").read_text())["populations"]
    assert all(row["mean_hz"] > 0 for row in rates.values())
