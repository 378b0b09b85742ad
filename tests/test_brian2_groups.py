"""Brian2 populations with shared parameters behave as PyNN's own (same dynamics,
same values through get/set) and refuse per-neuron values with a clear error."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def _scenario(tmp_path_factory, mode):
    out = tmp_path_factory.mktemp(f"groups_{mode}") / "out.npz"
    proc = subprocess.run([sys.executable, os.path.join(HERE, "brian2_groups_scenario.py"),
                           str(out), mode], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return dict(np.load(out))


@pytest.fixture(scope="module")
def fast(tmp_path_factory):
    return _scenario(tmp_path_factory, "fast")


@pytest.fixture(scope="module")
def pynn(tmp_path_factory):
    return _scenario(tmp_path_factory, "pynn")


@pytest.mark.parametrize("pop", ["p0", "p1", "p2"])
def test_shared_parameters_give_pynns_dynamics(fast, pynn, pop):
    # same spikes, same membrane potential up to rounding (the propagators are
    # computed once per step instead of per neuron)
    np.testing.assert_array_equal(fast[f"{pop}_spikes"], pynn[f"{pop}_spikes"])
    np.testing.assert_allclose(fast[f"{pop}_v"], pynn[f"{pop}_v"], rtol=0, atol=1e-9)
    for key in pynn:
        if key.startswith(f"{pop}_get_"):
            np.testing.assert_array_equal(fast[key], pynn[key], err_msg=key)
    assert fast["p0_spikes"].size > 100 and fast["p2_spikes"].size > 10  # input arrives


def test_homogeneous_parameters_are_shared_and_solved_once(fast):
    # i_offset (each population's DC) is per neuron in a group of several populations
    assert set(fast["shared"]) == {"c_m", "tau_m", "tau_syn_e", "tau_syn_i",
                                   "v_reset", "v_rest", "v_thresh"}
    assert int(fast["solved"][0]) == 1  # three populations, one symbolic solution


def test_populations_with_equal_parameters_share_one_group(fast):
    np.testing.assert_array_equal(fast["member_sizes"], [20, 20, 20, 60])


def test_set_accepts_one_value_and_refuses_per_neuron_values(fast):
    np.testing.assert_array_equal(fast["after_set"], np.full(20, 0.5))
    np.testing.assert_array_equal(fast["other_after_set"], np.full(20, 0.38))
    np.testing.assert_allclose(fast["after_per_neuron_set"],
                               np.r_[np.linspace(0.1, 0.2, 5), np.full(15, 0.5)])
    np.testing.assert_array_equal(fast["after_view_set"], np.full(20, 0.25))
    for key in ("refused_array", "refused_view"):
        message = str(fast[key][0])
        assert "one value shared by all its neurons" in message, key
        assert "fast=False" in message
    message = str(fast["refused_member"][0])
    assert "shared by every population in the Brian2 group" in message
    assert "fast=False" in message


def test_heterogeneous_parameter_stays_per_neuron(fast):
    assert "tau_m" not in set(fast["hetero_shared"])
    np.testing.assert_array_equal(fast["hetero_tau_m"], [8.0, 9.0, 10.0, 11.0])


def test_exact_solutions_are_stored_and_read_back_unchanged(tmp_path, monkeypatch):
    pytest.importorskip("brian2")
    import brian2
    from pd14_pynn.backends import brian2_groups
    monkeypatch.setenv("PD14_BRIAN2_CACHE", str(tmp_path))
    monkeypatch.setattr(brian2_groups, "_SOLVED", {})
    equations = brian2.Equations("dv/dt = -v / tau : volt\ntau : second (constant, shared)")
    first = brian2_groups.exact_once(equations, {})
    path, _ = brian2_groups.solution_file(next(iter(brian2_groups._SOLVED)))
    assert os.path.isfile(path)

    # a new process (empty memory) reads the file and never calls sympy
    def no_solve(*args):
        raise AssertionError("solved again although a stored solution exists")
    monkeypatch.setattr(brian2_groups, "_SOLVED", {})
    monkeypatch.setattr(brian2_groups, "_LINEAR", no_solve)
    assert brian2_groups.exact_once(equations, {}) == first
    assert "exp" in first and "tau" in first

    # a stored file of another key (e.g. another sympy) is not used
    with open(path) as handle:
        stored = json.load(handle)
    stored["key"] = "other"
    with open(path, "w") as handle:
        json.dump(stored, handle)
    monkeypatch.setattr(brian2_groups, "_SOLVED", {})
    with pytest.raises(AssertionError, match="solved again"):
        brian2_groups.exact_once(equations, {})
