"""The same small network on NEST, NEURON and Brian2: structure, statistics, reproducibility.

Each simulator runs in its own subprocess (tests/scenario.py, scale 0.05).
A simulator that is not installed fails here, with the install hint.
"""

import numpy as np
import pytest
from scipy import stats

from pd14_pynn import derive, parameters
from pd14_pynn.parameters import POPULATIONS

from conftest import SIMULATORS
from scenario import DUMPED, SCALE

PARAMS = parameters.resolve({"N_scaling": SCALE, "K_scaling": SCALE})
DERIVED = derive.derive(PARAMS)


def expected_weight(target, source):
    t, s = POPULATIONS.index(target), POPULATIONS.index(source)
    return DERIVED["weights_pA"][t, s] * 1e-3, DERIVED["weight_sd_pA"][t, s] * 1e-3  # nA


def expected_delay_mean(source):
    mean = PARAMS["delay_exc_mean_ms"] if source.endswith("E") else PARAMS["delay_inh_mean_ms"]
    sd = mean * PARAMS["delay_rel_sd"]
    return stats.truncnorm((0.1 - mean) / sd, np.inf, loc=mean, scale=sd).mean()


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_population_sizes(scenario, simulator):
    np.testing.assert_array_equal(scenario(simulator, 11)["sizes"], DERIVED["num_neurons"])


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_synapse_count_per_projection(scenario, simulator):
    np.testing.assert_array_equal(scenario(simulator, 11)["counts"], DERIVED["num_synapses"])


@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("target, source", DUMPED)
def test_weight_and_delay_distributions(scenario, simulator, target, source):
    conns = scenario(simulator, 11)[f"conn_{target}_{source}"]
    weights, delays = conns[:, 2], conns[:, 3]
    mean, sd = expected_weight(target, source)
    n = len(weights)
    assert n == DERIVED["num_synapses"][POPULATIONS.index(target), POPULATIONS.index(source)]
    assert np.all(np.sign(weights) == np.sign(mean)), "a weight has the wrong sign"
    assert weights.mean() == pytest.approx(mean, abs=5 * sd / np.sqrt(n))
    assert weights.std() == pytest.approx(sd, rel=0.05)
    assert delays.min() >= 0.1 - 1e-9
    np.testing.assert_allclose(delays / 0.1, np.round(delays / 0.1), atol=1e-6,
                               err_msg="delays off the 0.1 ms grid")
    assert delays.mean() == pytest.approx(expected_delay_mean(source), rel=0.03)


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_multapses_keep_distinct_weights_and_delays(scenario, simulator):
    """PyNN 0.13 on Brian2 gives all synapses of one pair the same weight and delay."""
    conns = scenario(simulator, 11)["conn_L23E_L23E"]
    pairs = conns[:, 0].astype(np.int64) * 100_000 + conns[:, 1].astype(np.int64)
    unique, inverse, counts = np.unique(pairs, return_inverse=True, return_counts=True)
    assert (counts > 1).sum() > 50, "too few multapses to test"
    shared_weight = 0
    for pair in unique[counts > 1]:
        members = conns[pairs == pair]
        if len(np.unique(members[:, 2])) < len(members):
            shared_weight += 1
    assert shared_weight == 0, f"{shared_weight} multapse pairs share a weight"
    # delays are on a grid so equal delays happen; all pairs equal would be the bug
    equal_delays = sum(len(np.unique(conns[pairs == p][:, 3])) == 1 for p in unique[counts > 1])
    assert equal_delays < 0.8 * (counts > 1).sum()


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_every_population_fires(scenario, simulator):
    result = scenario(simulator, 11)
    for name in POPULATIONS:
        assert len(result[f"spikes_{name}"]) > 0, f"{name} is silent on {simulator}"


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_same_seed_same_spikes_other_seed_other_spikes(scenario, simulator):
    first = scenario(simulator, 11)
    again = scenario(simulator, 11, repeat=1)  # a second process, same seed
    other = scenario(simulator, 12)
    for name in POPULATIONS:
        np.testing.assert_array_equal(first[f"spikes_{name}"], again[f"spikes_{name}"])
    assert sum(len(first[f"spikes_{n}"]) for n in POPULATIONS) > 100
    assert any(not np.array_equal(first[f"spikes_{n}"], other[f"spikes_{n}"]) for n in POPULATIONS)


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_psp_amplitude_is_the_model_weight(simulator):
    """87.81 pA must give a 0.15 mV PSP on every simulator (NEURON needs its charge correction)."""
    import os
    import subprocess
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.run([sys.executable, os.path.join(here, "psp_scenario.py"), simulator],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    psp = float(proc.stdout.split("PSP")[-1])
    assert psp == pytest.approx(0.15, rel=0.01)
