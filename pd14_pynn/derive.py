"""Derived quantities of the PD14 model: small pure numpy functions.

Units: currents in pA, potentials in mV, times in ms, rates in 1/s.
Matrices are indexed ``[target, source]``.

* :func:`synapse_counts` -- fixed-total-number synapse counts from probabilities.
* :func:`psc_per_psp` -- PSC amplitude (pA) giving a 1 mV PSP peak.
* :func:`weight_matrix` -- mean PSC amplitudes of the recurrent connections.
* :func:`dc_background` -- constant current equivalent to the Poisson background.
* :func:`scaled_neuron_counts`, :func:`dc_compensation` -- down-scaling (remark 3).
* :func:`thalamic_synapse_counts` -- thalamic totals under either scaling rule.
* :func:`derive` -- everything the network needs, from a parameter dict.
* :func:`expected_recording` -- spikes and membrane samples a run will record.
"""

import numpy as np

from .population_names import POPULATIONS

# fraction of populations that are excitatory: even indices (L23E, L4E, ...)
EXCITATORY = np.array([name.endswith("E") for name in POPULATIONS])


def synapse_counts(conn_probs, n_target, n_source):
    """Total synapse numbers K[t, s] = ln(1 - C) / ln(1 - 1/(N_t N_s)) (floats).

    Parameters: ``conn_probs`` [target, source]; ``n_target``, ``n_source``
    population sizes. Returns the expected counts before rounding.
    """
    conn_probs = np.asarray(conn_probs, dtype=float)
    n_target = np.asarray(n_target, dtype=float)
    n_source = np.asarray(n_source, dtype=float)
    pairs = np.outer(n_target, n_source)
    return np.log(1.0 - conn_probs) / np.log(1.0 - 1.0 / pairs)


def psc_per_psp(C_m_pF, tau_m_ms, tau_syn_ms):
    """PSC amplitude (pA) whose PSP peaks at 1 mV, for exponential PSCs on a LIF neuron."""
    R_m = tau_m_ms / C_m_pF  # GOhm, so that pA * GOhm = mV
    ratio = tau_m_ms / tau_syn_ms
    unit_psp = R_m * tau_syn_ms / (tau_syn_ms - tau_m_ms) * (
        ratio ** (-tau_m_ms / (tau_m_ms - tau_syn_ms))
        - ratio ** (-tau_syn_ms / (tau_m_ms - tau_syn_ms)))
    return 1.0 / unit_psp


def weight_matrix(psc_exc_pA, g, l23e_from_l4e_factor):
    """Mean PSC amplitudes (pA) [target, source]: exc sources J, inh sources g J.

    The L4E -> L23E weight is multiplied by ``l23e_from_l4e_factor`` (2 in PD14).
    """
    row = np.where(EXCITATORY, psc_exc_pA, g * psc_exc_pA)
    weights = np.tile(row, (len(POPULATIONS), 1))
    weights[POPULATIONS.index("L23E"), POPULATIONS.index("L4E")] *= l23e_from_l4e_factor
    return weights


def dc_background(bg_rate_hz, K_ext, psc_ext_pA, tau_syn_ms):
    """DC (pA) with the mean of K_ext Poisson inputs at bg_rate: nu K_ext I tau_s."""
    return 1e-3 * bg_rate_hz * np.asarray(K_ext, dtype=float) * psc_ext_pA * tau_syn_ms


def scaled_neuron_counts(full_num_neurons, N_scaling):
    """Neurons per population at ``N_scaling`` (numpy rounding, half to even)."""
    return np.round(np.asarray(full_num_neurons) * N_scaling).astype(int)


def dc_compensation(full_synapses, full_num_neurons, weights_full_pA, full_rates_hz,
                    tau_syn_ms, K_scaling):
    """DC (pA) restoring the mean recurrent input lost when in-degrees are scaled.

    With weights J / sqrt(f) and in-degrees f K the variance is kept and the mean
    drops by (1 - sqrt(f)) tau_s K J r; this returns that amount per target
    population (remark 3 of the description), using full-scale in-degrees
    K = K_total / N_target and full-scale rates r.
    """
    indegrees = np.asarray(full_synapses) / np.asarray(full_num_neurons, dtype=float)[:, None]
    mean_input = np.sum(weights_full_pA * indegrees * np.asarray(full_rates_hz), axis=1)
    return 1e-3 * tau_syn_ms * (1.0 - np.sqrt(K_scaling)) * mean_input


def thalamic_synapse_counts(full_synapses, N_scaling, K_scaling, rule="in_degree"):
    """Thalamic synapse totals per target population at the given scaling (int64).

    ``full_synapses``: the full-scale totals (floats, from :func:`synapse_counts`).
    ``rule`` "in_degree": x N_scaling x K_scaling, like the recurrent totals, so
    each cortical neuron keeps K_scaling times its full-scale thalamic in-degree;
    "total": x K_scaling only, as the PyNEST reference example does, so the
    in-degree per neuron is 1 / N_scaling times larger than with "in_degree".
    The thalamic population keeps its full-scale size under both rules.
    """
    factors = {"in_degree": N_scaling * K_scaling, "total": K_scaling}
    if rule not in factors:
        raise ValueError(f"thalamic synapse scaling must be one of {sorted(factors)}, "
                         f"got {rule!r}")
    return np.round(np.asarray(full_synapses, dtype=float) * factors[rule]).astype(np.int64)


def derive(params, background_fraction=None):
    """All derived quantities for a resolved parameter dict, as a dict of arrays.

    ``background_fraction`` (array of 8, default all 1) is the part of each
    population's external (cortico-cortical) input that stays background, for
    models that replace the rest with input from other areas: the DC background
    and the Poisson rate per source are multiplied by it (``bg_rate_hz`` in the
    result), so mean and variance of the background scale with it.

    Keys: ``num_neurons``, ``num_synapses`` [t, s], ``weights_pA`` [t, s] (means,
    signed), ``weight_sd_pA`` [t, s], ``delay_mean_ms`` [s], ``delay_sd_ms`` [s],
    ``K_ext`` (scaled in-degrees), ``psc_ext_pA``, ``bg_rate_hz`` (per source and
    population), ``poisson_rate_hz`` (total per neuron, Poisson background), ``dc_pA`` (DC per neuron, background and
    compensation), ``thalamic_synapses``, ``thalamic_weight_pA``,
    ``background_delay_ms`` (of the Poisson background), ``full_mean_rates_hz``.
    """
    N_s, K_s = params["N_scaling"], params["K_scaling"]
    full_n = np.asarray(params["full_num_neurons"])
    psc_unit = psc_per_psp(params["C_m_pF"], params["tau_m_ms"], params["tau_syn_ms"])
    psc_ext = params["PSP_exc_mean_mV"] * psc_unit
    weights_full = weight_matrix(psc_ext, params["g"], params["PSP_L23E_from_L4E_factor"])
    full_syn = synapse_counts(params["conn_probs"], full_n, full_n)

    fraction = np.ones(len(POPULATIONS)) if background_fraction is None else \
        np.asarray(background_fraction, dtype=float)
    if np.any(fraction < 0) or np.any(fraction > 1):
        raise ValueError(f"background fractions must be in [0, 1], got {fraction}")
    # the kept background acts as fraction * K_ext inputs at bg_rate
    K_ext_full = np.asarray(params["K_ext"], dtype=float) * fraction
    if params["background"] == "dc":
        dc = dc_background(params["bg_rate_hz"], K_ext_full, psc_ext, params["tau_syn_ms"])
    else:
        dc = np.zeros(len(POPULATIONS))
        # the Poisson input is scaled like recurrent input; restore its lost mean
        dc += 1e-3 * params["tau_syn_ms"] * (1.0 - np.sqrt(K_s)) * (
            psc_ext * K_ext_full * params["bg_rate_hz"])
    dc = dc + dc_compensation(full_syn, full_n, weights_full, params["full_mean_rates_hz"],
                              params["tau_syn_ms"], K_s)

    weights = weights_full / np.sqrt(K_s)
    K_ext = np.round(np.asarray(params["K_ext"], dtype=float) * K_s).astype(int)

    delay_mean = np.where(EXCITATORY, params["delay_exc_mean_ms"], params["delay_inh_mean_ms"])

    th_full = synapse_counts(np.asarray(params["thalamic_conn_probs"])[:, None], full_n,
                             [params["thalamic_num_neurons"]])[:, 0]
    return {
        "num_neurons": scaled_neuron_counts(full_n, N_s),
        "num_synapses": np.round(full_syn * N_s * K_s).astype(np.int64),
        "weights_pA": weights,
        "weight_sd_pA": np.abs(weights) * params["PSP_rel_sd"],
        "delay_mean_ms": delay_mean,
        "delay_sd_ms": delay_mean * params["delay_rel_sd"],
        "psc_ext_pA": psc_ext / np.sqrt(K_s),
        "K_ext": K_ext,
        "bg_rate_hz": params["bg_rate_hz"] * fraction,
        "poisson_rate_hz": K_ext * params["bg_rate_hz"] * fraction,
        "dc_pA": dc,
        "thalamic_synapses": thalamic_synapse_counts(
            th_full, N_s, K_s, params["thalamic_synapse_scaling"]),
        "thalamic_weight_pA": params["thalamic_PSP_mV"] * psc_unit / np.sqrt(K_s),
        "background_delay_ms": params["delay_exc_mean_ms"],
        "full_mean_rates_hz": np.asarray(params["full_mean_rates_hz"], dtype=float),
    }


def full_scale_synapse_total(params):
    """Total recurrent synapses of the full-scale model (sum of rounded counts)."""
    full_n = np.asarray(params["full_num_neurons"])
    return int(np.round(synapse_counts(params["conn_probs"], full_n, full_n)).sum())


def expected_recording(num_neurons, full_rates_hz, params):
    """``(spikes, v_samples)`` a circuit records in a run of ``params``.

    Spikes: every neuron (``num_neurons`` per population) at its population's
    full-scale mean rate (``full_rates_hz``, 1/s) over presimulation and
    simulation (``t_presim_ms + t_sim_ms``); samples of ``v`` of ``record_v``
    neurons per population every ``record_v_interval_ms``.
    """
    num_neurons = np.asarray(num_neurons)
    duration_ms = params["t_presim_ms"] + params["t_sim_ms"]
    spikes = float(np.sum(num_neurons * np.asarray(full_rates_hz))) * duration_ms * 1e-3
    traced = float(np.minimum(num_neurons, params["record_v"]).sum())
    return spikes, traced * duration_ms / params["record_v_interval_ms"]
