"""Create the model's populations on NEST both ways (native one-call create and
PyNN's constructor) in one kernel; dump what tests/test_populations.py compares.

``python tests/create_scenario.py OUT.npz``
"""

import sys

import numpy as np

from pd14_pynn import backends, parameters
from pd14_pynn.network import Microcircuit

NEST_STATE = ("C_m", "tau_m", "tau_syn_ex", "tau_syn_in", "E_L", "V_reset", "V_th", "t_ref",
              "I_e", "V_m")


def main(out):
    backend = backends.get("nest")
    sim = backend.import_simulator()
    # DC strong enough that unconnected neurons fire: spikes show the state is the same
    params = parameters.resolve({"N_scaling": 0.02, "K_scaling": 0.2, "background": "dc",
                                 "threads": 1, "V0_type": "optimized"})
    backend.setup(sim, params, 1)
    result = {}
    circuits = {}
    for kind, fast in (("fast", True), ("pynn", False)):
        # the same label: the same seed streams, so the same drawn potentials
        circuit = Microcircuit(sim, params, label="", fast=fast, verbose=False)
        circuit.derived["dc_pA"] = circuit.derived["dc_pA"] + 300.0
        circuit.create_populations()
        circuits[kind] = circuit
        for name, pop in circuit.populations.items():
            status = pop.node_collection.get(NEST_STATE)
            for key in NEST_STATE:
                result[f"{kind}_{name}_{key}"] = np.asarray(status[key], dtype=float)
            result[f"{kind}_{name}_ids"] = np.array([int(i) for i in pop.all_cells])
            result[f"{kind}_{name}_v_init"] = pop.initial_values["v"].evaluate()
            result[f"{kind}_{name}_pynn_get"] = np.array(
                [pop.get("tau_m"), pop.get("i_offset"), pop.get("cm")], dtype=float)
            result[f"{kind}_{name}_first_last"] = np.array([int(pop.first_id), int(pop.last_id)])
            pop.record("spikes")
    sim.run(200.0)
    for kind, circuit in circuits.items():
        for name, pop in circuit.populations.items():
            ids, times = pop.get_data("spikes").segments[0].spiketrains.multiplexed
            index = np.asarray(ids) - int(pop.first_id)
            order = np.lexsort((np.asarray(times), index))
            result[f"{kind}_{name}_spikes"] = np.column_stack(
                [index[order], np.asarray(times)[order]])
    sim.end()
    np.savez(out, **result)


if __name__ == "__main__":
    main(sys.argv[1])
