"""Thalamic response statistics on synthetic spike trains with hand-computed answers."""

import numpy as np
import pytest

from pd14_pynn.spike_tables import PopulationSpikes
from pd14_pynn.validation import response

N_NEURONS = 10


def _population(pulse_ms=705.0, pulse_spikes=20, size=N_NEURONS):
    """Bins [600 + i, 601 + i): 1 spike if i is even, 3 if odd; plus ``pulse_spikes``
    spikes in the bin that starts at ``pulse_ms``. Neuron indices are irrelevant to
    the PSTH; they cycle through the population."""
    times = []
    for i in range(300):
        times += [600 + i + 0.5] if i % 2 == 0 else [600 + i + 0.25, 600 + i + 0.5, 600 + i + 0.75]
    times += [pulse_ms + 0.3] * pulse_spikes
    times = np.sort(np.array(times))
    return PopulationSpikes(np.arange(times.size) % size, times, size)


def test_psth_is_count_per_neuron_and_second():
    edges, rate = response.psth(_population(), 600.0, 900.0, 1.0)
    assert edges[0] == 600.0 and edges[-1] == 900.0 and rate.size == 300
    # 1 spike in a 1 ms bin among 10 neurons: 1 / (10 * 0.001 s) = 100 /s
    assert rate[0] == pytest.approx(100.0) and rate[1] == pytest.approx(300.0)
    assert rate[105] == pytest.approx((3 + 20) * 100.0)
    # silent neurons count: 20 neurons halve the rate
    _, rate20 = response.psth(_population(size=20), 600.0, 900.0, 1.0)
    np.testing.assert_allclose(rate20, rate / 2)
    # a spike exactly on an edge belongs to the bin that starts there; 2 ms bins add pairs
    spikes = PopulationSpikes(np.array([0, 0, 0]), np.array([599.9, 600.0, 601.0]), 1)
    _, rate2 = response.psth(spikes, 600.0, 604.0, 2.0)
    np.testing.assert_allclose(rate2, [1000.0, 0.0])
    with pytest.raises(ValueError, match="multiple of the bin width"):
        response.psth(spikes, 600.0, 601.5, 1.0)


def test_smooth_is_a_centred_moving_average():
    smoothed = response.smooth([0, 0, 5, 0, 0, 10, 0], 3)
    assert np.isnan(smoothed[0]) and np.isnan(smoothed[-1])
    np.testing.assert_allclose(smoothed[1:-1], [5 / 3, 5 / 3, 5 / 3, 10 / 3, 10 / 3])
    with pytest.raises(ValueError, match="odd"):
        response.smooth([1, 2, 3], 2)


def test_features_of_a_known_response():
    edges, rate = response.psth(_population(), 600.0, 900.0)
    features = response.response_features(edges, rate, onset_ms=700.0, smooth_bins=5, k_sd=2.0)
    # before 700 ms: bins alternate 100 and 300 /s, mean 200; smoothed over 5 bins they
    # alternate 180 and 220 (48 bins each whose window ends by 700 ms): SD 20
    assert features["baseline_hz"] == pytest.approx(200.0)
    assert features["baseline_sd_hz"] == pytest.approx(20.0)
    assert features["peak_hz"] == pytest.approx(2300.0)
    assert features["peak_ms"] == 705.0 and features["latency_ms"] == pytest.approx(5.0)
    # smoothed bins 706 and 707 still hold the pulse; bin 708 (window 706-710) is
    # 180 or 220, inside 200 +- 2 x 20: return at 708 ms, 8 ms after the onset
    assert features["return_ms"] == pytest.approx(8.0)


def test_a_later_burst_is_not_the_peak():
    # the evoked peak at 705 ms (2300 /s) and a larger spontaneous burst at 820 ms:
    # the peak is searched only up to 50 ms after the onset
    spikes = _population()
    burst = PopulationSpikes(spikes.index, np.concatenate([spikes.times_ms,
                             np.full(300, 820.5)]), spikes.size)
    edges, rate = response.psth(burst, 600.0, 900.0)
    assert rate[220] > 2300.0  # the bin [820, 821) is the largest after the onset
    features = response.response_features(edges, rate, 700.0)
    assert features["peak_ms"] == 705.0 and features["peak_hz"] == pytest.approx(2300.0)
    # over the whole window the burst would win
    whole = response.response_features(edges, rate, 700.0, search_ms=200.0)
    assert whole["peak_ms"] == 820.0


def test_no_return_inside_the_window_is_nan():
    spikes = _population()
    late = PopulationSpikes(spikes.index, np.concatenate([spikes.times_ms,
                            np.repeat(np.arange(705.5, 900.0), 30)]), spikes.size)
    edges, rate = response.psth(late)
    assert np.isnan(response.response_features(edges, rate, 700.0)["return_ms"])
    with pytest.raises(ValueError, match="onset"):
        response.response_features(edges, rate, 600.0)


def _trial(pulse_ms):
    return response.population_responses({"L4E": _population(pulse_ms)}, onset_ms=700.0)


def test_band_cross_distance_and_verdict():
    a = [_trial(705.0), _trial(706.0)]
    band = response.trial_band(a, 700.0)
    assert band["L4E"]["latency"] == {"mean": 1.0, "max": 1.0, "n_pairs": 1}
    # peaks: bin 705 (odd) holds 3 + 20 spikes, bin 706 (even) 1 + 20: 2300 vs 2100 /s
    assert band["L4E"]["peak"]["max"] == pytest.approx(200.0)
    assert band["L4E"]["psth"]["max"] > 0
    # identical trials are at distance 0
    same = response.feature_distances(a[0]["L4E"], a[0]["L4E"], 700.0)
    assert same["psth"] == 0.0 and same["latency"] == 0.0 and same["return"] == 0.0

    late = response.judge_responses(response.cross_trials(a, [_trial(715.0)], 700.0), band)
    # latencies 5 and 6 against 15: mean distance (10 + 9) / 2 = 9.5 > band 1
    assert late["L4E"]["latency"]["distance"] == pytest.approx(9.5)
    assert late["L4E"]["latency"]["verdict"] == response.FAIL
    near = response.judge_responses(response.cross_trials(a, [_trial(705.0)], 700.0), band)
    # (0 + 1) / 2 = 0.5 <= 1
    assert near["L4E"]["latency"]["verdict"] == response.PASS
    assert near["L4E"]["latency"]["distance"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match=">= 2 trials"):
        response.trial_band(a[:1], 700.0)


def test_psth_distance_is_rms_of_smoothed_difference():
    a, b = _trial(705.0)["L4E"], _trial(705.0)["L4E"]
    b = {**b, "rate_hz": b["rate_hz"] + 30.0}  # a constant offset of 30 /s
    assert response.psth_distance(a, b, 700.0) == pytest.approx(30.0)


def test_mean_features_over_trials():
    means = response.mean_features([_trial(705.0), _trial(709.0)])
    assert means["L4E"]["latency_ms"] == pytest.approx((7.0, 2.0))


def test_feature_tests_compare_per_trial_values():
    early = [_trial(704.0 + (i % 2)) for i in range(6)]   # latencies 4, 5, 4, 5, 4, 5 ms
    late = [_trial(710.0 + (i % 2)) for i in range(6)]    # 10, 11, ...
    tests = response.feature_tests(early, late)
    latency = tests["L4E"]["latency_ms"]
    assert (latency["median_a"], latency["median_b"]) == (4.5, 10.5)
    assert (latency["n_a"], latency["n_b"]) == (6, 6)
    # complete separation of 6 and 6 values (with ties inside each group): U = 0;
    # scipy's two-sided p for it is below 0.01
    assert latency["p"] < 0.01
    same = response.feature_tests(early, [_trial(704.0 + (i % 2)) for i in range(6)])
    assert same["L4E"]["latency_ms"]["p"] == pytest.approx(1.0)
    assert np.isnan(response.feature_tests(early[:1], late)["L4E"]["latency_ms"]["p"])


def test_psth_figure(tmp_path):
    from pd14_pynn.validation import figures
    trials = {"nest": [_trial(705.0), _trial(706.0)], "brian2": [_trial(707.0)]}
    path = figures.response_psths(trials, 700.0, 710.0, str(tmp_path / "psth.png"))
    assert path.endswith("psth.png") and (tmp_path / "psth.png").stat().st_size > 1000
