"""Multi-area models as data: a JSON description file, its in-memory form and its checks.

A description holds every number a multi-area model of PD14-like areas needs,
at full scale, with the rules that scale it (docs/multi_area.md, "The
description file"): per area its populations (any of the eight PD14 names)
with sizes, external in-degrees and rates; intra-area in-degrees; inter-area
in-degrees and distances; weights, delays, neuron parameters, the scaling
rules and which areas are simulated. Pure Python and numpy: no PyNN, no
simulator.

* :class:`MultiAreaDescription` (with :class:`Area`, :class:`Population`, ...)
  -- the in-memory form, plain dataclasses; its methods give full-scale and
  scaled numbers (:meth:`~MultiAreaDescription.scaled_num_neurons`,
  :meth:`~MultiAreaDescription.scaled_synapse_counts`, weights, delays).
* :func:`load`, :func:`save` -- the JSON file, validated both ways.
* :func:`validate` -- raise :class:`~pd14_pynn.parameters.ParameterError` with
  one line for the first unusable entry (its path, e.g.
  ``areas.TH.indegrees.L4E``, and what is allowed there), before anything is built;
  the checks themselves are :mod:`pd14_pynn.multi_area_checks`.
* :func:`from_dict`, :func:`to_dict` -- between the in-memory and the JSON form.
* :func:`microcircuit_description` -- PD14 itself as a one-area description.

In-degrees are inputs per target neuron at full scale (floats); the synapses
of a connection are ``K x N_target x K_scaling x N_scaling``, rounded by the
file's ``scaling.count_rounding``.
"""

import dataclasses
import json

import numpy as np

from . import derive, multi_area_checks
from .multi_area_checks import FORMAT, FORMAT_VERSION, NON_SIMULATED
from .parameters import ParameterError
from .population_names import POPULATIONS


@dataclasses.dataclass
class Population:
    """One population of an area, at full scale."""
    num_neurons: float
    external_indegree: float
    external_rate_hz: float
    full_mean_rate_hz: float


@dataclasses.dataclass
class Area:
    """An area: its populations (name -> :class:`Population`, in PD14 order) and
    its intra-area in-degrees ``indegrees[target][source]`` (absent: 0)."""
    populations: dict
    indegrees: dict


@dataclasses.dataclass
class InterArea:
    """``indegrees[target_area][target_population][source_area][source_population]``
    (absent: 0) and ``distances_mm[target_area][source_area]``."""
    indegrees: dict
    distances_mm: dict


@dataclasses.dataclass
class Weights:
    """Mean PSC amplitudes at full scale (pA, signed) and their factors.

    Intra-area: ``excitatory_pA`` from excitatory sources (times
    ``L23E_from_L4E_factor`` for L4E -> L23E), ``inhibitory_pA`` from inhibitory
    ones. Inter-area: the same by source type, times ``cortico_cortical_factor``,
    times ``cortico_cortical_inhibitory_target_factor`` onto inhibitory targets.
    Standard deviation: ``rel_sd`` times the magnitude.
    """
    excitatory_pA: float
    inhibitory_pA: float
    L23E_from_L4E_factor: float
    rel_sd: float
    cortico_cortical_factor: float
    cortico_cortical_inhibitory_target_factor: float


@dataclasses.dataclass
class Delays:
    """Normal delays: intra-area means by source type; inter-area mean
    ``distance_mm / inter_area_speed_mm_per_ms``; sd = mean x relative sd."""
    excitatory_mean_ms: float
    inhibitory_mean_ms: float
    rel_sd: float
    inter_area_speed_mm_per_ms: float
    inter_area_rel_sd: float


@dataclasses.dataclass
class Neuron:
    """Neuron parameters of every area; initial V_m ~ N(V0_mean_mV, V0_sd_mV), each
    one number or one per population name."""
    model: str
    C_m_pF: float
    tau_m_ms: float
    tau_syn_ms: float
    E_L_mV: float
    V_reset_mV: float
    V_th_mV: float
    t_ref_ms: float
    V0_mean_mV: object
    V0_sd_mV: object


@dataclasses.dataclass
class ExternalInput:
    """The background: ``kind`` "poisson" (each neuron receives its population's
    ``external_indegree`` x ``external_rate_hz``) or "dc" (the same mean as a
    constant current); PSC ``weight_pA`` after ``delay_ms``."""
    kind: str
    weight_pA: float
    delay_ms: float


@dataclasses.dataclass
class Scaling:
    """Down-scaling: sizes x N_scaling, in-degrees x K_scaling, weights / sqrt(K_scaling),
    the lost mean restored as DC from the full-scale rates.

    ``count_rounding``: "round" (half to even) or "truncate" (``int()``), for
    neurons and synapses; ``external_indegree_rounding``: "round" or "none" (the
    Poisson rate uses the unrounded K_scaling x in-degree);
    ``weight_sd_scales_with_K``: whether the sd is divided by sqrt(K_scaling) with
    the mean.
    """
    N_scaling: float
    K_scaling: float
    count_rounding: str
    external_indegree_rounding: str
    weight_sd_scales_with_K: bool


@dataclasses.dataclass
class Simulation:
    """Which areas are built; the others are replaced as ``non_simulated_areas`` says."""
    simulated_areas: list
    non_simulated_areas: str
    t_presim_ms: float
    resolution_ms: float


@dataclasses.dataclass
class MultiAreaDescription:
    """A whole multi-area model, at full scale (see the module docstring)."""
    name: str
    source: str
    areas: dict
    inter_area: InterArea
    weights: Weights
    delays: Delays
    neuron: Neuron
    external_input: ExternalInput
    scaling: Scaling
    simulation: Simulation

    # --- full-scale numbers ---------------------------------------------
    def connections(self):
        """``(target_area, target_pop, source_area, source_pop, indegree)`` of every
        non-zero entry, intra-area first (area by area), then inter-area."""
        for label, area in self.areas.items():
            for target, row in area.indegrees.items():
                for source, k in row.items():
                    if k:
                        yield label, target, label, source, k
        for target_area, rows in self.inter_area.indegrees.items():
            for target, sources in rows.items():
                for source_area, row in sources.items():
                    for source, k in row.items():
                        if k:
                            yield target_area, target, source_area, source, k

    def total_neurons(self):
        """Neurons of all areas at full scale (a float: sizes may be fractional)."""
        return sum(p.num_neurons for a in self.areas.values() for p in a.populations.values())

    def total_synapses(self):
        """Synapses of all connections at full scale, unrounded: sum of K x N_target."""
        return sum(k * self.areas[ta].populations[tp].num_neurons
                   for ta, tp, _, _, k in self.connections())

    def weight_pA(self, target_area, target_pop, source_area, source_pop):
        """Mean PSC amplitude (pA) of a connection at full scale."""
        w = self.weights
        mean = w.excitatory_pA if source_pop.endswith("E") else w.inhibitory_pA
        if target_area == source_area:
            if (target_pop, source_pop) == ("L23E", "L4E"):
                mean *= w.L23E_from_L4E_factor
            return mean
        mean *= w.cortico_cortical_factor
        if target_pop.endswith("I"):
            mean *= w.cortico_cortical_inhibitory_target_factor
        return mean

    def delay_mean_ms(self, target_area, source_area, source_pop):
        """Mean delay (ms): by source type within an area, distance / speed between areas."""
        d = self.delays
        if target_area == source_area:
            return d.excitatory_mean_ms if source_pop.endswith("E") else d.inhibitory_mean_ms
        return self.inter_area.distances_mm[target_area][source_area] / d.inter_area_speed_mm_per_ms

    def delay_sd_ms(self, target_area, source_area, source_pop):
        """Standard deviation (ms) of the delay of a connection."""
        rel = self.delays.rel_sd if target_area == source_area else self.delays.inter_area_rel_sd
        return rel * self.delay_mean_ms(target_area, source_area, source_pop)

    # --- scaled numbers ---------------------------------------------------
    def _count(self, value):
        return int(value) if self.scaling.count_rounding == "truncate" else int(np.round(value))

    def scaled_num_neurons(self):
        """``{area: {population: neurons}}`` at ``N_scaling``."""
        n = self.scaling.N_scaling
        return {label: {name: self._count(p.num_neurons * n) for name, p in a.populations.items()}
                for label, a in self.areas.items()}

    def scaled_synapse_counts(self):
        """``{(target_area, target_pop, source_area, source_pop): synapses}`` at the
        scaling: K x N_target x (K_scaling x N_scaling), rounded by ``count_rounding``."""
        factor = self.scaling.K_scaling * self.scaling.N_scaling
        return {(ta, tp, sa, sp): self._count(k * self.areas[ta].populations[tp].num_neurons
                                              * factor)
                for ta, tp, sa, sp, k in self.connections()}


# --- the JSON form ---------------------------------------------------------

def to_dict(description):
    """The JSON form of a :class:`MultiAreaDescription` (plain dicts and lists)."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION,
            **dataclasses.asdict(description)}


def from_dict(data):
    """A validated :class:`MultiAreaDescription` from its JSON form."""
    validate(data)

    def section(cls, key):
        return cls(**data[key])

    areas = {label: Area(
        populations={name: Population(**area["populations"][name])
                     for name in POPULATIONS if name in area["populations"]},
        indegrees={t: dict(row) for t, row in area["indegrees"].items()})
        for label, area in data["areas"].items()}
    return MultiAreaDescription(
        name=data["name"], source=data["source"], areas=areas,
        inter_area=section(InterArea, "inter_area"), weights=section(Weights, "weights"),
        delays=section(Delays, "delays"), neuron=section(Neuron, "neuron"),
        external_input=section(ExternalInput, "external_input"),
        scaling=section(Scaling, "scaling"),
        simulation=Simulation(**{**data["simulation"],
                                 "simulated_areas": list(data["simulation"]["simulated_areas"])}))


def load(path):
    """Read and validate a description file (JSON); returns a :class:`MultiAreaDescription`."""
    try:
        with open(path) as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise ParameterError(f"{path} is not a JSON file: {err}") from err
    except OSError as err:
        raise ParameterError(f"cannot read the description file {path}: {err.strerror}") from err
    return from_dict(data)


def save(description, path):
    """Validate ``description`` (a :class:`MultiAreaDescription` or its dict); write it as JSON."""
    data = to_dict(description) if isinstance(description, MultiAreaDescription) else description
    validate(data)
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


# --- validation ---------------------------------------------------------

def validate(description):
    """Raise :class:`ParameterError` with one line for the first unusable entry.

    ``description``: a :class:`MultiAreaDescription` or its JSON form (a dict).
    Checked (:func:`pd14_pynn.multi_area_checks.check`): every key known (an
    unknown one is named with its closest match) and present; each value in
    its domain; population names among the eight of PD14 and present in their
    area wherever they are referenced; inter-area connections between two
    different areas of the file, with a distance; simulated areas in the file;
    every population keeps a neuron at the scaling.
    """
    multi_area_checks.check(
        to_dict(description) if isinstance(description, MultiAreaDescription) else description)


# --- PD14 as a one-area description ---------------------------------------

def microcircuit_description(params, area="PD14"):
    """PD14 (resolved ``params``, :func:`pd14_pynn.parameters.resolve`) as a one-area description.

    Sizes ``full_num_neurons``; in-degrees K = synapses / N_target with the
    full-scale synapse numbers of :func:`pd14_pynn.derive.synapse_counts` (so
    that K x N x N_scaling x K_scaling, rounded half to even, is derive's count);
    external in-degree ``K_ext`` at ``bg_rate_hz``; PD14's weights, delays,
    neuron parameters, initial potentials and scaling rules. The thalamic input
    has no place in a multi-area description: ``thalamic_input`` must be off.
    """
    if params["thalamic_input"]:
        raise ParameterError("thalamic_input = True is not allowed here: a multi-area "
                             "description has no thalamic input")
    full_n = np.asarray(params["full_num_neurons"], dtype=float)
    full_syn = derive.synapse_counts(params["conn_probs"], full_n, full_n)
    indegrees = full_syn / full_n[:, None]
    psc_exc = params["PSP_exc_mean_mV"] * derive.psc_per_psp(
        params["C_m_pF"], params["tau_m_ms"], params["tau_syn_ms"])
    if params["V0_type"] == "optimized":
        v0_mean = dict(zip(POPULATIONS, params["V0_mean_optimized_mV"]))
        v0_sd = dict(zip(POPULATIONS, params["V0_std_optimized_mV"]))
    else:
        v0_mean, v0_sd = params["V0_mean_original_mV"], params["V0_std_original_mV"]
    populations = {name: Population(
        num_neurons=params["full_num_neurons"][i], external_indegree=params["K_ext"][i],
        external_rate_hz=params["bg_rate_hz"], full_mean_rate_hz=params["full_mean_rates_hz"][i])
        for i, name in enumerate(POPULATIONS)}
    rows = {target: {source: float(indegrees[t, s]) for s, source in enumerate(POPULATIONS)
                     if indegrees[t, s] > 0}
            for t, target in enumerate(POPULATIONS)}
    description = MultiAreaDescription(
        name="PD14 microcircuit (Potjans & Diesmann 2014)",
        source="pd14_pynn.multi_area_description.microcircuit_description",
        areas={area: Area(populations=populations, indegrees=rows)},
        inter_area=InterArea(indegrees={}, distances_mm={}),
        weights=Weights(excitatory_pA=psc_exc, inhibitory_pA=params["g"] * psc_exc,
                        L23E_from_L4E_factor=params["PSP_L23E_from_L4E_factor"],
                        rel_sd=params["PSP_rel_sd"], cortico_cortical_factor=1.0,
                        cortico_cortical_inhibitory_target_factor=1.0),
        delays=Delays(excitatory_mean_ms=params["delay_exc_mean_ms"],
                      inhibitory_mean_ms=params["delay_inh_mean_ms"],
                      rel_sd=params["delay_rel_sd"],
                      inter_area_speed_mm_per_ms=1.0, inter_area_rel_sd=params["delay_rel_sd"]),
        neuron=Neuron(model="IF_curr_exp", C_m_pF=params["C_m_pF"], tau_m_ms=params["tau_m_ms"],
                      tau_syn_ms=params["tau_syn_ms"], E_L_mV=params["E_L_mV"],
                      V_reset_mV=params["V_reset_mV"], V_th_mV=params["V_th_mV"],
                      t_ref_ms=params["t_ref_ms"], V0_mean_mV=v0_mean, V0_sd_mV=v0_sd),
        external_input=ExternalInput(kind=params["background"], weight_pA=psc_exc,
                                     delay_ms=params["delay_exc_mean_ms"]),
        scaling=Scaling(N_scaling=params["N_scaling"], K_scaling=params["K_scaling"],
                        count_rounding="round", external_indegree_rounding="round",
                        weight_sd_scales_with_K=True),
        simulation=Simulation(simulated_areas=[area], non_simulated_areas=NON_SIMULATED[0],
                              t_presim_ms=params["t_presim_ms"],
                              resolution_ms=params["resolution_ms"]))
    validate(description)
    return description
