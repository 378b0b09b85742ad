"""Build and run a small microcircuit on one simulator; dump what the tests check.

Run as a separate process per simulator (simulators do not share a process
well): ``python tests/scenario.py SIMULATOR SEED OUT.npz [--generic] [--numpy-rng]
[--scale S] [--connectivity SONATA_PATH] [--brian2-device D]``. Writes per-projection
counts, all connections of a few projections, spikes.
"""

import argparse

import numpy as np

from pd14_pynn import backends, derive, parameters, sonata_reader
from pd14_pynn.network import Microcircuit
from pd14_pynn.parameters import POPULATIONS

SCALE = 0.05
T_SIM_MS = 400.0
# projections whose every connection is exported: exc, inh, and the doubled L4E->L23E
DUMPED = (("L23E", "L23E"), ("L23E", "L23I"), ("L23E", "L4E"), ("L4I", "L4I"))


def main(simulator, seed, out, fast=True, rng="native", scale=SCALE, connectivity=None,
         brian2_device=None):
    backend = backends.get(simulator)
    sim = backend.import_simulator()
    params = parameters.resolve({"N_scaling": scale, "K_scaling": scale, "seed": seed,
                                 "t_presim_ms": 0.0, "t_sim_ms": T_SIM_MS, "threads": 1,
                                 "connectivity_rng": rng, "brian2_device": brian2_device})
    n_syn = int(derive.derive(params)["num_synapses"].sum())
    backend.setup(sim, params, n_syn)
    network = sonata_reader.NetworkFile(connectivity) if connectivity else None
    circuit = Microcircuit(sim, params, fast=fast, verbose=False, connectivity=network).build()
    sim.run(T_SIM_MS)
    if backend.deferred(sim):  # Brian2 standalone: the run above was queued
        backend.execute(sim, verbose=False)
    result = {
        "sizes": np.array([circuit.populations[n].size for n in POPULATIONS]),
        "counts": np.array([[len(circuit.projections[(t, s)]) if (t, s) in circuit.projections
                             else 0 for s in POPULATIONS] for t in POPULATIONS]),
    }
    for target, source in DUMPED:
        conns = np.array(circuit.projections[(target, source)].get(
            ["weight", "delay"], format="list", with_address=True), dtype=float)
        result[f"conn_{target}_{source}"] = conns  # pre, post, weight (nA), delay (ms)
    for name in POPULATIONS:
        trains = circuit.populations[name].get_data("spikes").segments[0].spiketrains
        trains = sorted(trains, key=lambda st: st.annotations["source_index"])
        result[f"spikes_{name}"] = np.concatenate(
            [np.column_stack([np.full(len(st), i), st.magnitude]) for i, st in enumerate(trains)]
            or [np.empty((0, 2))])
    sim.end()
    np.savez(out, **result)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("simulator")
    parser.add_argument("seed", type=int)
    parser.add_argument("out")
    parser.add_argument("--generic", action="store_true")
    parser.add_argument("--numpy-rng", action="store_true")
    parser.add_argument("--scale", type=float, default=SCALE)
    parser.add_argument("--connectivity")
    parser.add_argument("--brian2-device")
    args = parser.parse_args()
    main(args.simulator, args.seed, args.out, fast=not args.generic,
         rng="numpy" if args.numpy_rng else "native", scale=args.scale,
         connectivity=args.connectivity, brian2_device=args.brian2_device)
