"""A spike takes its synapse's delay on every simulator: source -> A -> B, delays 1.5 and
2.3 ms (tests/transmission_timing_scenario.py).

This is where a lost or doubled delay, or a spike source started late, shows
first: each would move the thalamic response of the network by milliseconds.
"""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
STEP = 0.1  # ms, the model's resolution


def timing(simulator):
    proc = subprocess.run([sys.executable, os.path.join(HERE, "transmission_timing_scenario.py"),
                           simulator], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("TIMING ")][-1]
    return [float(value) for value in line.split()[1:]]


@pytest.mark.parametrize("simulator", ["nest", "brian2", "neuron"])
def test_each_synapse_adds_its_delay(simulator):
    a_rises, a_spike, b_rises = timing(simulator)
    # the PSC arrives after the delay and moves v within the next step (Brian2
    # applies it after that step's update: one step later than NEST and NEURON)
    assert 10.0 + 1.5 < a_rises <= 10.0 + 1.5 + 2 * STEP + 1e-9
    assert a_rises <= a_spike < a_rises + 1.0
    assert a_spike + 2.3 < b_rises <= a_spike + 2.3 + 2 * STEP + 1e-9
