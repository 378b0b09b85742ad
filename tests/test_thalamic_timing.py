"""The thalamic pulse (700-710 ms) starts and ends on time on every simulator."""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


@pytest.mark.parametrize("simulator", ["nest", "brian2", "neuron"])
@pytest.mark.parametrize("delay_rel_sd", [0.5, 0.0])
def test_thalamic_spikes_lie_in_the_pulse(simulator, delay_rel_sd):
    """With delay_rel_sd = 0 no synapse has a one-step delay (the smallest is 0.8
    ms): PyNN connected NEST's parrot neurons with that delay (701.0-710.9 ms)."""
    proc = subprocess.run([sys.executable, os.path.join(HERE, "thalamic_timing_scenario.py"),
                           simulator, str(delay_rel_sd)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("THALAMIC ")][-1]
    count, first, last = line.split()[1:]
    # 902 sources x 120/s x 10 ms ~ 1082 spikes; NEST's sources: one step for the
    # parrot neuron. PyNN's NEST sources started 1 ms late (origin = 1 ms).
    assert 900 < int(count) < 1300
    assert 700.0 <= float(first) <= 700.3
    assert 709.7 <= float(last) <= 710.1
