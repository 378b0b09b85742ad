"""A small network under MPI: every rank dumps its connections, rank 0 the spikes.

    mpirun -np P python tests/mpi_scenario.py SIMULATOR OUT_PREFIX [--threads T]
        [--bg poisson|dc] [--connectivity-rng native|numpy] [--t-sim MS]
        [--n-scaling N] [--k-scaling K]

SIMULATOR is neuron or nest (an MPI-enabled NEST). Writes OUT_PREFIX.rank<r>.npz
(the connections of every projection that rank holds, as rows of presynaptic
index, postsynaptic index, weight (nA), delay (ms)) and OUT_PREFIX.spikes.npz
(all spikes, gathered: rows of neuron index, time (ms), per population).
"""

import argparse

import numpy as np

from pd14_pynn import backends, derive, parameters
from pd14_pynn.network import Microcircuit
from pd14_pynn.parameters import POPULATIONS


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("simulator", choices=("neuron", "nest"))
    parser.add_argument("prefix")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--bg", choices=("poisson", "dc"), default="poisson")
    parser.add_argument("--connectivity-rng", choices=("native", "numpy"), default="native")
    parser.add_argument("--t-sim", type=float, default=300.0)
    parser.add_argument("--n-scaling", type=float, default=0.02)
    parser.add_argument("--k-scaling", type=float, default=0.05)
    args = parser.parse_args(argv)

    backend = backends.get(args.simulator)
    sim = backend.import_simulator()
    params = parameters.resolve({"N_scaling": args.n_scaling, "K_scaling": args.k_scaling, "seed": 21,
                                 "t_presim_ms": 0.0, "t_sim_ms": args.t_sim,
                                 "background": args.bg, "threads": args.threads,
                                 "connectivity_rng": args.connectivity_rng})
    backend.setup(sim, params, int(derive.derive(params)["num_synapses"].sum()))
    circuit = Microcircuit(sim, params, verbose=False).build()
    backend.finish_build(sim)
    backend.run(sim, params["t_sim_ms"])
    local = {}
    for (target, source), projection in circuit.projections.items():
        local[f"{target}_{source}"] = np.array(
            projection.get(["weight", "delay"], format="list", gather=False, with_address=True),
            dtype=float).reshape(-1, 4)
    np.savez(f"{args.prefix}.rank{sim.rank()}.npz", **local)
    spikes = {}
    for name in POPULATIONS:
        trains = circuit.populations[name].get_data("spikes", gather=True).segments[0].spiketrains
        spikes[name] = np.concatenate(
            [np.column_stack([np.full(len(st), st.annotations["source_index"]), st.magnitude])
             for st in trains] or [np.empty((0, 2))])
    if sim.rank() == 0:
        np.savez(f"{args.prefix}.spikes.npz", **spikes)
    sim.end()


if __name__ == "__main__":
    main()
