"""Build a model from a description on Brian2's runtime device (numpy target) and
print, as JSON, how many Brian2 objects of each kind it made.

Usage: python brian2_described_scenario.py DESCRIPTION AREA [AREA ...]
"""

import json
import os
import sys

os.environ["PD14_BRIAN2_CODEGEN"] = "numpy"

from pd14_pynn import backends  # noqa: E402
from pd14_pynn.described_model import DescribedModel  # noqa: E402


def main(path, areas):
    model = DescribedModel(path, areas=areas, overrides={
        "N_scaling": 0.02, "K_scaling": 0.05, "t_presim_ms": 0.0, "t_sim_ms": 10.0,
        "seed": 1, "brian2_device": "runtime"})
    backend = backends.get("brian2")
    sim = backend.import_simulator()
    model.sim, model.verbose, model.fast = sim, False, backend.fast_paths(sim)
    backend.setup(sim, model.params, model.total_synapses())
    model.build()
    backend.finish_build(sim)
    kinds = {}
    for obj in sim.simulator.state.network.objects:
        for base in type(obj).__mro__:
            if base.__module__.startswith("brian2") and base.__name__ in (
                    "Synapses", "NeuronGroup", "PoissonInput", "SpikeMonitor"):
                kinds[base.__name__] = kinds.get(base.__name__, 0) + 1
                break
    print(json.dumps({"objects": kinds, "projections": len(model.projections),
                      "replaced": len(model.replacements)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
