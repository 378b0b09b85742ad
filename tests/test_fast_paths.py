"""The fast paths build the network that the generic PyNN path builds (issue 3).

The generic path hands the numpy-drawn arrays to PyNN's ``_convergent_connect``
target by target. On NEURON and Brian2 the fast path draws the same arrays, so
the networks must be identical; on NEST the fast path draws with NEST's RNG
(same counts, same distributions), or, with ``connectivity_rng="numpy"``, the
numpy arrays (identical again, and identical across simulators).
"""

import numpy as np
import pytest
from scipy import stats

from scenario import DUMPED

TINY = 0.01  # Brian2's generic path assigns values pair by pair: ~1 ms per synapse


def sorted_rows(conns):
    """Connections (pre, post, weight, delay) in lexicographic order."""
    return conns[np.lexsort(conns.T[::-1])]


def ks_critical(n, m, alpha=1e-3):
    """Two-sample Kolmogorov-Smirnov critical distance at level ``alpha``."""
    return np.sqrt(-np.log(alpha / 2) / 2) * np.sqrt((n + m) / (n * m))


@pytest.mark.parametrize("target, source", DUMPED)
def test_neuron_fast_path_builds_the_generic_network(scenario, target, source):
    fast, generic = scenario("neuron", 11), scenario("neuron", 11, fast=False)
    np.testing.assert_array_equal(fast["counts"], generic["counts"])
    key = f"conn_{target}_{source}"
    np.testing.assert_allclose(sorted_rows(fast[key]), sorted_rows(generic[key]),
                               rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("target, source", DUMPED)
def test_nest_numpy_rng_builds_the_generic_network(scenario, target, source):
    fast, generic = scenario("nest", 11, rng="numpy"), scenario("nest", 11, fast=False)
    np.testing.assert_array_equal(fast["counts"], generic["counts"])
    key = f"conn_{target}_{source}"
    np.testing.assert_allclose(sorted_rows(fast[key]), sorted_rows(generic[key]),
                               rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("simulator", ("neuron", "brian2"))
def test_numpy_rng_gives_every_simulator_the_same_network(scenario, simulator):
    nest = scenario("nest", 11, rng="numpy")
    other = scenario(simulator, 11)
    np.testing.assert_array_equal(nest["counts"], other["counts"])
    for target, source in DUMPED:
        key = f"conn_{target}_{source}"
        np.testing.assert_allclose(sorted_rows(nest[key]), sorted_rows(other[key]),
                                   rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("target, source", DUMPED)
def test_nest_native_rng_matches_the_generic_distributions(scenario, target, source):
    fast, generic = scenario("nest", 11), scenario("nest", 11, fast=False)
    np.testing.assert_array_equal(fast["counts"], generic["counts"])
    key = f"conn_{target}_{source}"
    a, b = fast[key], generic[key]
    assert not np.array_equal(sorted_rows(a), sorted_rows(b))  # NEST drew its own network
    n_post = int(max(a[:, 1].max(), b[:, 1].max())) + 1
    n_pre = int(max(a[:, 0].max(), b[:, 0].max())) + 1
    samples = {
        "weight": (a[:, 2], b[:, 2]),
        "delay": (a[:, 3], b[:, 3]),
        "in-degree": (np.bincount(a[:, 1].astype(int), minlength=n_post),
                      np.bincount(b[:, 1].astype(int), minlength=n_post)),
        "out-degree": (np.bincount(a[:, 0].astype(int), minlength=n_pre),
                       np.bincount(b[:, 0].astype(int), minlength=n_pre)),
    }
    for name, (x, y) in samples.items():
        distance = stats.ks_2samp(x, y).statistic
        assert distance < ks_critical(len(x), len(y)), (name, distance)


def test_brian2_fast_path_builds_the_generic_connections(scenario):
    fast = scenario("brian2", 11, scale=TINY)
    generic = scenario("brian2", 11, fast=False, scale=TINY)
    np.testing.assert_array_equal(fast["counts"], generic["counts"])
    for target, source in DUMPED:
        key = f"conn_{target}_{source}"
        a, b = sorted_rows(fast[key]), sorted_rows(generic[key])
        np.testing.assert_array_equal(a[:, :2], b[:, :2])
        # PyNN's generic path gives all multapses of a pair one weight and delay
        # (tests/test_simulators.py checks that the fast path does not); pairs
        # connected once must carry the same values on both paths
        pairs, counts = np.unique(a[:, :2], axis=0, return_counts=True)
        single = {tuple(p) for p in pairs[counts == 1]}
        once = np.array([tuple(row) in single for row in a[:, :2]])
        assert once.sum() > 0.5 * len(a)
        np.testing.assert_allclose(a[once, 2:], b[once, 2:], rtol=1e-9, atol=1e-9)


def test_brian2_multapse_numbers_are_brians_own():
    """The fast path's multisynaptic index equals Brian2's (which it replaces for speed)."""
    from brian2.utils.arrays import calc_repeats

    from pd14_pynn.backends.brian2 import multapse_numbers
    rng = np.random.default_rng(3)
    sources, targets = rng.integers(0, 30, 20_000), rng.integers(0, 20, 20_000)
    numbers = multapse_numbers(sources, targets, 20)
    np.testing.assert_array_equal(numbers, calc_repeats(sources + targets * 1j))
    assert numbers.max() > 30  # many multapses: the test exercises the numbering
    np.testing.assert_array_equal(multapse_numbers(np.array([7, 5, 7, 3, 7, 5]),
                                                   np.zeros(6, dtype=int), 1),
                                  [0, 0, 1, 0, 2, 1])
