"""The numbers a multi-area description is built with: pure numpy, no PyNN.

From a :class:`~pd14_pynn.multi_area_description.MultiAreaDescription` (full
scale, with its scaling rules) to what the builder
(:class:`pd14_pynn.described_model.DescribedModel`) creates. Units: currents
in pA, times in ms, rates in 1/s; matrices ``[target, source]`` over an area's
populations in PD14 order.

* :func:`with_overrides` -- a copy with other scaling, times or simulated areas, validated.
* :func:`model_parameters` -- the resolved PD14 parameter set a run of the
  description uses (neurons, initial potentials, background kind, scaling,
  times, seed, threads).
* :func:`dc_pA` -- per area and population the DC (pA): the K-scaling
  compensation, plus the whole background with ``external_input.kind = "dc"``.
* :func:`area_numbers` -- one area's numbers, with the keys of
  :func:`pd14_pynn.derive.derive` (what ``Microcircuit(numbers=...)`` builds).
* :func:`inter_area_specs` -- the projections between simulated areas.
* :func:`replaced_inputs` -- the Poisson inputs that replace non-simulated areas.

**DC compensation** (as MAM's ``scale_network``, checked against its numbers
in tests/test_mam.py): in-degrees x K_scaling with weights / sqrt(K_scaling)
keep each input's variance and lower its mean by (1 - sqrt(K_scaling)) tau_s
sum K w r, summed over every input at full scale: intra-area, inter-area (from
simulated and replaced areas alike, at the sources' ``full_mean_rate_hz``) and
the Poisson background (K_ext w_ext r_ext). That amount is added as DC. With a
DC background the whole background mean K_ext w_ext r_ext tau_s is DC instead.

**Replaced areas** (MAM's ``replace_non_simulated_areas``, ``het_poisson_stat``
or ``hom_poisson_stat``): each connection from a population of a non-simulated
area to a simulated population becomes, for every target neuron, an
independent Poisson train of rate K_scaling x K x r (K the full-scale
in-degree, r the source's ``full_mean_rate_hz`` or ``external_rate_hz``), with
the connection's scaled mean weight and its mean delay (on the time grid), no
spread.
"""

import copy
import dataclasses
import difflib

import numpy as np

from . import derive, parameters
from . import multi_area_description as mad
from .connectivity import ProjectionSpec, on_grid, seed_sequence

# keys of parameters.py a description sets, and where it keeps them
_NEURON_KEYS = ("C_m_pF", "tau_m_ms", "tau_syn_ms", "E_L_mV", "V_reset_mV", "V_th_mV",
                "t_ref_ms")
#: parameter keys that belong to the description (scaling, simulation), not to the run
DESCRIPTION_KEYS = {"N_scaling": ("scaling", "N_scaling"), "K_scaling": ("scaling", "K_scaling"),
                    "t_presim_ms": ("simulation", "t_presim_ms"),
                    "resolution_ms": ("simulation", "resolution_ms"),
                    "background": ("external_input", "kind")}


@dataclasses.dataclass(frozen=True)
class ReplacedInput:
    """Poisson input replacing one connection from a non-simulated area.

    Every neuron of the target population receives an independent train of
    ``n_sources x rate_hz`` (1/s), each spike a PSC of ``weight_pA`` after ``delay_ms``.
    """
    target_area: str
    target_population: str
    source_area: str
    source_population: str
    n_sources: float
    rate_hz: float
    weight_pA: float
    delay_ms: float

    @property
    def label(self):
        """Label of the input, e.g. ``"V1_L4E<-V2_L23E_replaced"``."""
        return (f"{self.target_area}_{self.target_population}<-{self.source_area}_"
                f"{self.source_population}_replaced")


def with_overrides(description, overrides=None, simulated_areas=None):
    """A validated copy of ``description`` with ``overrides`` of the keys in
    :data:`DESCRIPTION_KEYS` (N_scaling, K_scaling, t_presim_ms, resolution_ms, background)
    and ``simulated_areas`` (a list of area names) where given. Raises
    :class:`~pd14_pynn.parameters.ParameterError` (one line) if the result is unusable."""
    copied = copy.deepcopy(description)
    for key, value in (overrides or {}).items():
        if key in DESCRIPTION_KEYS and value is not None:
            section, name = DESCRIPTION_KEYS[key]
            setattr(getattr(copied, section), name, value)
    if simulated_areas is not None:
        unknown = [a for a in simulated_areas if a not in copied.areas]
        if unknown:
            close = difflib.get_close_matches(str(unknown[0]), list(copied.areas), n=1)
            raise parameters.ParameterError(
                f"unknown area {unknown[0]!r} to simulate"
                f"{f' (closest match: {close[0]!r})' if close else ''}; the description "
                f"{copied.name!r} has the areas {', '.join(copied.areas)}")
        copied.simulation.simulated_areas = list(simulated_areas)
    mad.validate(copied)
    return copied


def _per_population(value):
    """A V0 entry (one number or {population: number}) as 8 numbers (absent: 0)."""
    if isinstance(value, dict):
        return [float(value.get(name, 0.0)) for name in parameters.POPULATIONS]
    return [float(value)] * len(parameters.POPULATIONS)


def model_parameters(description, overrides=None):
    """The resolved parameters of a run of ``description``.

    The description gives the neuron parameters, the initial potentials (one
    number: ``V0_type`` "original"; per population: "optimized"), the
    background kind, the scaling, ``t_presim_ms`` and
    ``resolution_ms``; ``overrides`` (parameters.py keys, e.g. ``t_sim_ms``,
    ``seed``, ``threads``, ``connectivity_rng``) the rest. The thalamic input is
    off. PD14's other numbers in the result (sizes, probabilities, weights,
    delays, rates) are not used by the builder: the description's are.
    """
    n = description.neuron
    values = {key: getattr(n, key) for key in _NEURON_KEYS}
    if isinstance(n.V0_mean_mV, dict) or isinstance(n.V0_sd_mV, dict):
        values.update(V0_type="optimized", V0_mean_optimized_mV=_per_population(n.V0_mean_mV),
                      V0_std_optimized_mV=_per_population(n.V0_sd_mV))
    else:
        values.update(V0_type="original", V0_mean_original_mV=float(n.V0_mean_mV),
                      V0_std_original_mV=float(n.V0_sd_mV))
    values.update(
        N_scaling=description.scaling.N_scaling, K_scaling=description.scaling.K_scaling,
        background=description.external_input.kind, thalamic_input=False,
        t_presim_ms=description.simulation.t_presim_ms,
        resolution_ms=description.simulation.resolution_ms)
    rest = {k: v for k, v in (overrides or {}).items()
            if k not in DESCRIPTION_KEYS and v is not None}
    thalamic = rest.pop("thalamic_input", False)
    if thalamic:
        raise parameters.ParameterError("thalamic_input is not allowed with a multi-area "
                                        "description (it has no thalamus)")
    values.update(rest)
    return parameters.resolve(values)


def _compensation_factor(description):
    return 1e-3 * description.neuron.tau_syn_ms * (1.0 - np.sqrt(description.scaling.K_scaling))


def dc_pA(description):
    """``{area: array over its populations}``: DC (pA) per neuron of every area.

    The compensation of K-scaling over every input (intra-area, inter-area,
    background), plus the full background mean with a DC background (module
    docstring). Computed for every area, simulated or not.
    """
    tau, k = description.neuron.tau_syn_ms, description.scaling.K_scaling
    ext = description.external_input
    inter = {}
    for ta, tp, sa, sp, indegree in description.connections():
        if ta != sa:
            rate = description.areas[sa].populations[sp].full_mean_rate_hz
            inter[ta, tp] = inter.get((ta, tp), 0.0) + \
                indegree * description.weight_pA(ta, tp, sa, sp) * rate
    result = {}
    for label, area in description.areas.items():
        names = list(area.populations)
        pops = [area.populations[name] for name in names]
        k_ext = np.array([p.external_indegree for p in pops], dtype=float)
        r_ext = np.array([p.external_rate_hz for p in pops], dtype=float)
        if ext.kind == "dc":
            background = derive.dc_background(r_ext, k_ext, ext.weight_pA, tau)
        else:
            # as derive.derive, so that PD14 as a description gets its DC to the bit
            background = 1e-3 * tau * (1.0 - np.sqrt(k)) * (ext.weight_pA * k_ext * r_ext)
        weights = np.array([[description.weight_pA(label, t, label, s) for s in names]
                            for t in names])
        indegrees = np.array([[area.indegrees.get(t, {}).get(s, 0.0) for s in names]
                              for t in names])
        rates = np.array([p.full_mean_rate_hz for p in pops])
        recurrent = 1e-3 * tau * (1.0 - np.sqrt(k)) * np.sum(weights * indegrees * rates, axis=1)
        dc = background + recurrent
        extra = np.array([inter.get((label, t), 0.0) for t in names])
        if extra.any():
            dc = dc + _compensation_factor(description) * extra
        result[label] = dc
    return result


def area_numbers(description, label, counts=None, dc=None):
    """The numbers of area ``label``, with the keys of :func:`pd14_pynn.derive.derive`.

    ``populations``: the area's names (PD14 order); arrays over them:
    ``num_neurons``, ``num_synapses`` [t, s] (``scaled_synapse_counts``),
    ``weights_pA`` (full-scale / sqrt(K_scaling)), ``weight_sd_pA`` (``rel_sd``
    x the scaled or the full-scale mean, per ``weight_sd_scales_with_K``),
    ``delay_mean_ms``, ``delay_sd_ms`` [s], ``K_ext`` (K_scaling x external
    in-degree, rounded per ``external_indegree_rounding``), ``psc_ext_pA``,
    ``bg_rate_hz``, ``poisson_rate_hz``, ``dc_pA`` (:func:`dc_pA`),
    ``background_delay_ms``, ``full_mean_rates_hz``; no thalamus. ``counts``,
    ``dc``: the description's ``scaled_synapse_counts()`` and :func:`dc_pA`, if
    already computed.
    """
    area, scaling = description.areas[label], description.scaling
    k = scaling.K_scaling
    names = list(area.populations)
    pops = [area.populations[name] for name in names]
    counts = description.scaled_synapse_counts() if counts is None else counts
    dc = dc_pA(description) if dc is None else dc
    sizes = description.scaled_num_neurons()[label]
    weights_full = np.array([[description.weight_pA(label, t, label, s) for s in names]
                             for t in names])
    weights = weights_full / np.sqrt(k)
    sd_of = weights if scaling.weight_sd_scales_with_K else weights_full
    k_ext = np.array([p.external_indegree for p in pops], dtype=float) * k
    if scaling.external_indegree_rounding == "round":
        k_ext = np.round(k_ext).astype(int)
    bg_rate = np.array([p.external_rate_hz for p in pops], dtype=float)
    delay_mean = np.array([description.delay_mean_ms(label, label, s) for s in names])
    return {
        "populations": names,
        "num_neurons": np.array([sizes[name] for name in names], dtype=int),
        "num_synapses": np.array([[counts.get((label, t, label, s), 0) for s in names]
                                  for t in names], dtype=np.int64),
        "weights_pA": weights,
        "weight_sd_pA": np.abs(sd_of) * description.weights.rel_sd,
        "delay_mean_ms": delay_mean,
        "delay_sd_ms": delay_mean * description.delays.rel_sd,
        "psc_ext_pA": description.external_input.weight_pA / np.sqrt(k),
        "K_ext": k_ext,
        "bg_rate_hz": bg_rate,
        "poisson_rate_hz": k_ext * bg_rate,
        "dc_pA": dc[label],
        "thalamic_synapses": np.zeros(len(names), dtype=np.int64),
        "thalamic_weight_pA": 0.0,
        "background_delay_ms": description.external_input.delay_ms,
        "full_mean_rates_hz": np.array([p.full_mean_rate_hz for p in pops]),
    }


def inter_area_specs(description, master_seed, counts=None):
    """``{(source_area, source_pop, target_area, target_pop): ProjectionSpec}`` of every
    connection between two simulated areas (zero-synapse ones included).

    Weights: the description's inter-area mean / sqrt(K_scaling), sd as for the
    intra-area ones; delays distance / speed, sd ``inter_area_rel_sd`` x mean.
    Seeds: ``seed_sequence(master_seed, "inter-area", source_area, source_pop,
    target_area, target_pop)``, as :mod:`pd14_pynn.inter_area`.
    """
    simulated = set(description.simulation.simulated_areas)
    counts = description.scaled_synapse_counts() if counts is None else counts
    k, rel_sd = description.scaling.K_scaling, description.weights.rel_sd
    specs = {}
    for ta, tp, sa, sp, _ in description.connections():
        if ta == sa or ta not in simulated or sa not in simulated:
            continue
        full = description.weight_pA(ta, tp, sa, sp)
        mean = full / np.sqrt(k)
        sd = abs(mean if description.scaling.weight_sd_scales_with_K else full) * rel_sd
        specs[sa, sp, ta, tp] = ProjectionSpec(
            n_synapses=counts[ta, tp, sa, sp], weight_mean_pA=float(mean),
            weight_sd_pA=float(sd), delay_mean_ms=float(description.delay_mean_ms(ta, sa, sp)),
            delay_sd_ms=float(description.delay_sd_ms(ta, sa, sp)),
            resolution_ms=description.simulation.resolution_ms,
            seed=seed_sequence(master_seed, "inter-area", sa, sp, ta, tp))
    return specs


def replaced_inputs(description):
    """The :class:`ReplacedInput` of every connection from a non-simulated area to a
    simulated one, by ``simulation.non_simulated_areas`` (module docstring)."""
    simulated = set(description.simulation.simulated_areas)
    k = description.scaling.K_scaling
    use_full_rate = description.simulation.non_simulated_areas == "poisson_full_mean_rates"
    inputs = []
    for ta, tp, sa, sp, indegree in description.connections():
        if ta not in simulated or sa in simulated:
            continue
        source = description.areas[sa].populations[sp]
        rate = source.full_mean_rate_hz if use_full_rate else source.external_rate_hz
        delay = float(on_grid(description.delay_mean_ms(ta, sa, sp),
                              description.simulation.resolution_ms))
        inputs.append(ReplacedInput(ta, tp, sa, sp, n_sources=indegree * k, rate_hz=float(rate),
                                    weight_pA=description.weight_pA(ta, tp, sa, sp) / np.sqrt(k),
                                    delay_ms=delay))
    return inputs
