"""pd14_pynn.validation.distances: KS and EMD, the seed-to-seed band, and the verdicts."""

import math

import numpy as np
import pytest

from pd14_pynn.validation import distances

KEY = ("", "L4E")


def sample(seed, shift=0.0, n=2000):
    return np.random.default_rng(seed).normal(0.0, 1.0, size=n) + shift


def run_stats(rate, cv=None, cc=None):
    """Statistics of one fake run with one population."""
    return {KEY: {"rate": np.asarray(rate, dtype=float),
                  "cv": np.asarray(rate if cv is None else cv, dtype=float),
                  "cc": np.asarray(rate if cc is None else cc, dtype=float)}}


def test_distance_of_a_sample_to_itself_is_zero():
    values = sample(1)
    assert distances.ks_distance(values, values) == 0.0
    assert distances.earth_movers_distance(values, values) == 0.0


def test_distances_grow_with_a_shift():
    values = sample(2)
    shifts = (0.1, 0.5, 1.0, 2.0)
    ks = [distances.ks_distance(values, values + s) for s in shifts]
    emd = [distances.earth_movers_distance(values, values + s) for s in shifts]
    assert all(a < b for a, b in zip(ks, ks[1:]))
    assert all(a < b for a, b in zip(emd, emd[1:]))
    # moving every value by s costs exactly s
    np.testing.assert_allclose(emd, shifts)
    assert 0 < ks[0] and ks[-1] <= 1


def test_ks_by_hand():
    # ECDFs of [1, 2] and [2, 3] differ most on [1, 2) and [2, 3): by 0.5
    assert distances.ks_distance([1.0, 2.0], [2.0, 3.0]) == pytest.approx(0.5)
    assert distances.earth_movers_distance([1.0, 2.0], [2.0, 3.0]) == pytest.approx(1.0)


def test_empty_sample_gives_nan_and_not_a_verdict():
    result = distances.compare_samples([], [1.0, 2.0])
    assert math.isnan(result["ks"]) and math.isnan(result["emd"])
    assert (result["n_a"], result["n_b"]) == (0, 2)
    assert distances.verdict(result["ks"], 0.3) == distances.NOT_APPLICABLE
    assert distances.verdict(0.1, float("nan")) == distances.NOT_APPLICABLE


def test_verdict_is_distance_within_band():
    assert distances.verdict(0.1, 0.2) == distances.PASS
    assert distances.verdict(0.2, 0.2) == distances.PASS
    assert distances.verdict(0.21, 0.2) == distances.FAIL


def test_seed_baseline_takes_all_pairs_max_and_mean():
    runs = [run_stats(sample(10)), run_stats(sample(11, 0.1)), run_stats(sample(12, 0.3))]
    band = distances.seed_baseline(runs)[KEY]["rate"]
    pairwise = [distances.ks_distance(runs[i][KEY]["rate"], runs[j][KEY]["rate"])
                for i, j in ((0, 1), (0, 2), (1, 2))]
    assert band["n_pairs"] == 3
    assert band["ks_max"] == pytest.approx(max(pairwise))
    assert band["ks_mean"] == pytest.approx(np.mean(pairwise))
    assert band["sample_sizes"] == [2000, 2000]
    with pytest.raises(ValueError, match=">= 2 runs"):
        distances.seed_baseline(runs[:1])


def test_cross_distances_average_over_every_pair_of_runs():
    a = [run_stats(sample(20)), run_stats(sample(21))]
    b = [run_stats(sample(22, 0.5))]
    cross = distances.cross_distances(a, b)[KEY]["rate"]
    expected = [distances.ks_distance(run[KEY]["rate"], b[0][KEY]["rate"]) for run in a]
    assert cross["n_pairs"] == 2
    assert cross["ks_mean"] == pytest.approx(np.mean(expected))
    assert cross["ks_max"] == pytest.approx(max(expected))


def test_judge_passes_a_seed_like_difference_and_fails_a_shift():
    reference = [run_stats(sample(30)), run_stats(sample(31))]
    band = distances.seed_baseline(reference)
    alike = distances.judge(distances.cross_distances(reference, [run_stats(sample(32))]),
                            band)
    shifted = distances.judge(
        distances.cross_distances(reference, [run_stats(sample(33, shift=1.0))]), band)
    assert alike[KEY]["rate"]["verdict"] == distances.PASS
    assert shifted[KEY]["rate"]["verdict"] == distances.FAIL
    assert shifted[KEY]["rate"]["emd_verdict"] == distances.FAIL
    assert shifted[KEY]["rate"]["band_ks"] == pytest.approx(band[KEY]["rate"]["ks_max"])
    assert distances.overall_verdict(alike) == distances.PASS
    assert distances.overall_verdict(shifted) == distances.FAIL


def test_one_empty_sample_makes_the_cell_not_applicable():
    reference = [run_stats(sample(40), cv=[]), run_stats(sample(41), cv=sample(42))]
    other = [run_stats(sample(43))]
    cells = distances.judge(distances.cross_distances(reference, other),
                            distances.seed_baseline(reference))
    assert cells[KEY]["cv"]["verdict"] == distances.NOT_APPLICABLE
    assert cells[KEY]["rate"]["verdict"] != distances.NOT_APPLICABLE
    counts = distances.count_verdicts(cells)
    assert counts[distances.NOT_APPLICABLE] == 1 and sum(counts.values()) == 3


def test_overall_verdict_not_applicable_when_nothing_decided():
    cells = {KEY: {"rate": {"verdict": distances.NOT_APPLICABLE}}}
    assert distances.overall_verdict(cells) == distances.NOT_APPLICABLE
    assert distances.combine_verdicts(["pass", "n/a", "fail"]) == distances.FAIL
    assert distances.combine_verdicts(["n/a", "pass"]) == distances.PASS
    assert distances.combine_verdicts([]) == distances.NOT_APPLICABLE


def test_populations_missing_in_a_run_are_left_out():
    a = run_stats(sample(50))
    b = {**run_stats(sample(51)), ("", "L5E"): run_stats(sample(52))[KEY]}
    assert list(distances.run_distances(a, b)) == [KEY]


def test_pair_table_gives_ks_of_every_pair_of_runs(tmp_path):
    from pd14_pynn.validation.pairs import load_samples, pair_table
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 500), rng.normal(0, 1, 500)
    c = a + 1.0  # shifted: far from a and b
    np.savez(tmp_path / "samples.npz", **{"nest_seed_55/L4I/rate": a,
                                           "nest_seed_56/L4I/rate": b,
                                           "brian2_seed_55/L4I/rate": c,
                                           "brian2_seed_55/L4I/cv": c})
    names, matrix = pair_table(load_samples(str(tmp_path)), "L4I", "rate")
    assert names == ["brian2_seed_55", "nest_seed_55", "nest_seed_56"]
    np.testing.assert_allclose(np.diag(matrix), 0.0)
    np.testing.assert_allclose(matrix, matrix.T)
    assert matrix[1, 2] < 0.1 < 0.3 < matrix[0, 1]


# --- several CC samples per population (issue 23, 6d) -----------------------------------

def grid(shift, n=4000):
    """A sample whose ECDF is the normal CDF shifted by ``shift`` (no sampling noise):
    the KS distance of two such samples is about 0.4 x the difference of shifts."""
    from scipy.stats import norm
    return norm.ppf((np.arange(n) + 0.5) / n) + shift


def cc_runs(shifts_per_run):
    """Fake runs whose "cc" is a list of samples, sample j shifted by shifts[j]."""
    return [{KEY: {"cc": [grid(s) for s in shifts]}} for shifts in shifts_per_run]


def test_one_atypical_sample_fails_alone_but_not_the_average():
    # NEST seeds: every sample shifted by 0, 0.05, 0.1 -> band ~0.04 per sample
    nest = cc_runs([[0.0] * 4, [0.05] * 4, [0.1] * 4])
    # the other simulator: sample 0 atypical (0.2), samples 1-3 typical (0.05)
    other = cc_runs([[0.2, 0.05, 0.05, 0.05]])
    band = distances.seed_baseline(nest)
    cell = distances.judge(distances.cross_distances(nest, other), band)[KEY]["cc"]
    # judged on the first sample alone (the single sample of before), it fails
    first = [{KEY: {"cc": run[KEY]["cc"][0]}} for run in nest + other]
    alone = distances.judge(distances.cross_distances(first[:3], first[3:]),
                            distances.seed_baseline(first[:3]))[KEY]["cc"]
    assert alone["verdict"] == distances.FAIL and "samples" not in alone
    assert cell["verdict"] == distances.PASS
    samples = cell["samples"]
    assert samples["n"] == 4
    assert samples["verdicts"] == [distances.FAIL] + [distances.PASS] * 3
    assert samples["ks"][0] == pytest.approx(alone["ks"])
    assert samples["band_ks"][0] == pytest.approx(alone["band_ks"])
    # distance and band of the verdict: the means over the samples
    assert cell["ks"] == pytest.approx(np.mean(samples["ks"]))
    assert cell["band_ks"] == pytest.approx(np.mean(samples["band_ks"]))
    assert cell["ks"] <= cell["band_ks"] < alone["ks"]


def test_one_sample_in_a_list_judges_as_the_array():
    nest = [run_stats(sample(s)) for s in (1, 2, 3)]
    other = [run_stats(sample(4, 0.05))]
    listed = [{KEY: {**stats[KEY], "cc": [stats[KEY]["cc"]]}} for stats in nest + other]
    plain = distances.judge(distances.cross_distances(nest, other),
                            distances.seed_baseline(nest))[KEY]["cc"]
    as_list = distances.judge(distances.cross_distances(listed[:3], listed[3:]),
                              distances.seed_baseline(listed[:3]))[KEY]["cc"]
    for field in ("ks", "band_ks", "emd", "band_emd", "verdict", "sample_sizes"):
        assert as_list[field] == plain[field], field
    assert as_list["samples"]["n"] == 1


def test_an_empty_sample_makes_the_averaged_cell_undecided():
    nest = cc_runs([[0.0, 0.0], [0.05, 0.05]])
    nest[0][KEY]["cc"][1] = np.array([])
    cell = distances.judge(distances.cross_distances(nest, cc_runs([[0.0, 0.0]])),
                           distances.seed_baseline(nest))[KEY]["cc"]
    assert cell["verdict"] == distances.NOT_APPLICABLE
    assert cell["samples"]["verdicts"][1] == distances.NOT_APPLICABLE
