"""Print the first and last thalamic spike time of a tiny circuit on SIMULATOR (ms).

``python tests/thalamic_timing_scenario.py SIMULATOR [DELAY_REL_SD]``
"""

import os
import sys

os.environ.setdefault("PD14_BRIAN2_CODEGEN", "numpy")

import numpy as np  # noqa: E402

from pd14_pynn import backends, parameters  # noqa: E402
from pd14_pynn.network import Microcircuit  # noqa: E402

simulator = sys.argv[1]
backend = backends.get(simulator)
sim = backend.import_simulator()
params = parameters.resolve({"N_scaling": 0.02, "K_scaling": 0.02, "thalamic_input": True,
                             "background": "dc", "t_presim_ms": 0.0, "t_sim_ms": 715.0,
                             "threads": 1, "brian2_device": "runtime",
                             "delay_rel_sd": float(sys.argv[2]) if len(sys.argv) > 2 else 0.5})
backend.setup(sim, params, 0)
circuit = Microcircuit(sim, params, verbose=False).build()
circuit.thalamus.record("spikes")
backend.finish_build(sim)
backend.run(sim, 715.0)
trains = circuit.thalamus.get_data().segments[0].spiketrains
times = np.concatenate([np.asarray(train.magnitude) for train in trains])
print(f"THALAMIC {times.size} {times.min():.4f} {times.max():.4f}")
