"""pd14_pynn.validation.spike_statistics on synthetic spike trains with answers known by hand."""

import json
import logging
import warnings

import neo
import numpy as np
import pytest
import quantities as pq

from pd14_pynn import storage
from pd14_pynn.validation import spike_statistics
from pd14_pynn.validation.spike_statistics import restrict


def poisson_trains(rate_hz, duration_ms, n_trains, seed):
    rng = np.random.default_rng(seed)
    trains = []
    for _ in range(n_trains):
        n_max = int(rate_hz * duration_ms * 1e-3 * 2 + 50)
        times = np.cumsum(rng.exponential(1e3 / rate_hz, size=n_max))
        assert times[-1] > duration_ms  # enough intervals were drawn
        trains.append(neo.SpikeTrain(times[times < duration_ms], units="ms",
                                     t_stop=duration_ms))
    return trains


def make_block(trains_by_key, t_stop_ms, t_presim_ms):
    block = neo.Block()
    segment = neo.Segment()
    block.segments.append(segment)
    for (area, population), trains in trains_by_key.items():
        for index, times in trains:
            segment.spiketrains.append(neo.SpikeTrain(
                times, units="ms", t_stop=t_stop_ms, population=population, index=index,
                area=area))
    block.annotations["t_presim_ms"] = t_presim_ms
    return block


def test_poisson_rates_are_counts_over_duration_and_near_the_set_rate():
    trains = poisson_trains(20.0, 10_000.0, 100, seed=1)
    rates = spike_statistics.firing_rates(trains, 0.0, 10_000.0)
    counts = np.array([len(t) for t in trains])
    np.testing.assert_allclose(rates, counts / 10.0)  # 1/s, not 1/ms
    # standard error of the mean rate: sqrt(20 / (10 s * 100)) = 0.14/s
    assert abs(rates.mean() - 20.0) < 0.6


def test_poisson_cv_is_about_one():
    trains = poisson_trains(20.0, 10_000.0, 100, seed=2)
    cvs = spike_statistics.cv_isi(trains, 0.0, 10_000.0)
    assert cvs.size == 100
    assert abs(cvs.mean() - 1.0) < 0.05


def test_regular_train_has_cv_zero_and_exact_rate():
    regular = [neo.SpikeTrain(np.arange(5.0, 1000.0, 10.0), units="ms", t_stop=1000.0)]
    np.testing.assert_allclose(spike_statistics.cv_isi(regular, 0.0, 1000.0), [0.0], atol=1e-12)
    np.testing.assert_allclose(spike_statistics.firing_rates(regular, 0.0, 1000.0), [100.0])


def test_cv_by_hand_and_minimum_of_three_spikes():
    trains = [np.array([0.0, 10.0, 30.0]),   # intervals 10, 20: std 5 / mean 15
              np.array([0.0, 50.0])]          # one interval: no CV
    np.testing.assert_allclose(spike_statistics.cv_isi(trains, 0.0, 100.0), [1.0 / 3.0])


def test_window_is_half_open_and_accepts_quantities():
    train = [neo.SpikeTrain([50.0, 100.0, 200.0, 300.0], units="ms", t_stop=400.0)]
    # 100 and 200 are inside [100, 300); 300 is not
    np.testing.assert_allclose(spike_statistics.firing_rates(train, 100.0, 300.0), [10.0])
    np.testing.assert_allclose(
        spike_statistics.firing_rates(train, 0.1 * pq.s, 0.3 * pq.s), [10.0])


def test_window_outside_the_recording_is_refused():
    train = [neo.SpikeTrain([10.0], units="ms", t_stop=100.0)]
    with pytest.raises(ValueError, match="outside the recorded span"):
        spike_statistics.firing_rates(train, 0.0, 200.0)


def test_silent_neuron_rate_zero_no_cv_no_nan_correlation():
    active = np.arange(1.0, 1000.0, 7.3)
    trains = [neo.SpikeTrain(active, units="ms", t_stop=1000.0),
              neo.SpikeTrain([], units="ms", t_stop=1000.0),
              neo.SpikeTrain(active, units="ms", t_stop=1000.0)]
    rates = spike_statistics.firing_rates(trains, 0.0, 1000.0)
    assert rates[1] == 0.0 and rates[0] > 0
    assert spike_statistics.cv_isi(trains, 0.0, 1000.0).size == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no division-by-zero noise either
        cc = spike_statistics.pairwise_correlations(trains, 0.0, 1000.0)
    # three pairs, two involve the silent neuron and have no coefficient
    np.testing.assert_allclose(cc, [1.0])
    assert not np.isnan(cc).any()


def test_identical_trains_correlate_perfectly():
    trains = poisson_trains(30.0, 2000.0, 5, seed=3)
    identical = [trains[0]] * 4
    np.testing.assert_allclose(spike_statistics.pairwise_correlations(identical, 0.0, 2000.0),
                               np.ones(6))


def test_correlation_by_hand():
    # 2 ms bins over [0, 8): counts a = [1, 1, 0, 0], b = [1, 0, 0, 0]
    # covariance sum 0.5, variances 1 and 0.75 -> r = 0.5 / sqrt(0.75) = 1 / sqrt(3)
    trains = [np.array([0.5, 2.5]), np.array([1.0])]
    np.testing.assert_allclose(spike_statistics.pairwise_correlations(trains, 0.0, 8.0),
                               [1.0 / np.sqrt(3.0)])


def test_spike_a_hair_below_a_bin_edge_counts_in_the_next_bin_without_a_warning():
    # 4.0 - 1e-10 ms is 4.0 ms recorded with float rounding: bin 2, as b's 4.5 ms.
    # Counts a = [1, 0, 1, 0], b = [1, 0, 1, 0] -> r = 1 (in bin 1 it would be 0).
    # Elephant logs each such move on a logger of its own that does not propagate.
    import elephant.utils
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    elephant.utils.logger.addHandler(handler)
    try:
        r = spike_statistics.pairwise_correlations(
            [np.array([0.5, 4.0 - 1e-10]), np.array([1.0, 4.5])], 0.0, 8.0)
    finally:
        elephant.utils.logger.removeHandler(handler)
    np.testing.assert_allclose(r, [1.0])
    assert records == []
    assert elephant.utils.logger.level == logging.NOTSET  # restored after the binning


def test_partial_last_bin_is_dropped():
    # [0, 9) holds four whole 2 ms bins; the spikes at 8.5 lie in the partial fifth
    trains = [np.array([0.5, 2.5, 8.5]), np.array([1.0, 8.5])]
    np.testing.assert_allclose(spike_statistics.pairwise_correlations(trains, 0.0, 9.0),
                               [1.0 / np.sqrt(3.0)])


def test_correlation_sample_size_and_seeded_choice():
    trains = poisson_trains(40.0, 1000.0, 30, seed=4)
    first = spike_statistics.pairwise_correlations(trains, 0.0, 1000.0, n_neurons=10,
                                             rng=np.random.default_rng(7))
    again = spike_statistics.pairwise_correlations(trains, 0.0, 1000.0, n_neurons=10,
                                             rng=np.random.default_rng(7))
    other = spike_statistics.pairwise_correlations(trains, 0.0, 1000.0, n_neurons=10,
                                             rng=np.random.default_rng(8))
    assert first.size == 45  # every neuron fires at 40/s, so no pair is dropped
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    with pytest.raises(ValueError, match="rng"):
        spike_statistics.pairwise_correlations(trains, 0.0, 1000.0, n_neurons=10)


def test_group_by_population_orders_areas_populations_and_indices():
    block = make_block({("V1", "L4E"): [(1, [1.0]), (0, [2.0])],
                        ("V1", "L23E"): [(0, [3.0])],
                        ("V2", "L23E"): [(0, [4.0])]}, t_stop_ms=10.0, t_presim_ms=0.0)
    groups = spike_statistics.group_by_population(block)
    assert list(groups) == [("V1", "L23E"), ("V1", "L4E"), ("V2", "L23E")]
    assert [t.annotations["index"] for t in groups[("V1", "L4E")]] == [0, 1]
    assert spike_statistics.population_key(("V2", "L23E")) == "V2/L23E"
    assert spike_statistics.population_key(("", "L23E")) == "L23E"


def test_population_statistics_skips_the_presimulation():
    # 20 spikes in the presimulation [0, 100), 10 in the window [100, 200)
    times = np.concatenate([np.arange(0.0, 100.0, 5.0), np.arange(105.0, 200.0, 10.0)])
    block = make_block({("", "L23E"): [(0, times), (1, [])]}, t_stop_ms=200.0,
                       t_presim_ms=100.0)
    result = spike_statistics.population_statistics(block)
    np.testing.assert_allclose(result[("", "L23E")]["rate"], [100.0, 0.0])
    np.testing.assert_allclose(result[("", "L23E")]["cv"], [0.0], atol=1e-12)
    # one sample (2 neurons), whose only pair has a silent neuron
    assert len(result[("", "L23E")]["cc"]) == 1 and result[("", "L23E")]["cc"][0].size == 0


def test_run_statistics_takes_the_window_from_the_run_folder(tmp_path):
    times = np.arange(50.0, 400.0, 10.0)  # 35 spikes, 5 in the presimulation
    block = make_block({("", "L4E"): [(0, times)]}, t_stop_ms=400.0, t_presim_ms=100.0)
    storage.write_block(block, str(tmp_path / "spikes.pkl"))
    (tmp_path / "parameters.json").write_text(json.dumps({"t_presim_ms": 100.0,
                                                          "t_sim_ms": 200.0}))
    result = spike_statistics.run_statistics(str(tmp_path))
    # window [100, 300): spikes 100 ... 290 -> 20 spikes in 0.2 s
    np.testing.assert_allclose(result[("", "L4E")]["rate"], [100.0])


def test_restrict_tolerates_float_rounding_of_the_recorded_end():
    """NEURON's recording of a 10,500 ms run ends at 10499.99999998745 ms."""
    import neo
    import quantities as pq
    from pd14_pynn.validation.spike_statistics import restrict
    train = neo.SpikeTrain([100.0, 10499.9] * pq.ms, t_start=0 * pq.ms,
                           t_stop=10499.99999998745 * pq.ms)
    (kept,) = restrict([train], 500.0, 10500.0)
    assert list(kept.magnitude) == [10499.9]
    with pytest.raises(ValueError, match="outside the recorded span"):
        restrict([train], 500.0, 10500.1)


def test_rates_and_cvs_are_elephants():
    """The numpy rates and CVs equal Elephant's mean_firing_rate and cv(isi) per train."""
    from elephant.statistics import cv, isi, mean_firing_rate
    trains = poisson_trains(7.0, 3000.0, 40, seed=11)
    trains += [neo.SpikeTrain([], units="ms", t_stop=3000.0),
               neo.SpikeTrain([1200.0, 1500.5], units="ms", t_stop=3000.0)]
    t_start, t_stop = 250.0, 2750.0
    windowed = restrict(trains, t_start, t_stop)
    expected_rates = [float(mean_firing_rate(train).rescale(pq.Hz).magnitude)
                      for train in windowed]
    expected_cvs = [cv(isi(train).magnitude) for train in windowed if len(train) >= 3]
    np.testing.assert_allclose(spike_statistics.firing_rates(trains, t_start, t_stop),
                               expected_rates, rtol=1e-13, atol=0)
    cvs = spike_statistics.cv_isi(trains, t_start, t_stop)
    assert cvs.size == len(expected_cvs) < len(trains)
    np.testing.assert_allclose(cvs, expected_cvs, rtol=1e-13, atol=0)
    # plain arrays in ms give the same as the trains
    arrays = [train.magnitude for train in trains]
    np.testing.assert_array_equal(spike_statistics.cv_isi(arrays, t_start, t_stop), cvs)


def test_population_statistics_refuses_a_window_outside_the_recording():
    block = make_block({("", "L23E"): [(0, [10.0, 20.0])]}, t_stop_ms=200.0, t_presim_ms=0.0)
    with pytest.raises(ValueError, match="outside the recorded span"):
        spike_statistics.population_statistics(block, 100.0, 250.0)
    times = spike_statistics.spike_times_by_population(block)
    assert list(times) == [("", "L23E")]
    np.testing.assert_array_equal(times[("", "L23E")][0], [10.0, 20.0])


# --- several CC samples per population (issue 23, 6d) -----------------------------------

def test_neuron_samples_are_disjoint_seeded_and_the_first_is_the_old_single_sample():
    samples = spike_statistics.sample_neurons(1100, 250, 4, np.random.default_rng(5))
    assert [s.size for s in samples] == [250] * 4
    joined = np.concatenate(samples)
    assert np.unique(joined).size == 1000  # disjoint
    assert all(np.all(np.diff(s) > 0) for s in samples)  # sorted indices
    again = spike_statistics.sample_neurons(1100, 250, 4, np.random.default_rng(5))
    assert all(np.array_equal(a, b) for a, b in zip(samples, again))
    other = spike_statistics.sample_neurons(1100, 250, 4, np.random.default_rng(6))
    assert not np.array_equal(samples[1], other[1])
    # the first sample is what one rng.choice drew before several samples existed
    old = np.sort(np.random.default_rng(5).choice(1100, size=250, replace=False))
    np.testing.assert_array_equal(samples[0], old)


def test_number_of_neuron_samples_fits_the_population():
    rng = np.random.default_rng(0)
    assert len(spike_statistics.sample_neurons(600, 250, 4, rng)) == 2
    (everyone,) = spike_statistics.sample_neurons(106, 250, 4, rng)  # L5I at N = 0.1
    np.testing.assert_array_equal(everyone, np.arange(106))
    with pytest.raises(ValueError, match="n_samples"):
        spike_statistics.sample_neurons(600, 250, 0, rng)


def test_population_statistics_gives_one_cc_array_per_sample_seeded():
    trains = poisson_trains(40.0, 1000.0, 35, seed=9)
    block = make_block({("V1", "L5I"): list(enumerate(trains))}, t_stop_ms=1000.0,
                       t_presim_ms=0.0)
    result = spike_statistics.population_statistics(block, n_neurons_cc=10, n_samples_cc=4,
                                                    seed=3)
    cc = result[("V1", "L5I")]["cc"]
    assert len(cc) == 3  # 35 neurons hold three disjoint samples of 10
    assert [c.size for c in cc] == [45, 45, 45]
    assert spike_statistics.several_samples(cc) and not spike_statistics.several_samples(cc[0])
    assert spike_statistics.pooled(cc).size == 135
    again = spike_statistics.population_statistics(block, n_neurons_cc=10, n_samples_cc=4,
                                                   seed=3)[("V1", "L5I")]["cc"]
    assert all(np.array_equal(a, b) for a, b in zip(cc, again))
    # the single sample of before: one sample, equal to the first of several
    single = spike_statistics.population_statistics(block, n_neurons_cc=10, n_samples_cc=1,
                                                    seed=3)[("V1", "L5I")]["cc"]
    assert len(single) == 1
    np.testing.assert_array_equal(single[0], cc[0])
