"""MAM's own NEST simulation of a local INM-6/multi-area-model clone, timed.

Like :mod:`pd14_pynn.mam_export`, this file is not imported by pd14_pynn:
``run/mam_side_by_side.py`` runs its text in a separate Python process
(``python -c``) whose import path holds a temporary copy of the user's clone
(:func:`pd14_pynn.mam.working_copy`), so that MAM's modules are imported from
there and MAM's outputs are written there, not into the clone. It runs MAM's
``MultiAreaModel(..., simulation=True).simulation.simulate()`` exactly as MAM's
own examples do, and writes a JSON file with the times and sizes it saw and
where MAM wrote its spikes.

Arguments: ``NETWORK_PARAMS_JSON SIM_PARAMS_JSON OUT_PATH``: MAM's custom
network and simulation parameters (``N_scaling``, ``K_scaling``,
``connection_params``, ``fullscale_rates``; ``t_sim``, ``rng_seed``,
``local_num_threads``, ...) and the output file.

Run-time compatibility, applied in this process only (the clone is not edited):
``np.Inf``, ``np.NINF`` and ``np.in1d`` are set where numpy 2 no longer has
them; MAM asks NEST's SLI for the memory in use (``memory_thisjob``), which
NEST 3.10's Python interface no longer offers: the process's peak resident
memory stands in (kB, as the SLI function gave).
"""

import json
import resource
import sys
import time

START = time.monotonic()


def _compatible_numpy():
    import numpy as np
    for name, value in (("Inf", np.inf), ("NINF", -np.inf)):
        if not hasattr(np, name):
            setattr(np, name, value)
    if not hasattr(np, "in1d"):
        np.in1d = np.isin


def _peak_rss_kB(_simulation=None):
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run(network_params, sim_params, out_path):
    _compatible_numpy()
    import nest
    from multiarea_model import MultiAreaModel
    from multiarea_model import simulation as mam_simulation

    try:
        nest.ll_api.sli_func("memory_thisjob")
    except AttributeError:
        mam_simulation.Simulation.memory = _peak_rss_kB
    imported = time.monotonic()
    model = MultiAreaModel(network_params, simulation=True, sim_spec=sim_params)
    declared = time.monotonic()
    model.simulation.simulate()
    done = time.monotonic()
    simulation = model.simulation
    result = {
        "label": simulation.label,
        "recordings": f"{simulation.data_dir}/recordings",
        "areas_simulated": list(simulation.areas_simulated),
        # seconds: Python start -> MAM and NEST imported -> model and simulation
        # declared (MAM's numbers) -> NEST kernel prepared, areas with their
        # internal connections, cortico-cortical connections, simulation
        "import_s": imported - START,
        "declare_s": declared - imported,
        "prepare_s": simulation.time_prepare,
        "areas_s": simulation.time_network_local,
        "cortico_cortical_s": simulation.time_network_global,
        "simulate_s": simulation.time_simulate,
        "total_s": done - START,
        "t_sim_ms": simulation.T,
        "num_neurons": int(nest.GetKernelStatus("network_size")),
        "num_connections": int(nest.GetKernelStatus("num_connections")),
        "peak_rss_kB": _peak_rss_kB(),
    }
    with open(out_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    run(json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3])
