"""Shared fixtures: small runs of the model on every simulator, in subprocesses.

Every simulator is required: a simulator that is not installed makes its tests
fail with the install hint, never skip.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

# Brian2's Cython target compiles every code object of each new network (~10 min on
# 2 cores for one of these test networks); the numpy target runs the tiny test
# networks in seconds. Subprocesses inherit this. Test the compiled path with
# PD14_BRIAN2_CODEGEN=cython python -m pytest
os.environ.setdefault("PD14_BRIAN2_CODEGEN", "numpy")
# the compiled standalone device (default where a compiler exists) is tested by
# tests/test_brian2_standalone.py (marker "standalone"); everything else runs on runtime
os.environ.setdefault("PD14_BRIAN2_DEVICE", "runtime")
SIMULATORS = ("nest", "neuron", "brian2")
ROOT = os.path.dirname(HERE)


def scenario_fields(script, tag, *args):
    """Run ``tests/<script> args`` in a subprocess of this checkout; the fields after
    ``tag`` on the last output line that starts with it (as strings)."""
    proc = subprocess.run([sys.executable, os.path.join(HERE, script), *map(str, args)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return [x for x in proc.stdout.splitlines() if x.startswith(tag + " ")][-1].split()[1:]


@pytest.fixture(scope="session")
def scenario(tmp_path_factory):
    """``scenario(simulator, seed, fast=True, repeat=0, rng="native", scale=None,
    connectivity=None)`` -> arrays.

    Runs tests/scenario.py; ``fast=False`` is PyNN's generic path, ``rng="numpy"``
    the numpy-drawn network on every simulator, ``scale`` overrides N = K = 0.05,
    ``connectivity`` builds the SONATA network at that path.
    Results are cached per argument set; ``repeat`` > 0 forces another process.
    """
    cache = {}
    folder = tmp_path_factory.mktemp("scenarios")

    def get(simulator, seed, fast=True, repeat=0, rng="native", scale=None, connectivity=None):
        key = (simulator, seed, fast, repeat, rng, scale, connectivity)
        if key not in cache:
            out = folder / ("_".join(map(str, key[:-1])) + f"_{len(cache)}.npz")
            cmd = [sys.executable, os.path.join(HERE, "scenario.py"), simulator, str(seed),
                   str(out)] + ([] if fast else ["--generic"]) + \
                (["--numpy-rng"] if rng == "numpy" else []) + \
                ([] if scale is None else ["--scale", str(scale)]) + \
                ([] if connectivity is None else ["--connectivity", str(connectivity)])
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(folder))
            assert proc.returncode == 0, (
                f"scenario on {simulator} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
            cache[key] = dict(np.load(out))
        return cache[key]

    return get
