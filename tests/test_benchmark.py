"""run/benchmark.py runs at a tiny scale and writes its table (no timing assertions)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_benchmark_writes_table(tmp_path):
    out = tmp_path / "bench"
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "run", "benchmark.py"), "--simulators", "nest",
         "--scales", "0.03", "--t-sim", "100", "--t-presim", "50", "--threads", "1",
         "--out", str(out)], capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = (out / "benchmark.md").read_text()
    assert "| nest | 0.03 |" in table and "| ratio |" in table and "| native |" in table
    result = json.loads((out / "benchmark.json").read_text())["results"][0]
    # both built the same recurrent synapses; native NEST also counts one recorder
    # and one Poisson-generator connection per neuron
    native_total = result["runs"]["native"][0]["num_connections"]
    assert native_total == result["synapses"] + 2 * result["neurons"]
    for impl in ("pd14", "native"):
        assert result[impl]["simulate"] > 0 and result[impl]["peak_rss_bytes"] > 1e7
        # the whole process contains every phase it reports, and its peak memory
        phases = sum(result[impl][p] for p in ("create", "connect", "presimulate", "simulate",
                                               "save"))
        assert result[impl]["whole_s"] > phases
        assert result[impl]["whole_peak_rss_bytes"] >= 0.9 * result[impl]["peak_rss_bytes"]
    assert "**whole (s)**" in table
