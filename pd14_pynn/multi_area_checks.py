"""The checks of a multi-area description file: every entry against its domain.

The rules of the format of :mod:`pd14_pynn.multi_area_description`, on its JSON
form (plain dicts and lists): the format's name and version, the keys of every
section with the domain of each value, and the relations between entries.

* :func:`check` -- raise :class:`~pd14_pynn.parameters.ParameterError` with one
  line for the first unusable entry (its path, e.g. ``areas.TH.indegrees.L4E``,
  and what is allowed there); :func:`pd14_pynn.multi_area_description.validate`
  calls it, also with the in-memory form.
* :data:`FORMAT`, :data:`FORMAT_VERSION`, :data:`NEURON_MODELS`,
  :data:`NON_SIMULATED` -- the values the format allows, which the description
  module writes.

Pure Python: no numpy, no PyNN, no simulator.
"""

import difflib
import math

from .domains import Choice, Flag, Number, short_repr
from .parameters import DOMAINS, ParameterError
from .population_names import POPULATIONS

FORMAT = "pd14-pynn multi-area description"
FORMAT_VERSION = 1
NEURON_MODELS = ("IF_curr_exp",)
#: how a non-simulated area is replaced: Poisson input at each source population's
#: full_mean_rate_hz, or at its area's external_rate_hz
NON_SIMULATED = ("poisson_full_mean_rates", "poisson_external_rate")

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


def check(data):
    """Raise :class:`ParameterError` with one line for the first unusable entry.

    ``data``: the JSON form of a description (a dict); what is checked is listed
    at :func:`pd14_pynn.multi_area_description.validate`, which calls this.
    """
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
