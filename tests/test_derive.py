"""Derived quantities against hand-computed values (numbers from the model description)."""

import numpy as np
import pytest

from pd14_pynn import derive, parameters
from pd14_pynn.parameters import POPULATIONS


def full_scale(**overrides):
    return parameters.resolve({"N_scaling": 1, "K_scaling": 1, **overrides})


def test_full_scale_synapse_total():
    assert derive.full_scale_synapse_total(parameters.default_parameters()) == 298_880_968
    assert derive.derive(full_scale())["num_synapses"].sum() == 298_880_968


def test_synapse_count_formula_single_value():
    # K = ln(1 - 0.1009) / ln(1 - 1 / 20683^2) for L23E -> L23E
    expected = np.log(1 - 0.1009) / np.log(1 - 1 / 20683 ** 2)
    assert derive.synapse_counts([[0.1009]], [20683], [20683])[0, 0] == pytest.approx(expected)
    # for large N, ln(1 - 1/N^2) ~ -1/N^2: K ~ -ln(1 - C) N^2 = 0.1063545 * 427,786,489
    assert expected == pytest.approx(45_499_805, rel=1e-6)


def test_psc_from_psp():
    assert derive.psc_per_psp(250.0, 10.0, 0.5) * 0.15 == pytest.approx(87.81, abs=0.005)


def test_dc_background_per_population():
    expected = [561.97, 526.85, 737.59, 667.34, 702.47, 667.34, 1018.58, 737.59]
    dc = derive.derive(full_scale(background="dc"))["dc_pA"]
    np.testing.assert_allclose(dc, expected, atol=0.01)


def test_full_scale_poisson_has_no_dc():
    d = derive.derive(full_scale(background="poisson"))
    np.testing.assert_array_equal(d["dc_pA"], 0.0)
    np.testing.assert_array_equal(d["poisson_rate_hz"], np.array(parameters.default_parameters()["K_ext"]) * 8.0)


def test_scaled_neuron_counts_numpy_rounding():
    counts = derive.scaled_neuron_counts(parameters.default_parameters()["full_num_neurons"], 0.1)
    np.testing.assert_array_equal(counts, [2068, 583, 2192, 548, 485, 106, 1440, 295])


def test_weight_matrix_signs_and_l4e_to_l23e():
    w = derive.weight_matrix(87.81, -4.0, 2.0)
    exc = [POPULATIONS.index(n) for n in POPULATIONS if n.endswith("E")]
    inh = [POPULATIONS.index(n) for n in POPULATIONS if n.endswith("I")]
    assert np.all(w[:, inh] == pytest.approx(-351.24))
    assert w[POPULATIONS.index("L23E"), POPULATIONS.index("L4E")] == pytest.approx(175.62)
    assert w[POPULATIONS.index("L4E"), POPULATIONS.index("L23E")] == pytest.approx(87.81)
    assert np.all(w[:, exc] > 0)


def test_scaling_of_counts_weights_and_indegrees():
    full = derive.derive(full_scale())
    scaled = derive.derive(parameters.resolve({"N_scaling": 0.1, "K_scaling": 0.25}))
    # synapse numbers scale with N_scaling * K_scaling (rounded once)
    full_float = derive.synapse_counts(parameters.default_parameters()["conn_probs"],
                                       *[parameters.default_parameters()["full_num_neurons"]] * 2)
    np.testing.assert_array_equal(scaled["num_synapses"], np.round(full_float * 0.025))
    np.testing.assert_allclose(scaled["weights_pA"], full["weights_pA"] / 0.5)
    np.testing.assert_array_equal(scaled["K_ext"], np.round(np.array(full["K_ext"]) * 0.25))
    assert scaled["psc_ext_pA"] == pytest.approx(full["psc_ext_pA"] * 2)


def _input_moments(d, params):
    """Mean (pA) and variance (pA^2) of the input current per population, shot-noise theory.

    Uses full-scale rates; in-degrees = synapses / target neurons.
    """
    tau = params["tau_syn_ms"] * 1e-3
    rates = np.asarray(params["full_mean_rates_hz"])
    indeg = d["num_synapses"] / d["num_neurons"][:, None]
    mean = tau * (indeg * d["weights_pA"] * rates).sum(axis=1) + d["dc_pA"]
    var = tau / 2 * (indeg * d["weights_pA"] ** 2 * rates).sum(axis=1)
    if params["background"] == "poisson":
        mean = mean + tau * d["K_ext"] * d["psc_ext_pA"] * params["bg_rate_hz"]
        var = var + tau / 2 * d["K_ext"] * d["psc_ext_pA"] ** 2 * params["bg_rate_hz"]
    return mean, var


@pytest.mark.parametrize("background", ["poisson", "dc"])
@pytest.mark.parametrize("k_scaling", [0.5, 0.1])
def test_k_scaling_keeps_mean_and_variance_of_input(background, k_scaling):
    """Physics, not code: with DC compensation, K-scaling keeps each neuron's input moments."""
    p_full = full_scale(background=background)
    p_scaled = parameters.resolve({"N_scaling": 1, "K_scaling": k_scaling, "background": background})
    mean_full, var_full = _input_moments(derive.derive(p_full), p_full)
    mean_scaled, var_scaled = _input_moments(derive.derive(p_scaled), p_scaled)
    # rounding of synapse counts and K_ext leaves errors well below 1 %
    np.testing.assert_allclose(mean_scaled, mean_full, rtol=2e-3)
    np.testing.assert_allclose(var_scaled, var_full, rtol=1e-2 if background == "dc" else 1e-2)


def test_thalamic_synapses_scale_with_n_and_k():
    full = derive.derive(full_scale(thalamic_input=True))["thalamic_synapses"]
    half = derive.derive(parameters.resolve({"N_scaling": 0.5, "K_scaling": 0.5}))["thalamic_synapses"]
    assert full[POPULATIONS.index("L23E")] == 0
    k = np.log(1 - 0.0983) / np.log(1 - 1 / (21915 * 902))
    assert full[POPULATIONS.index("L4E")] == round(k)
    np.testing.assert_allclose(half, full * 0.25, atol=1)


@pytest.mark.parametrize("rule, expected", [
    # full-scale totals ln(1 - C) / ln(1 - 1/(N_target 902)) for L4E, L4I, L6E, L6I
    # (C = 0.0983, 0.0619, 0.0512, 0.0196): 2045392.96, 315791.18, 682418.56, 52635.80;
    # at N_scaling = 0.1, K_scaling = 0.2:
    ("in_degree", [40908, 6316, 13648, 1053]),  # x 0.1 x 0.2, rounded
    ("total", [409079, 63158, 136484, 10527]),  # x 0.2 only (PyNEST reference)
])
def test_thalamic_synapse_scaling_rules(rule, expected):
    p = parameters.resolve({"N_scaling": 0.1, "K_scaling": 0.2, "thalamic_input": True,
                            "thalamic_synapse_scaling": rule})
    counts = derive.derive(p)["thalamic_synapses"]
    targets = [POPULATIONS.index(name) for name in ("L4E", "L4I", "L6E", "L6I")]
    assert counts[targets].tolist() == expected
    assert counts[[i for i in range(8) if i not in targets]].tolist() == [0, 0, 0, 0]
    # the weight is the same under both rules: J / sqrt(K_scaling)
    weight = derive.derive(p)["thalamic_weight_pA"]
    assert weight == pytest.approx(0.15 * derive.psc_per_psp(250, 10, 0.5) / np.sqrt(0.2))


def test_thalamic_rules_differ_by_n_scaling_only():
    """In-degree per neuron: "total" is 1 / N_scaling times "in_degree"; equal at N = 1."""
    def indegree(rule, n_scaling):
        p = parameters.resolve({"N_scaling": n_scaling, "K_scaling": 0.5,
                                "thalamic_synapse_scaling": rule})
        d = derive.derive(p)
        return d["thalamic_synapses"] / d["num_neurons"]
    np.testing.assert_array_equal(indegree("total", 1.0), indegree("in_degree", 1.0))
    np.testing.assert_allclose(indegree("total", 0.25), 4 * indegree("in_degree", 0.25),
                               rtol=1e-4)
    # "in_degree" keeps the in-degree at K_scaling x full scale whatever N_scaling is
    # (up to the rounding of population sizes, < 1e-3 here)
    np.testing.assert_allclose(indegree("in_degree", 0.25), indegree("in_degree", 1.0),
                               rtol=1e-3)
    with pytest.raises(parameters.ParameterError, match="thalamic_synapse_scaling"):
        parameters.resolve({"thalamic_synapse_scaling": "linear"})


def test_background_fraction_scales_background_only():
    p_dc = parameters.resolve({"N_scaling": 1, "K_scaling": 0.5, "background": "dc"})
    full, half = derive.derive(p_dc), derive.derive(p_dc, background_fraction=[0.5] + [1.0] * 7)
    bg = derive.dc_background(8.0, 1600, derive.psc_per_psp(250, 10, 0.5) * 0.15, 0.5)
    # only L23E changes, by half its DC background; the K-scaling compensation stays
    assert full["dc_pA"][0] - half["dc_pA"][0] == pytest.approx(bg / 2)
    np.testing.assert_array_equal(full["dc_pA"][1:], half["dc_pA"][1:])
    p_po = parameters.resolve({"background": "poisson"})
    d = derive.derive(p_po, background_fraction=[0.25] * 8)
    np.testing.assert_allclose(d["poisson_rate_hz"], derive.derive(p_po)["poisson_rate_hz"] * 0.25)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        derive.derive(p_po, background_fraction=[1.5] * 8)
