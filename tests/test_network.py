"""The network layer on PyNN's mock backend: no simulator needed."""

import numpy as np
import pyNN.mock as sim
import pytest

from pd14_pynn import parameters
from pd14_pynn.network import Microcircuit
from pd14_pynn.parameters import POPULATIONS


@pytest.fixture
def params():
    return parameters.resolve({"N_scaling": 0.01, "K_scaling": 0.01, "background": "dc"})


def build(params, label=""):
    sim.setup(timestep=0.1, min_delay=0.1)
    return Microcircuit(sim, params, label=label, verbose=False).build()


def test_populations_by_name_sizes_and_assembly(params):
    mc = build(params)
    assert [mc[n].size for n in POPULATIONS] == list(mc.derived["num_neurons"])
    assert mc.assembly.size == sum(mc.derived["num_neurons"])
    assert mc["L4E"].label == "L4E"
    assert mc["L4E"].annotations["population"] == "L4E"


def test_dc_background_and_cell_parameters(params):
    mc = build(params)
    i_offset = mc["L6E"].get("i_offset")
    assert i_offset == pytest.approx(mc.derived["dc_pA"][POPULATIONS.index("L6E")] * 1e-3)
    assert mc["L23I"].get("cm") == pytest.approx(0.25)
    assert mc["L23I"].get("v_thresh") == pytest.approx(-50.0)


def test_two_labelled_instances_are_disjoint(params):
    sim.setup(timestep=0.1, min_delay=0.1)
    v1 = Microcircuit(sim, params, label="V1", verbose=False).build()
    v2 = Microcircuit(sim, params, label="V2", verbose=False).build()
    assert v1["L23E"].label == "V1_L23E" and v2["L23E"].label == "V2_L23E"
    ids1 = set(int(i) for i in v1.assembly.all_cells)
    ids2 = set(int(i) for i in v2.assembly.all_cells)
    assert not ids1 & ids2
    # own seed streams: the same spec for one projection, but different draws
    s1, s2 = v1.projection_spec("L4E", "L4E"), v2.projection_spec("L4E", "L4E")
    assert s1.n_synapses == s2.n_synapses and s1.seed != s2.seed


def test_initial_potentials_follow_population_distributions(params):
    params = parameters.resolve({"N_scaling": 0.2, "K_scaling": 0.001, "background": "dc"})
    mc = build(params)
    v = np.asarray(mc["L23E"].initial_values["v"].evaluate())
    assert v.mean() == pytest.approx(-68.28, abs=0.2) and v.std() == pytest.approx(5.36, rel=0.05)
