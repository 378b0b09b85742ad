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
    ({"N_scaling": 0}, "N_scaling must be in"),
    ({"K_scaling": 1.5}, "K_scaling must be in"),
    ({"t_sim_ms": 0}, "t_sim_ms must be positive"),
    ({"t_presim_ms": -1}, "t_presim_ms must be >= 0"),
    ({"background": "noise"}, "background must be one of"),
    ({"threads": 0}, "threads must be a positive integer"),
    ({"K_ext": [1, 2]}, "K_ext needs 8 values"),
])
def test_bad_values_are_refused(override, message):
    with pytest.raises(ParameterError, match=message):
        parameters.resolve(override)


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
