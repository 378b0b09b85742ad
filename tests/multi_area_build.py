"""Build a small two-area model (or one of its areas alone) on one simulator; dump connections.

Run as a separate process per build (simulators do not share a process well):

    python tests/multi_area_build.py SIMULATOR MODE OUT.npz

MODE ``multi`` builds areas V1 and V2 with the inter-area CONNECTIONS below
(``multi-numpy``: the same with ``connectivity_rng="numpy"``, and the numpy
draw of each inter-area projection beside what was built);
``single:V1`` or ``single:V2`` builds that area alone, as a plain
``Microcircuit`` with the same label and seed. Nothing is simulated. Writes
population sizes, every projection's connection count, and all connections
(pre index, post index, weight nA, delay ms) of the DUMPED and inter-area
projections.
"""

import sys

import numpy as np

from pd14_pynn import backends, derive, parameters
from pd14_pynn.areas import MultiAreaModel
from pd14_pynn.network import Microcircuit
from pd14_pynn.parameters import POPULATIONS

BASE = {"N_scaling": 0.02, "K_scaling": 0.02, "seed": 55, "threads": 1}
# V1 keeps the master seed, V2 has its own
AREA_SEEDS = {"V1": None, "V2": 7}
# source area, source population, target area, target population, in-degree, options
CONNECTIONS = (
    ("V1", "L23E", "V2", "L4E", 1000, {}),
    ("V2", "L5E", "V1", "L23E", 300, {"delay_mean_ms": 3.0, "delay_sd_ms": 1.0}),
    ("V1", "L23I", "V2", "L23E", 300, {"replace_background": False}),
)
# recurrent projections (target, source) whose connections are dumped
DUMPED = (("L23E", "L23E"), ("L23E", "L23I"), ("L4E", "L4E"), ("L5E", "L5I"))


def area_params(label):
    """The resolved parameters an area has in the two-area model."""
    seed = AREA_SEEDS[label]
    return parameters.resolve(dict(BASE, **({} if seed is None else {"seed": seed})))


def declare(sim, rng="native"):
    """The two-area test model, declared (not built); ``rng``: its connectivity_rng."""
    model = MultiAreaModel(sim, parameters.resolve(dict(BASE, connectivity_rng=rng)),
                           verbose=False)
    for label, seed in AREA_SEEDS.items():
        model.add_area(label, seed=seed)
    for source_area, source, target_area, target, indegree, options in CONNECTIONS:
        model.add_connection(source_area, source, target_area, target, indegree, **options)
    return model


def connections(projection):
    return np.array(projection.get(["weight", "delay"], format="list", with_address=True),
                    dtype=float).reshape(-1, 4)


def dump_area(result, label, circuit):
    result[f"{label}_sizes"] = np.array([circuit[n].size for n in POPULATIONS])
    result[f"{label}_counts"] = np.array(
        [[len(circuit.projections[(t, s)]) if (t, s) in circuit.projections else 0
          for s in POPULATIONS] for t in POPULATIONS])
    for target, source in DUMPED:
        result[f"{label}_conn_{target}_{source}"] = connections(
            circuit.projections[(target, source)])


def main(simulator, mode, out):
    backend = backends.get(simulator)
    sim = backend.import_simulator()
    result = {}
    if mode in ("multi", "multi-numpy"):
        model = declare(sim, "numpy" if mode == "multi-numpy" else "native")
        backend.setup(sim, model.params, model.total_synapses())
        model.build()
        for label in model:
            dump_area(result, label, model[label])
        for key, projection in model.projections.items():
            result["inter_" + "_".join(key)] = connections(projection)
            if mode == "multi-numpy":
                sources, targets, weights_pA, delays = projection._connector.draw(
                    projection, local_only=False)
                result["drawn_" + "_".join(key)] = np.column_stack(
                    [sources, targets, weights_pA * 1e-3, delays])
    elif mode.startswith("single:"):
        label = mode.split(":", 1)[1]
        params = area_params(label)
        backend.setup(sim, params, int(derive.derive(params)["num_synapses"].sum()))
        dump_area(result, label, Microcircuit(sim, params, label=label, verbose=False).build())
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    sim.end()
    np.savez(out, **result)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
