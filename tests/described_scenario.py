"""Run PD14 as a Microcircuit or as a one-area description through simulation.run.

    python tests/described_scenario.py SIMULATOR MODEL RNG OUT_DIR

MODEL ``micro``: ``Microcircuit(label="PD14")`` (the description's area name,
which is part of every seed stream); ``described``: ``DescribedModel`` of
``microcircuit_description(params)``; ``perturbed``: the same with the L4E <- L4I
in-degree 1 % higher (so a test can show that the comparison notices a wrong
number). RNG: ``connectivity_rng``. N = K = 0.05, 100 + 300 ms, seed 55, 1 thread.
"""

import sys

from pd14_pynn import multi_area_description as mad
from pd14_pynn import parameters, simulation
from pd14_pynn.described_model import DescribedModel
from pd14_pynn.network import Microcircuit

RUN = {"t_sim_ms": 300.0, "seed": 55, "threads": 1}
SCALE = {"N_scaling": 0.05, "K_scaling": 0.05, "t_presim_ms": 100.0}


def main(simulator, which, rng, out):
    run = dict(RUN, connectivity_rng=rng)
    params = parameters.resolve({**SCALE, **run})
    if which == "micro":
        model = Microcircuit(None, params, label="PD14")
    else:
        description = mad.microcircuit_description(params)
        if which == "perturbed":
            description.areas["PD14"].indegrees["L4E"]["L4I"] *= 1.01
        model = DescribedModel(description, overrides=run)
    simulation.run(simulator, params, out, overwrite=True, model=model, verbose=False)


if __name__ == "__main__":
    main(*sys.argv[1:5])
