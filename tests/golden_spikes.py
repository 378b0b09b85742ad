"""Digests of the spikes of fixed-seed runs, to show a refactoring changes no spike.

``python tests/golden_spikes.py --write`` runs each case below through the
command line (the whole run path: checks, build, simulate, collect, save) and
writes ``tests/data/golden_spikes.json``: per case, a SHA-256 of the sorted
(population, neuron, time) arrays and the spike count per population.
``tests/test_golden_spikes.py`` runs the same cases and compares. Rewrite the
file only for a change that is meant to change spikes, and say why in the commit.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GOLDEN = os.path.join(HERE, "data", "golden_spikes.json")

_SMALL = ["--n-scaling", "0.05", "--k-scaling", "0.05", "--t-presim", "100",
          "--t-sim", "300", "--seed", "55"]
#: case name -> command line after ``python``. Brian2 runs on the runtime device
#: with numpy code (set in ``env``), as the other Brian2 tests do.
CASES = {
    "nest": ["run/main.py", "nest", *_SMALL, "--threads", "1"],
    "nest_numpy_net": ["run/main.py", "nest", *_SMALL, "--threads", "1",
                       "--connectivity-rng", "numpy"],
    "neuron": ["run/main.py", "neuron", *_SMALL],
    "neuron_classic": ["run/main.py", "neuron", *_SMALL, "--neuron-engine", "classic"],
    "brian2": ["run/main.py", "brian2", *_SMALL],
    "nest_two_areas": ["run/two_areas.py", "nest", "--t-presim", "100", "--t-sim", "300",
                       "--threads", "1"],
}
ENV = {"PD14_BRIAN2_DEVICE": "runtime", "PD14_BRIAN2_CODEGEN": "numpy"}


def run_case(name, out_dir):
    """Run one case into ``out_dir``; returns its digest dict."""
    cmd = [sys.executable, *CASES[name], "--out", str(out_dir), "--overwrite"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **ENV, "PYTHONPATH": ROOT})
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return digest(out_dir)


def digest(run_dir):
    """SHA-256 over every population's sorted (neuron, time) spikes, and counts."""
    from pd14_pynn import spike_tables, storage
    table = spike_tables.spike_table(storage.read_block(str(run_dir)))
    sha = hashlib.sha256()
    counts = {}
    for key in sorted(table):
        spikes = table[key]
        order = np.lexsort((spikes.times_ms, spikes.index))
        sha.update(key.encode())
        sha.update(np.ascontiguousarray(spikes.index[order], dtype=np.int64).tobytes())
        sha.update(np.ascontiguousarray(spikes.times_ms[order], dtype=np.float64).tobytes())
        counts[key] = int(spikes.times_ms.size)
    return {"sha256": sha.hexdigest(), "counts": counts}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the golden file")
    parser.add_argument("--out", default="/tmp/pd14_golden", help="run folders")
    args = parser.parse_args()
    result = {name: run_case(name, os.path.join(args.out, name)) for name in CASES}
    for name, row in result.items():
        print(name, row["sha256"][:16], sum(row["counts"].values()), "spikes")
    if args.write:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip()
        with open(GOLDEN, "w") as f:
            json.dump({"written_at_commit": commit, "cases": result}, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
