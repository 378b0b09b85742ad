"""Model and simulation parameters of the PD14 microcircuit, as plain data.

Every number of the model description (Potjans & Diesmann 2014; written out
in docs/model.md) lives here, once. Names carry
their unit as a suffix (``_ms``, ``_mV``, ``_pA``, ``_pF``, ``_hz``).

* :func:`default_parameters` -- a fresh, flat dict of all defaults.
* :func:`resolve` -- defaults + overrides, validated; unknown keys are refused.
* :func:`validate` -- the one place where parameters are checked: each value
  against its domain (:data:`DOMAINS`, declared next to the default), then the
  relations between parameters; a failure is one line naming parameter, value
  and what is allowed.
* :func:`run_label` -- a readable, unique folder name for a parameter set.

Population order everywhere: L23E, L23I, L4E, L4I, L5E, L5I, L6E, L6I.
Matrices are indexed ``[target, source]`` as in the description.
"""

import copy
import hashlib
import json

import math

from .domains import Choice, Flag, Number, on_grid
from .population_names import POPULATIONS


# name -> (default, allowed values). The allowed values are what the model and
# every simulator accept; relations between parameters (V_reset_mV < V_th_mV,
# delays of at least one time step, times on the time grid, ...) are in
# RELATIONS below. Both are checked by validate(), before anything is built.
_P = len(POPULATIONS)
# NEST uses seed + 1 as its rng_seed, allowed in [1, 2^32 - 1]; brian2.seed and
# numpy take [0, 2^32 - 1]
SEED_MAX = 2**32 - 2
# NEST's time grid: the resolution must be a multiple of one tic (1 us)
TIC_MS = 0.001
# longest mean delay: the simulators keep max_delay / resolution ring-buffer slots
# per neuron, so very long delays cost memory that no estimate covers
MAX_DELAY_MS = 100.0

_PARAMETERS = {
    # --- populations -------------------------------------------------------
    "full_num_neurons": ([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948],
                         Number("[1, 2147483647]", integer=True, shape=(_P,))),
    # connection probabilities C[target][source]; 1 would need infinitely many
    # synapses (K = ln(1 - C) / ln(1 - 1/(N N)))
    "conn_probs": ([
        [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
        [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
        [0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0],
        [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
        [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
        [0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0],
        [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
        [0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443],
    ], Number("[0, 1)", shape=(_P, _P))),
    # --- scaling (remark 3 of the description) ------------------------------
    "N_scaling": (0.1, Number("(0, 1]")),
    "K_scaling": (0.1, Number("(0, 1]")),
    # full-scale mean rates used for the DC compensation of K-scaling (1/s),
    # from the reference implementation; also the memory estimate's spike rates
    "full_mean_rates_hz": ([0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829],
                           Number("[0, inf)", shape=(_P,), unit="1/s")),
    # --- external (cortico-cortical) input -----------------------------------
    "K_ext": ([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100],
              Number("[0, 2147483647]", integer=True, shape=(_P,))),
    "bg_rate_hz": (8.0, Number("(0, inf)", unit="1/s")),
    # "poisson": K_ext * bg_rate Poisson input per neuron (original PD14)
    # "dc": the same mean current as a constant (remark 1)
    "background": ("poisson", Choice("poisson", "dc")),
    # --- synapses -----------------------------------------------------------
    "PSP_exc_mean_mV": (0.15, Number("(0, inf)", unit="mV")),
    "PSP_rel_sd": (0.1, Number("[0, inf)")),
    # relative strength of inhibition: inhibitory weights are g times the excitatory
    "g": (-4.0, Number("(-inf, 0]", why="inhibitory weights are negative")),
    "PSP_L23E_from_L4E_factor": (2.0, Number("(0, inf)")),
    "delay_exc_mean_ms": (1.5, Number(f"(0, {MAX_DELAY_MS:g}]", unit="ms",
                                      why="and at least resolution_ms")),
    "delay_inh_mean_ms": (0.75, Number(f"(0, {MAX_DELAY_MS:g}]", unit="ms",
                                       why="and at least resolution_ms")),
    "delay_rel_sd": (0.5, Number("[0, 1]")),
    # --- neurons (IF_curr_exp) ---------------------------------------------
    "C_m_pF": (250.0, Number("(0, inf)", unit="pF")),
    "tau_m_ms": (10.0, Number("(0, inf)", unit="ms")),
    "tau_syn_ms": (0.5, Number("(0, inf)", unit="ms", why="and not equal to tau_m_ms")),
    "E_L_mV": (-65.0, Number("(-inf, inf)", unit="mV")),
    "V_reset_mV": (-65.0, Number("(-inf, inf)", unit="mV", why="and below V_th_mV")),
    "V_th_mV": (-50.0, Number("(-inf, inf)", unit="mV")),
    "t_ref_ms": (2.0, Number("[0, inf)", unit="ms")),
    # --- initial membrane potentials (remark 2) -----------------------------
    "V0_type": ("optimized", Choice("optimized", "original")),
    "V0_mean_optimized_mV": ([-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.45],
                             Number("(-inf, inf)", shape=(_P,), unit="mV")),
    "V0_std_optimized_mV": ([5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48],
                            Number("[0, inf)", shape=(_P,), unit="mV")),
    "V0_mean_original_mV": (-58.0, Number("(-inf, inf)", unit="mV")),
    "V0_std_original_mV": (10.0, Number("[0, inf)", unit="mV")),
    # --- thalamic input -----------------------------------------------------
    "thalamic_input": (False, Flag()),
    "thalamic_num_neurons": (902, Number("[1, 2147483647]", integer=True)),
    "thalamic_rate_hz": (120.0, Number("[0, inf)", unit="1/s")),
    "thalamic_start_ms": (700.0, Number("[0, inf)", unit="ms",
                                        why="and a multiple of resolution_ms")),
    "thalamic_duration_ms": (10.0, Number("(0, inf)", unit="ms",
                                          why="and a multiple of resolution_ms")),
    "thalamic_conn_probs": ([0.0, 0.0, 0.0983, 0.0619, 0.0, 0.0, 0.0512, 0.0196],
                            Number("[0, 1)", shape=(_P,))),
    "thalamic_PSP_mV": (0.15, Number("(0, inf)", unit="mV")),
    # how the thalamic synapse totals shrink at N_scaling, K_scaling < 1:
    # "in_degree" = full-scale totals x N_scaling x K_scaling (like the recurrent
    # ones: each neuron keeps K_scaling x its full-scale thalamic in-degree);
    # "total" = full-scale totals x K_scaling only, as the PyNEST reference
    # example (the 902 thalamic sources then reach each neuron 1/N_scaling
    # times as often as at full scale)
    "thalamic_synapse_scaling": ("in_degree", Choice("in_degree", "total")),
    # --- simulation ---------------------------------------------------------
    "resolution_ms": (0.1, Number("(0, inf)", grid=TIC_MS, unit="ms",
                                  why="NEST's time grid is 0.001 ms")),
    "t_presim_ms": (500.0, Number("[0, inf)", unit="ms", why="and a multiple of resolution_ms")),
    "t_sim_ms": (1000.0, Number("(0, inf)", unit="ms", why="and a multiple of resolution_ms")),
    "seed": (55, Number(f"[0, {SEED_MAX}]", integer=True,
                        why="NEST's rng_seed is seed + 1 and must be below 2^32")),
    # who draws the recurrent and thalamic connections: "native" = each backend's
    # fastest way (NEST: its own RNG inside Connect; Brian2, NEURON: numpy);
    # "numpy" = numpy on every backend, so all simulators get the same network
    # for a seed (NEST then connects the drawn arrays one-to-one)
    "connectivity_rng": ("native", Choice("native", "numpy")),
    # None: chosen by the backend (NEST: enough threads for its connection limit;
    # Brian2 cpp_standalone: 1 OpenMP thread; NEURON: 1)
    "threads": (None, Number("[1, inf)", integer=True, optional=True)),
    # Brian2 only: "runtime", "cpp_standalone" (one compiled C++ program) or
    # "cuda_standalone" (Brian2CUDA); None: cpp_standalone where a C++ compiler
    # is found, else runtime
    "brian2_device": (None, Choice("runtime", "cpp_standalone", "cuda_standalone",
                                    optional=True)),
    # NEURON only: "coreneuron" (CoreNEURON runs the built network) or "classic"
    # (NEURON's own solver); None: coreneuron where NEURON has it and the run
    # allows it (no thalamic input), else classic
    "neuron_engine": (None, Choice("coreneuron", "classic", optional=True)),
    # NEURON only: how the Poisson background reaches each neuron: "netstim" (one
    # NetStim and NetCon per neuron, two queue events per input spike) or
    # "synapse" (the same Poisson train, same random draws, added inside the
    # excitatory synapse each step: no events); None: synapse on CoreNEURON,
    # netstim on the classic engine
    "neuron_poisson": (None, Choice("netstim", "synapse", optional=True)),
    # number of neurons per population whose membrane potential is recorded
    "record_v": (0, Number("[0, 2147483647]", integer=True)),
    "record_v_interval_ms": (0.1, Number("(0, inf)", unit="ms",
                                         why="and a multiple of resolution_ms")),
}

_DEFAULTS = {key: default for key, (default, _) in _PARAMETERS.items()}
#: name -> allowed values (a :mod:`pd14_pynn.domains` object)
DOMAINS = {key: domain for key, (_, domain) in _PARAMETERS.items()}


def _delays_at_least_one_step(p):
    """delay_exc_mean_ms and delay_inh_mean_ms are at least resolution_ms."""
    for key in ("delay_exc_mean_ms", "delay_inh_mean_ms"):
        if p[key] < p["resolution_ms"]:
            return (f"{key} = {p[key]!r} is not allowed: it must be at least one time step, "
                    f"resolution_ms = {p['resolution_ms']!r} (and <= {MAX_DELAY_MS:g} ms)")


def _times_on_grid(p):
    """t_presim_ms, t_sim_ms, record_v_interval_ms, thalamic_start_ms and
    thalamic_duration_ms are multiples of resolution_ms."""
    for key in ("t_presim_ms", "t_sim_ms", "record_v_interval_ms", "thalamic_start_ms",
                "thalamic_duration_ms"):
        if not on_grid(p[key], p["resolution_ms"]):
            return (f"{key} = {p[key]!r} is not allowed: it must be a multiple of "
                    f"resolution_ms = {p['resolution_ms']!r} (the simulators' time grid)")


def _reset_below_threshold(p):
    """V_reset_mV is below V_th_mV."""
    if not p["V_reset_mV"] < p["V_th_mV"]:
        return (f"V_reset_mV = {p['V_reset_mV']!r} is not allowed: it must be below "
                f"V_th_mV = {p['V_th_mV']!r}")


def _distinct_time_constants(p):
    """tau_syn_ms differs from tau_m_ms."""
    # the PSP-to-PSC conversion (derive.psc_per_psp) divides by tau_syn - tau_m
    if abs(p["tau_syn_ms"] - p["tau_m_ms"]) <= 1e-6 * p["tau_m_ms"]:
        return (f"tau_syn_ms = {p['tau_syn_ms']!r} is not allowed: it must differ from "
                f"tau_m_ms = {p['tau_m_ms']!r} (the PSP formula is singular there)")


def _finite_model_numbers(p):
    """The numbers derived from the parameters (PSC amplitudes, synapse counts, DC) are finite."""
    import numpy as np
    from . import derive
    try:
        with np.errstate(all="ignore"):
            psc = derive.psc_per_psp(p["C_m_pF"], p["tau_m_ms"], p["tau_syn_ms"])
            derived = derive.derive(p)
    except (ZeroDivisionError, OverflowError, ValueError) as err:
        psc, derived = float("nan"), {"error": err}
    if not (math.isfinite(psc) and psc > 0):
        return (f"C_m_pF = {p['C_m_pF']!r}, tau_m_ms = {p['tau_m_ms']!r}, tau_syn_ms = "
                f"{p['tau_syn_ms']!r} are not allowed together: the PSC amplitude of a 1 mV "
                f"PSP is {psc!r}, not a finite positive number")
    for key, value in derived.items():
        if not np.all(np.isfinite(np.asarray(value, dtype=float))):
            return (f"these parameters give a non-finite derived {key} (e.g. "
                    f"{np.asarray(value, dtype=float).ravel()[:3].tolist()}); use values of the "
                    f"model's order of magnitude (docs/parameters.md)")


def _every_population_has_a_neuron(p):
    """N_scaling leaves every population at least one neuron."""
    for name, full in zip(POPULATIONS, p["full_num_neurons"]):
        if round(full * p["N_scaling"]) < 1:
            smallest = 0.5 / min(p["full_num_neurons"])
            return (f"N_scaling = {p['N_scaling']!r} is not allowed: it leaves {name} "
                    f"({full} neurons at full scale) without neurons; it must be > "
                    f"{smallest:.3g} for these full_num_neurons")


# checks that involve several parameters; each returns None or one error line
RELATIONS = (_delays_at_least_one_step, _times_on_grid, _reset_below_threshold,
              _distinct_time_constants, _every_population_has_a_neuron, _finite_model_numbers)


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
    """Raise :class:`ParameterError` with one line for the first unusable value.

    Every key of the defaults must be present; each value must lie in its
    domain (:data:`DOMAINS`), then the relations between parameters must hold.
    The line names the parameter, its value and what is allowed.
    """
    missing = [key for key in _DEFAULTS if key not in params]
    if missing:
        raise ParameterError(f"parameters missing: {', '.join(missing)}")
    for key, domain in DOMAINS.items():
        problem = domain.problem(key, params[key])
        if problem:
            raise ParameterError(problem)
    for relation in RELATIONS:
        problem = relation(params)
        if problem:
            raise ParameterError(problem)


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
