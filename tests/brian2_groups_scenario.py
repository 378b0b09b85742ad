"""Run a tiny network twice on Brian2 (runtime, numpy target): populations made by
PyNN's own constructor and by pd14_pynn's shared-parameter create. Writes an .npz.

Usage: python brian2_groups_scenario.py OUT.npz
"""

import os
import sys

os.environ["PD14_BRIAN2_CODEGEN"] = "numpy"

import numpy as np  # noqa: E402

from pd14_pynn import backends, populations  # noqa: E402

PARAMS = dict(tau_m=10.0, cm=0.25, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0,
              tau_refrac=2.0, tau_syn_E=0.5, tau_syn_I=0.8, i_offset=0.38)


def build_and_run(fast):
    backend = backends.get("brian2")
    sim = backend.import_simulator()
    import brian2
    brian2.set_device("runtime")
    brian2.prefs.codegen.target = "numpy"
    sim.setup(timestep=0.1, min_delay=0.1)
    brian2.seed(7)
    v0 = np.linspace(-70.0, -52.0, 20)
    cells = [populations.create(sim, 20, sim.IF_curr_exp(**PARAMS), f"p{i}", v0 + i, fast=fast)
             for i in range(3)]
    source = sim.Population(5, sim.SpikeSourceArray(
        spike_times=[np.arange(5.0 + k, 200.0, 7.0 + k) for k in range(5)]), label="src")
    exc = sim.Projection(source, cells[0], sim.AllToAllConnector(),
                         sim.StaticSynapse(weight=0.3, delay=1.0), receptor_type="excitatory")
    inh = sim.Projection(cells[0], cells[1], sim.AllToAllConnector(),
                         sim.StaticSynapse(weight=-0.2, delay=1.5), receptor_type="inhibitory")
    for pop in cells:
        pop.record(["spikes", "v"])
    sim.run(200.0)
    result = {}
    for i, pop in enumerate(cells):
        block = pop.get_data()
        trains = block.segments[0].spiketrains
        result[f"p{i}_spikes"] = np.concatenate(
            [np.asarray(t.magnitude) + 1000.0 * k for k, t in enumerate(trains)])
        result[f"p{i}_v"] = np.asarray(block.segments[0].filter(name="v")[0].magnitude)
        for name in ("tau_m", "cm", "v_rest", "v_thresh", "tau_syn_E", "tau_syn_I", "i_offset"):
            result[f"p{i}_get_{name}"] = np.asarray(pop.get(name))
    result["connections"] = np.array([exc.size(), inh.size()])
    if fast:
        from pd14_pynn.backends import brian2_groups
        group = cells[2].brian2_group
        result["shared"] = np.array(sorted(group._pd14_shared))
        result["solved"] = np.array([len(brian2_groups._SOLVED)])
        result["member_sizes"] = np.array([len(pop.brian2_group) for pop in cells]
                                          + [len(group._pd14_parent)])
        # i_offset is per neuron in the group the three populations share
        cells[2].set(i_offset=0.5)
        result["after_set"] = np.asarray(cells[2].get("i_offset"))
        result["other_after_set"] = np.asarray(cells[0].get("i_offset"))
        cells[2][0:5].set(i_offset=np.linspace(0.1, 0.2, 5))
        result["after_per_neuron_set"] = np.asarray(cells[2].get("i_offset"))
        cells[2].set(tau_m=10.0)  # the shared value itself: accepted
        for key, action in (("refused_array", lambda: cells[2].set(
                                tau_m=np.linspace(9.0, 11.0, 20))),
                            ("refused_view", lambda: cells[2][0:3].set(tau_m=12.0)),
                            ("refused_member", lambda: cells[2].set(tau_m=12.0))):
            try:
                action()
                result[key] = np.array([""])
            except backends.BackendError as err:
                result[key] = np.array([str(err)])
        cells[2][0:20].set(i_offset=0.25)
        result["after_view_set"] = np.asarray(cells[2].get("i_offset"))
        hetero = populations.create(sim, 4, sim.IF_curr_exp(
            **{**PARAMS, "tau_m": np.array([8.0, 9.0, 10.0, 11.0])}), "hetero", np.full(4, -60.0))
        result["hetero_shared"] = np.array(sorted(hetero.brian2_group._pd14_shared))
        result["hetero_tau_m"] = np.asarray(hetero.get("tau_m"))
    return result


if __name__ == "__main__":
    fast = sys.argv[2] == "fast"
    np.savez(sys.argv[1], **build_and_run(fast))
