"""Parameter defaults, overrides and validation, run labels."""

import pytest

from pd14_pynn import parameters
from pd14_pynn.parameters import ParameterError


def test_defaults_are_fresh_copies():
    a = parameters.default_parameters()
    a["K_ext"][0] = -1
    assert parameters.default_parameters()["K_ext"][0] == 1600


def test_unknown_key_is_refused_with_suggestion():
    with pytest.raises(ParameterError, match="unknown parameter 'N_scalng'.*N_scaling"):
        parameters.resolve({"N_scalng": 0.5})


@pytest.mark.parametrize("override, message", [
    ({"N_scaling": 0}, r"N_scaling = 0 is not allowed: it must be a number in \(0, 1\]"),
    ({"K_scaling": 1.5}, r"K_scaling = 1.5 .* in \(0, 1\]"),
    ({"t_sim_ms": 0}, r"t_sim_ms = 0 .* > 0 \(ms\)"),
    ({"t_presim_ms": -1}, r"t_presim_ms = -1 .* >= 0 \(ms\)"),
    ({"background": "noise"}, "background = 'noise' .* one of 'poisson', 'dc'"),
    ({"threads": 0}, r"threads = 0 .* integer >= 1"),
    ({"K_ext": [1, 2]}, r"K_ext = \[1, 2\] .* 8 integers \(one per population\)"),
    ({"seed": 99999999999}, r"seed = 99999999999 .* \[0, 4294967294\]"),
    ({"seed": -1}, r"seed = -1 .* \[0, 4294967294\]"),
    ({"seed": 1.5}, r"seed = 1.5 .* an integer"),
    ({"delay_exc_mean_ms": -1}, r"delay_exc_mean_ms = -1 .* \(0, 100\]"),
    ({"delay_inh_mean_ms": 0.05}, r"delay_inh_mean_ms = 0.05 .* at least one time step, "
                                  r"resolution_ms = 0.1"),
    ({"conn_probs": [[0.1] * 8] * 7 + [[0.1] * 7 + [1.0]]},
     r"conn_probs\[7\]\[7\] = 1.0 .* \[0, 1\)"),
    ({"thalamic_conn_probs": [0.1] * 7 + [-0.1]}, r"thalamic_conn_probs\[7\] = -0.1"),
    ({"C_m_pF": "250"}, r"C_m_pF = '250' .* a number > 0 \(pF\)"),
    ({"tau_m_ms": float("inf")}, r"tau_m_ms = inf"),
    ({"t_sim_ms": float("nan")}, r"t_sim_ms = nan"),
    ({"thalamic_input": "yes"}, r"thalamic_input = 'yes' .* true or false"),
    ({"full_num_neurons": [0] * 8}, r"full_num_neurons\[0\] = 0 .* \[1, 2147483647\]"),
    ({"V_reset_mV": -40.0}, r"V_reset_mV = -40.0 .* below V_th_mV = -50.0"),
    ({"tau_syn_ms": 10.0}, r"tau_syn_ms = 10.0 .* differ from tau_m_ms = 10.0"),
    ({"resolution_ms": 0.0005}, r"resolution_ms = 0.0005 .* multiple of 0.001"),
    ({"t_sim_ms": 100.05}, r"t_sim_ms = 100.05 .* multiple of resolution_ms = 0.1"),
    ({"record_v_interval_ms": 0.15}, r"record_v_interval_ms = 0.15 .* multiple of resolution_ms"),
    ({"N_scaling": 1e-4}, r"N_scaling = 0.0001 .* leaves L5E .* without neurons"),
    ({"g": 4.0}, r"g = 4.0 .* <= 0"),
])
def test_bad_values_are_refused(override, message):
    with pytest.raises(ParameterError, match=message) as raised:
        parameters.resolve(override)
    assert "\n" not in str(raised.value)


def test_every_parameter_has_a_domain_that_holds_its_default():
    defaults = parameters.default_parameters()
    assert list(parameters.DOMAINS) == list(defaults)
    for key, value in defaults.items():
        assert parameters.DOMAINS[key].problem(key, value) is None, key


def test_seed_limit_is_what_nest_accepts():
    """NEST takes rng_seed = seed + 1 in [1, 2^32 - 1]: the largest allowed seed works."""
    import nest
    nest.ResetKernel()
    nest.rng_seed = parameters.SEED_MAX + 1
    assert nest.rng_seed == 2**32 - 1
    with pytest.raises(Exception, match="RNG seed"):
        nest.rng_seed = parameters.SEED_MAX + 2


def test_run_label_readable_and_unique():
    p = parameters.resolve({})
    label = parameters.run_label("nest", p)
    assert label.startswith("pd14_nest_N0.1-K0.1_poisson_seed55_")
    assert label == parameters.run_label("nest", parameters.resolve({}))
    assert label != parameters.run_label("nest", parameters.resolve({"bg_rate_hz": 8.5}))
    # rounding noise does not change the name
    assert label == parameters.run_label("nest", parameters.resolve({"N_scaling": 0.1 + 1e-15}))


def test_docs_parameter_table_is_current():
    import os
    from pd14_pynn.documentation import parameter_table
    path = os.path.join(os.path.dirname(__file__), "..", "docs", "parameters.md")
    with open(path) as handle:
        assert handle.read() == parameter_table(), \
            "docs/parameters.md is stale: run python -m pd14_pynn.documentation > docs/parameters.md"
