"""The numbers of a local INM-6/multi-area-model (MAM), as MAM's own code computes them.

This file is not imported by pd14_pynn: :mod:`pd14_pynn.mam` runs its text in a
separate Python process (``python -c``) whose import path holds a temporary copy
of the user's MAM clone, so that MAM's modules are imported without a
``sys.path`` edit here and without writing into the clone (MAM writes its
processed data and a config file next to its code). It imports nothing of
pd14_pynn and writes MAM's quantities, in MAM's own terms, to a JSON file;
:func:`pd14_pynn.mam.description_from_export` maps them to a description.

Arguments: ``NETWORK_PARAMS_JSON RATES_PATH OUT_PATH``: MAM's custom network
parameters (e.g. the cortico-cortical weight factors of a state), MAM's file
of full-scale rates (or ``-``) and the output file.

Run-time compatibility with numpy 2, applied in this process only (the clone
is not edited): ``np.Inf``, ``np.NINF`` and ``np.in1d`` are set where numpy no
longer has them. NEST is not imported: MAM's modules import it, but computing
the numbers does not use it, so a stand-in module takes its name.
"""

import json
import sys
import types


def _compatible_numpy():
    import numpy as np
    for name, value in (("Inf", np.inf), ("NINF", -np.inf)):
        if not hasattr(np, name):
            setattr(np, name, value)
    if not hasattr(np, "in1d"):
        np.in1d = np.isin


def _plain(value):
    """numpy scalars and arrays -> Python numbers and lists (for json.dump)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def export(network_params, rates_path, out_path):
    _compatible_numpy()
    sys.modules.setdefault("nest", types.ModuleType("nest"))
    from multiarea_model import MultiAreaModel
    from multiarea_model.default_params import sim_params

    model = MultiAreaModel(network_params)
    areas = list(model.area_list)
    rates = None
    if rates_path != "-":
        with open(rates_path) as f:
            rates = json.load(f)
    result = {
        "area_list": areas,
        "structure": {area: list(model.structure[area]) for area in areas},
        "neuron_numbers": model.N,
        "indegrees": model.K,
        "synapse_weights_mean": model.W,
        "synapse_weights_sd": model.W_sd,
        "distances": {target: {source: model.distances[target][source]
                               for source in areas if source != target} for target in areas},
        "network_params": {key: model.params[key] for key in (
            "N_scaling", "K_scaling", "neuron_params", "connection_params", "delay_params",
            "input_params")},
        "dt": sim_params["dt"],
        "fullscale_rates": rates,
        # MAM's own totals, for checking the mapping: neurons, and synapses between
        # the model's populations (the external column left out)
        "total_neurons": float(model.N_vec.sum()),
        "total_synapses": float(model.syn_matrix[:, :-1].sum()),
        "label": model.label,
    }
    with open(out_path, "w") as f:
        json.dump(result, f, default=_plain)


if __name__ == "__main__":
    export(json.loads(sys.argv[1]), sys.argv[2], sys.argv[3])
