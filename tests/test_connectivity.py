"""Numpy connectivity: counts, distributions, redraws, grids, seeds, MPI split."""

import numpy as np
import pytest
from scipy import stats

from pd14_pynn.connectivity import ProjectionSpec, draw_connections, on_grid, seed_sequence


def spec(n=200_000, w=87.81, sd=8.781, d=1.5, dsd=0.75, seed=(1, 2, 3)):
    return ProjectionSpec(n, w, sd, d, dsd, 0.1, seed)


def test_exact_count_and_index_ranges():
    src, tgt, w, d = draw_connections(spec(n=12345), 50, 70)
    assert len(src) == len(tgt) == len(w) == len(d) == 12345
    assert src.min() >= 0 and src.max() < 50 and tgt.min() >= 0 and tgt.max() < 70


def test_weights_redrawn_to_keep_sign():
    # a wide distribution: a clipped one would pile values at exactly 0
    _, _, w, _ = draw_connections(spec(w=1.0, sd=2.0), 100, 100)
    assert np.all(w > 0)
    expected_mean = stats.truncnorm(-0.5, np.inf, loc=1.0, scale=2.0).mean()
    assert w.mean() == pytest.approx(expected_mean, rel=0.02)
    _, _, w_inh, _ = draw_connections(spec(w=-1.0, sd=2.0), 100, 100)
    assert np.all(w_inh < 0)


def test_delays_redrawn_and_on_grid():
    _, _, _, d = draw_connections(spec(d=0.75, dsd=0.375), 100, 100)
    assert d.min() == pytest.approx(0.1)
    steps = d / 0.1
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)
    # redraw below 0.1 ms (not clipping) -> truncated normal, then rounding
    expected = stats.truncnorm((0.1 - 0.75) / 0.375, np.inf, loc=0.75, scale=0.375).mean()
    assert d.mean() == pytest.approx(expected, rel=0.01)
    assert np.mean(d == pytest.approx(0.1)) < 0.05


def test_on_grid_rounds_to_nearest_step():
    np.testing.assert_allclose(on_grid([0.14, 0.15000001, 1.26, 0.04], 0.1), [0.1, 0.2, 1.3, 0.1])


def test_same_seed_same_network_other_seed_other_network():
    a = draw_connections(spec(seed=(5, 1)), 300, 300)
    b = draw_connections(spec(seed=(5, 1)), 300, 300)
    c = draw_connections(spec(seed=(5, 2)), 300, 300)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(a[2], c[2])


def test_seed_keys_give_independent_streams():
    # PyNN trap: a shared NumpyRNG gives projections the same stream. Keys differ -> draws differ.
    k1, k2 = seed_sequence(55, "", "connections", "L23E", "L4E"), seed_sequence(55, "", "connections", "L4E", "L23E")
    assert k1 != k2
    a = draw_connections(spec(seed=k1), 100, 100)
    b = draw_connections(spec(seed=k2), 100, 100)
    assert not np.array_equal(a[0], b[0]) and not np.array_equal(a[2], b[2])
    # stable across processes: CRC32, not Python's salted hash
    assert seed_sequence(55, "V1", "x") == (55, 4242991127, 2363233923)  # CRC-32 of "V1", "x"


def test_local_split_reassembles_the_whole_network():
    """What an MPI rank keeps (its targets) is exactly its share of one global network."""
    whole = draw_connections(spec(n=5000), 40, 30)
    owner = np.arange(30) % 3
    parts = [draw_connections(spec(n=5000), 40, 30, local_targets=owner == r) for r in range(3)]
    assert sum(len(p[0]) for p in parts) == 5000
    merged = sorted(zip(*[np.concatenate([p[i] for p in parts]) for i in range(4)]))
    assert merged == sorted(zip(*whole))


def test_multapses_have_distinct_weights():
    src, tgt, w, _ = draw_connections(spec(n=20_000), 50, 50)
    pairs = src.astype(np.int64) * 50 + tgt
    _, inverse, counts = np.unique(pairs, return_inverse=True, return_counts=True)
    multi = counts[inverse] > 1
    assert multi.sum() > 1000
    first = np.flatnonzero(multi)[0]
    same_pair = np.flatnonzero(pairs == pairs[first])
    assert len(np.unique(w[same_pair])) == len(same_pair)
