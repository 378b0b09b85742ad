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
  ``areas.TH.indegrees.L4E``, and what is allowed there), before anything is built.
* :func:`from_dict`, :func:`to_dict` -- between the in-memory and the JSON form.
* :func:`microcircuit_description` -- PD14 itself as a one-area description.

In-degrees are inputs per target neuron at full scale (floats); the synapses
of a connection are ``K x N_target x K_scaling x N_scaling``, rounded by the
file's ``scaling.count_rounding``.
"""

import dataclasses
import difflib
import json
import math

import numpy as np

from . import derive
from .domains import Choice, Flag, Number, short_repr
from .parameters import DOMAINS, ParameterError
from .population_names import POPULATIONS

FORMAT = "pd14-pynn multi-area description"
FORMAT_VERSION = 1
NEURON_MODELS = ("IF_curr_exp",)
#: how a non-simulated area is replaced: Poisson input at each source population's
#: full_mean_rate_hz, or at its area's external_rate_hz
NON_SIMULATED = ("poisson_full_mean_rates", "poisson_external_rate")


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

_TOP_KEYS = ("format", "format_version", "name", "source", "areas", "inter_area", "weights",
             "delays", "neuron", "external_input", "scaling", "simulation")
_POSITIVE = Number("(0, inf)")
_NON_NEGATIVE = Number("[0, inf)")
_POPULATION = {
    "num_neurons": Number("(0, inf)", why="leave out a population the area does not have"),
    "external_indegree": _NON_NEGATIVE,
    "external_rate_hz": Number("[0, inf)", unit="1/s"),
    "full_mean_rate_hz": Number("[0, inf)", unit="1/s"),
}
# section -> key -> domain (a domain object, or a function (path, value) -> problem)
_SECTIONS = {
    "weights": {
        "excitatory_pA": Number("(0, inf)", unit="pA"),
        "inhibitory_pA": Number("(-inf, 0]", unit="pA", why="inhibitory PSCs are negative"),
        "L23E_from_L4E_factor": _POSITIVE,
        "rel_sd": _NON_NEGATIVE,
        "cortico_cortical_factor": _POSITIVE,
        "cortico_cortical_inhibitory_target_factor": _POSITIVE,
    },
    "delays": {
        "excitatory_mean_ms": Number("(0, inf)", unit="ms"),
        "inhibitory_mean_ms": Number("(0, inf)", unit="ms"),
        "rel_sd": _NON_NEGATIVE,
        "inter_area_speed_mm_per_ms": Number("(0, inf)", unit="mm/ms"),
        "inter_area_rel_sd": _NON_NEGATIVE,
    },
    "neuron": {
        "model": Choice(*NEURON_MODELS),
        **{key: DOMAINS[key] for key in ("C_m_pF", "tau_m_ms", "tau_syn_ms", "E_L_mV",
                                         "V_reset_mV", "V_th_mV", "t_ref_ms")},
        "V0_mean_mV": lambda path, value: _per_population(path, value, Number("(-inf, inf)",
                                                                             unit="mV")),
        "V0_sd_mV": lambda path, value: _per_population(path, value, Number("[0, inf)",
                                                                           unit="mV")),
    },
    "external_input": {
        "kind": Choice("poisson", "dc"),
        "weight_pA": Number("[0, inf)", unit="pA"),
        "delay_ms": Number("(0, inf)", unit="ms"),
    },
    "scaling": {
        "N_scaling": DOMAINS["N_scaling"],
        "K_scaling": DOMAINS["K_scaling"],
        "count_rounding": Choice("round", "truncate"),
        "external_indegree_rounding": Choice("round", "none"),
        "weight_sd_scales_with_K": Flag(),
    },
    "simulation": {
        "simulated_areas": lambda path, value: None,  # checked against the areas below
        "non_simulated_areas": Choice(*NON_SIMULATED),
        "t_presim_ms": Number("[0, inf)", unit="ms"),
        "resolution_ms": DOMAINS["resolution_ms"],
    },
}


def validate(description):
    """Raise :class:`ParameterError` with one line for the first unusable entry.

    ``description``: a :class:`MultiAreaDescription` or its JSON form (a dict).
    Checked: every key known (an unknown one is named with its closest match)
    and present; each value in its domain; population names among the eight
    of PD14 and present in their area wherever they are referenced; inter-area
    connections between two different areas of the file, with a distance;
    simulated areas in the file; every population keeps a neuron at the scaling.
    """
    data = to_dict(description) if isinstance(description, MultiAreaDescription) else description
    _check_keys("the description", data, _TOP_KEYS)
    if data["format"] != FORMAT or data["format_version"] != FORMAT_VERSION:
        raise ParameterError(
            f"format = {short_repr(data['format'])}, format_version = "
            f"{short_repr(data['format_version'])} is not allowed: this version reads "
            f"format {FORMAT!r}, format_version {FORMAT_VERSION}")
    for key in ("name", "source"):
        if not isinstance(data[key], str):
            raise ParameterError(f"{key} = {short_repr(data[key])} is not allowed: it must be "
                                 f"a string")
    for section, domains in _SECTIONS.items():
        _check_keys(section, data[section], domains)
        for key, domain in domains.items():
            path, value = f"{section}.{key}", data[section][key]
            problem = domain(path, value) if callable(domain) else domain.problem(path, value)
            if problem:
                raise ParameterError(problem)
    areas = _check_areas(data["areas"])
    _check_inter_area(data["inter_area"], areas)
    _check_relations(data, areas)


def _check_keys(path, mapping, allowed):
    """``mapping`` is a dict with exactly the keys ``allowed``."""
    if not isinstance(mapping, dict):
        raise ParameterError(f"{path} = {short_repr(mapping)} is not allowed: it must be an "
                             f"object with the keys {', '.join(allowed)}")
    for key in mapping:
        if key not in allowed:
            raise ParameterError(f"unknown key {_join(path, key)}{_closest(key, allowed)}; "
                                 f"allowed there: {', '.join(allowed)}")
    missing = [key for key in allowed if key not in mapping]
    if missing:
        raise ParameterError(f"{path} lacks {', '.join(missing)}")


def _join(path, key):
    return key if path == "the description" else f"{path}.{key}"


def _closest(name, allowed):
    close = difflib.get_close_matches(str(name), list(allowed), n=1, cutoff=0.5)
    return f" (closest match: {close[0]!r})" if close else ""


def _per_population(path, value, domain):
    """A number, or an object with one number per population name."""
    if isinstance(value, dict):
        for name, element in value.items():
            if name not in POPULATIONS:
                return _unknown_population(path, name)
            problem = domain.problem(f"{path}.{name}", element)
            if problem:
                return problem
        return None
    problem = domain.problem(path, value)
    return problem and problem + " (or an object with one per population name)"


def _unknown_population(path, name):
    return (f"{path}: unknown population {name!r}{_closest(name, POPULATIONS)}; populations "
            f"are named {', '.join(POPULATIONS)}")


def _dict(path, value, what):
    if not isinstance(value, dict):
        raise ParameterError(f"{path} = {short_repr(value)} is not allowed: it must be an object "
                             f"{what}")
    return value


def _area_label(path, label):
    if not isinstance(label, str) or not label or "/" in label or "." in label:
        raise ParameterError(f"{path}: area name {label!r} is not allowed: it must be a "
                             f"non-empty string without '/' or '.'")


def _known_area(path, label, areas):
    if label not in areas:
        raise ParameterError(f"{path}: unknown area {label!r}{_closest(label, areas)}; it is not "
                             f"among the {len(areas)} areas under 'areas'")


def _population_of(path, area, name, areas):
    """``name`` is a population of ``area`` (a PD14 name the area has)."""
    if name not in POPULATIONS:
        raise ParameterError(_unknown_population(path, name))
    if name not in areas[area]:
        raise ParameterError(f"{path}: area {area!r} has no population {name!r} (its "
                             f"populations: {', '.join(areas[area])})")


def _indegree(path, value):
    problem = Number("[0, inf)", why="inputs per target neuron at full scale").problem(path, value)
    if problem:
        raise ParameterError(problem)


def _check_areas(areas_data):
    """Check ``areas``; returns ``{area: [its population names]}``."""
    if not isinstance(areas_data, dict) or not areas_data:
        raise ParameterError(f"areas = {short_repr(areas_data)} is not allowed: it must be an "
                             f"object with at least one area")
    areas = {}
    for label, area in areas_data.items():
        _area_label("areas", label)
        path = f"areas.{label}"
        _check_keys(path, area, ("populations", "indegrees"))
        pops = _dict(f"{path}.populations", area["populations"], "of populations")
        if not pops:
            raise ParameterError(f"{path}.populations is empty: an area needs a population")
        for name, population in pops.items():
            if name not in POPULATIONS:
                raise ParameterError(_unknown_population(f"{path}.populations", name))
            _check_keys(f"{path}.populations.{name}", population, tuple(_POPULATION))
            for key, domain in _POPULATION.items():
                problem = domain.problem(f"{path}.populations.{name}.{key}", population[key])
                if problem:
                    raise ParameterError(problem)
        areas[label] = [name for name in POPULATIONS if name in pops]
        rows = _dict(f"{path}.indegrees", area["indegrees"], "{target: {source: in-degree}}")
        for target, row in rows.items():
            _population_of(f"{path}.indegrees", label, target, areas)
            for source, k in _dict(f"{path}.indegrees.{target}", row,
                                   "{source: in-degree}").items():
                _population_of(f"{path}.indegrees.{target}", label, source, areas)
                _indegree(f"{path}.indegrees.{target}.{source}", k)
    return areas


def _check_inter_area(inter, areas):
    _check_keys("inter_area", inter, ("indegrees", "distances_mm"))
    distances = _dict("inter_area.distances_mm", inter["distances_mm"],
                      "{target area: {source area: distance in mm}}")
    for target_area, row in distances.items():
        _known_area("inter_area.distances_mm", target_area, areas)
        for source_area, d in _dict(f"inter_area.distances_mm.{target_area}", row,
                                    "{source area: distance in mm}").items():
            path = f"inter_area.distances_mm.{target_area}.{source_area}"
            _known_area(f"inter_area.distances_mm.{target_area}", source_area, areas)
            problem = Number("[0, inf)", unit="mm").problem(path, d)
            if problem:
                raise ParameterError(problem)
    path = "inter_area.indegrees"
    for target_area, rows in _dict(path, inter["indegrees"],
                                   "{target area: {target population: {source area: "
                                   "{source population: in-degree}}}}").items():
        _known_area(path, target_area, areas)
        for target, sources in _dict(f"{path}.{target_area}", rows,
                                     "of target populations").items():
            _population_of(f"{path}.{target_area}", target_area, target, areas)
            for source_area, row in _dict(f"{path}.{target_area}.{target}", sources,
                                          "of source areas").items():
                here = f"{path}.{target_area}.{target}"
                _known_area(here, source_area, areas)
                if source_area == target_area:
                    raise ParameterError(f"{here}.{source_area}: a connection within area "
                                         f"{target_area!r} belongs under "
                                         f"areas.{target_area}.indegrees")
                for source, k in _dict(f"{here}.{source_area}", row,
                                       "{source population: in-degree}").items():
                    _population_of(f"{here}.{source_area}", source_area, source, areas)
                    _indegree(f"{here}.{source_area}.{source}", k)
                    if k and not distances.get(target_area, {}).get(source_area):
                        raise ParameterError(
                            f"{here}.{source_area}.{source}: no distance for this connection; "
                            f"inter_area.distances_mm.{target_area}.{source_area} must be a "
                            f"number > 0 (mm)")


def _check_relations(data, areas):
    neuron, sim, scaling = data["neuron"], data["simulation"], data["scaling"]
    if not neuron["V_reset_mV"] < neuron["V_th_mV"]:
        raise ParameterError(f"neuron.V_reset_mV = {neuron['V_reset_mV']!r} is not allowed: it "
                             f"must be below neuron.V_th_mV = {neuron['V_th_mV']!r}")
    if abs(neuron["tau_syn_ms"] - neuron["tau_m_ms"]) <= 1e-6 * neuron["tau_m_ms"]:
        raise ParameterError(f"neuron.tau_syn_ms = {neuron['tau_syn_ms']!r} is not allowed: it "
                             f"must differ from neuron.tau_m_ms (the PSP formula is singular)")
    simulated = sim["simulated_areas"]
    if not isinstance(simulated, list) or not simulated:
        raise ParameterError(f"simulation.simulated_areas = {short_repr(simulated)} is not "
                             f"allowed: it must be a non-empty list of area names")
    for label in simulated:
        _known_area("simulation.simulated_areas", label, areas)
    if len(set(simulated)) != len(simulated):
        twice = next(label for label in simulated if simulated.count(label) > 1)
        raise ParameterError(f"simulation.simulated_areas names {twice!r} twice")
    for key in ("excitatory_mean_ms", "inhibitory_mean_ms"):
        if data["delays"][key] < sim["resolution_ms"]:
            raise ParameterError(f"delays.{key} = {data['delays'][key]!r} is not allowed: it "
                                 f"must be at least simulation.resolution_ms = "
                                 f"{sim['resolution_ms']!r}")
    truncate = scaling["count_rounding"] == "truncate"
    for label, area in data["areas"].items():
        for name, population in area["populations"].items():
            scaled = population["num_neurons"] * scaling["N_scaling"]
            if (math.floor(scaled) if truncate else round(scaled)) < 1:
                raise ParameterError(
                    f"scaling.N_scaling = {scaling['N_scaling']!r} is not allowed: it leaves "
                    f"areas.{label}.populations.{name} ({population['num_neurons']:g} neurons at "
                    f"full scale) without neurons")


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
