"""A spike takes its synapse's delay on every simulator: source -> A -> B, delays 1.5 and
2.3 ms (tests/transmission_timing_scenario.py).

This is where a lost or doubled delay, or a spike source started late, shows
first: each would move the thalamic response of the network by milliseconds.
"""

import pytest

from conftest import scenario_fields

STEP = 0.1  # ms, the model's resolution


@pytest.mark.parametrize("simulator", ["nest", "brian2", "neuron"])
def test_each_synapse_adds_its_delay(simulator):
    a_rises, a_spike, b_rises = map(float, scenario_fields(
        "transmission_timing_scenario.py", "TIMING", simulator))
    # the PSC arrives after the delay and moves v within the next step (Brian2
    # applies it after that step's update: one step later than NEST and NEURON)
    assert 10.0 + 1.5 < a_rises <= 10.0 + 1.5 + 2 * STEP + 1e-9
    assert a_rises <= a_spike < a_rises + 1.0
    assert a_spike + 2.3 < b_rises <= a_spike + 2.3 + 2 * STEP + 1e-9
