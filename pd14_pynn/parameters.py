"""Model and simulation parameters of the PD14 microcircuit, as plain data.

Every number of the model description (Potjans & Diesmann 2014, see
``shared/seeds/pd14_model_description.txt``) lives here, once. Names carry
their unit as a suffix (``_ms``, ``_mV``, ``_pA``, ``_pF``, ``_hz``).

* :func:`default_parameters` -- a fresh, flat dict of all defaults.
* :func:`resolve` -- defaults + overrides, validated; unknown keys are refused.
* :func:`run_label` -- a readable, unique folder name for a parameter set.

Population order everywhere: L23E, L23I, L4E, L4I, L5E, L5I, L6E, L6I.
Matrices are indexed ``[target, source]`` as in the description.
"""

import copy
import hashlib
import json

POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")

_DEFAULTS = {
    # --- populations -------------------------------------------------------
    "full_num_neurons": [20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948],
    # connection probabilities C[target][source]
    "conn_probs": [
        [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
        [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
        [0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0],
        [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
        [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
        [0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0],
        [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
        [0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443],
    ],
    # --- scaling (remark 3 of the description) ------------------------------
    "N_scaling": 0.1,
    "K_scaling": 0.1,
    # full-scale mean rates used for the DC compensation of K-scaling (1/s),
    # from the reference implementation
    "full_mean_rates_hz": [0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829],
    # --- external (cortico-cortical) input -----------------------------------
    "K_ext": [1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100],
    "bg_rate_hz": 8.0,
    # "poisson": K_ext * bg_rate Poisson input per neuron (original PD14)
    # "dc": the same mean current as a constant (remark 1)
    "background": "poisson",
    # --- synapses -----------------------------------------------------------
    "PSP_exc_mean_mV": 0.15,
    "PSP_rel_sd": 0.1,
    "g": -4.0,
    "PSP_L23E_from_L4E_factor": 2.0,
    "delay_exc_mean_ms": 1.5,
    "delay_inh_mean_ms": 0.75,
    "delay_rel_sd": 0.5,
    # --- neurons (IF_curr_exp) ---------------------------------------------
    "C_m_pF": 250.0,
    "tau_m_ms": 10.0,
    "tau_syn_ms": 0.5,
    "E_L_mV": -65.0,
    "V_reset_mV": -65.0,
    "V_th_mV": -50.0,
    "t_ref_ms": 2.0,
    # --- initial membrane potentials (remark 2) -----------------------------
    "V0_type": "optimized",
    "V0_mean_optimized_mV": [-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.45],
    "V0_std_optimized_mV": [5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48],
    "V0_mean_original_mV": -58.0,
    "V0_std_original_mV": 10.0,
    # --- thalamic input -----------------------------------------------------
    "thalamic_input": False,
    "thalamic_num_neurons": 902,
    "thalamic_rate_hz": 120.0,
    "thalamic_start_ms": 700.0,
    "thalamic_duration_ms": 10.0,
    "thalamic_conn_probs": [0.0, 0.0, 0.0983, 0.0619, 0.0, 0.0, 0.0512, 0.0196],
    "thalamic_PSP_mV": 0.15,
    # --- simulation ---------------------------------------------------------
    "resolution_ms": 0.1,
    "t_presim_ms": 500.0,
    "t_sim_ms": 1000.0,
    "seed": 55,
    # who draws the recurrent and thalamic connections: "native" = each backend's
    # fastest way (NEST: its own RNG inside Connect; Brian2, NEURON: numpy);
    # "numpy" = numpy on every backend, so all simulators get the same network
    # for a seed (NEST then connects the drawn arrays one-to-one)
    "connectivity_rng": "native",
    # None: chosen by the backend (NEST: enough threads for its connection limit;
    # Brian2 cpp_standalone: 1 OpenMP thread)
    "threads": None,
    # Brian2 only: "runtime", "cpp_standalone" (one compiled C++ program) or
    # "cuda_standalone" (Brian2CUDA); None: cpp_standalone where a C++ compiler
    # is found, else runtime
    "brian2_device": None,
    # number of neurons per population whose membrane potential is recorded
    "record_v": 0,
    "record_v_interval_ms": 0.1,
}

_CHOICES = {
    "background": ("poisson", "dc"),
    "V0_type": ("optimized", "original"),
    "connectivity_rng": ("native", "numpy"),
    "brian2_device": (None, "runtime", "cpp_standalone", "cuda_standalone"),
}


class ParameterError(ValueError):
    """A parameter value or key that the model cannot use."""


def default_parameters():
    """Return a fresh copy of all default parameters (a flat dict)."""
    return copy.deepcopy(_DEFAULTS)


def resolve(overrides=None, base=None):
    """Return ``base`` (default: the defaults) updated with ``overrides``, validated.

    Unknown keys raise :class:`ParameterError` naming the closest valid keys,
    so a typo in a config file cannot silently run the default model.
    """
    params = default_parameters() if base is None else copy.deepcopy(base)
    for key, value in (overrides or {}).items():
        if key not in _DEFAULTS:
            raise ParameterError(
                f"unknown parameter {key!r}; valid keys are listed by "
                f"'python run/main.py --list-parameters' (close matches: "
                f"{', '.join(_close_keys(key)) or 'none'})")
        params[key] = copy.deepcopy(value)
    validate(params)
    return params


def validate(params):
    """Raise :class:`ParameterError` with a one-line reason if ``params`` is unusable."""
    for key in ("N_scaling", "K_scaling"):
        value = params[key]
        if not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise ParameterError(f"{key} must be in (0, 1], got {value!r}")
    for key in ("t_sim_ms", "resolution_ms", "bg_rate_hz"):
        if not params[key] > 0:
            raise ParameterError(f"{key} must be positive, got {params[key]!r}")
    if params["t_presim_ms"] < 0:
        raise ParameterError(f"t_presim_ms must be >= 0, got {params['t_presim_ms']!r}")
    for key, allowed in _CHOICES.items():
        if params[key] not in allowed:
            raise ParameterError(f"{key} must be one of {allowed}, got {params[key]!r}")
    if params["threads"] is not None and (int(params["threads"]) != params["threads"]
                                          or params["threads"] < 1):
        raise ParameterError(f"threads must be a positive integer, got {params['threads']!r}")
    if int(params["record_v"]) != params["record_v"] or params["record_v"] < 0:
        raise ParameterError(f"record_v must be a non-negative integer, got {params['record_v']!r}")
    if not isinstance(params["seed"], int) or params["seed"] < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {params['seed']!r}")
    n = len(POPULATIONS)
    for key in ("full_num_neurons", "K_ext", "full_mean_rates_hz", "V0_mean_optimized_mV",
                "V0_std_optimized_mV", "thalamic_conn_probs"):
        if len(params[key]) != n:
            raise ParameterError(f"{key} needs {n} values (one per population), "
                                 f"got {len(params[key])}")
    if len(params["conn_probs"]) != n or any(len(row) != n for row in params["conn_probs"]):
        raise ParameterError(f"conn_probs must be an {n}x{n} matrix [target][source]")


def _close_keys(key):
    import difflib
    return difflib.get_close_matches(key, _DEFAULTS.keys(), n=3, cutoff=0.5)


def _canonical(value):
    # floats are written with repr() of a rounded value so that 0.1 and
    # 0.1000000000001 do not give two names for one model
    if isinstance(value, float):
        return repr(round(value, 12))
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def parameter_hash(params):
    """Short, stable hash (8 hex digits) of a parameter dict."""
    text = json.dumps({k: _canonical(v) for k, v in sorted(params.items())}, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def run_label(simulator, params):
    """Readable + unique name for a run, e.g. ``pd14_nest_N0.1-K0.1_poisson_seed55_1a2b3c4d``."""
    return (f"pd14_{simulator}_N{params['N_scaling']:g}-K{params['K_scaling']:g}_"
            f"{params['background']}_seed{params['seed']}_{parameter_hash(params)}")
