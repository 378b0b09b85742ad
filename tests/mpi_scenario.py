"""A small NEURON network under MPI: every rank dumps its connections, rank 0 the spikes.

    mpirun -np N python tests/mpi_scenario.py OUT_PREFIX

Writes OUT_PREFIX.rank<r>.npz (local connections of every projection, global
indices) and OUT_PREFIX.spikes.npz (all spikes, gathered).
"""

import sys

import numpy as np

from pd14_pynn import backends, derive, parameters
from pd14_pynn.network import Microcircuit
from pd14_pynn.parameters import POPULATIONS


def main(prefix):
    backend = backends.get("neuron")
    sim = backend.import_simulator()
    params = parameters.resolve({"N_scaling": 0.02, "K_scaling": 0.05, "seed": 21,
                                 "t_presim_ms": 0.0, "t_sim_ms": 300.0})
    backend.setup(sim, params, int(derive.derive(params)["num_synapses"].sum()))
    circuit = Microcircuit(sim, params, verbose=False).build()
    sim.run(params["t_sim_ms"])
    local = {}
    for (target, source), projection in circuit.projections.items():
        local[f"{target}_{source}"] = np.array(
            projection.get(["weight", "delay"], format="list", gather=False, with_address=True),
            dtype=float).reshape(-1, 4)
    np.savez(f"{prefix}.rank{sim.rank()}.npz", **local)
    spikes = {}
    for name in POPULATIONS:
        trains = circuit.populations[name].get_data("spikes", gather=True).segments[0].spiketrains
        spikes[name] = np.concatenate(
            [np.column_stack([np.full(len(st), st.annotations["source_index"]), st.magnitude])
             for st in trains] or [np.empty((0, 2))])
    if sim.rank() == 0:
        np.savez(f"{prefix}.spikes.npz", **spikes)
    sim.end()


if __name__ == "__main__":
    main(sys.argv[1])
