"""Multi-area models: several PD14 microcircuits in one PyNN network.

An *area* is a :class:`~pd14_pynn.network.Microcircuit` with its own label
("V1", "V2", ...), its own parameter overrides and its own random streams.
*Inter-area connections* are fixed-total-number projections from a population
of one area to a population of another, made with the same connector (and so
the same per-simulator fast paths) as the recurrent projections. Part of the
receiving population's external (background) input is replaced by the
inter-area input, so that the mean input of its neurons stays the same.

* :class:`MultiAreaModel` -- declare areas and connections, build, record, collect.
* :func:`recorded_variables` -- what a PyNN population records.

The numbers of inter-area connections (the background rule, scaling, DC
compensation, projection specs) are pure functions in :mod:`pd14_pynn.inter_area`.

Nothing here imports a simulator: the PyNN module ``sim`` is passed in.

Over 400 lines for one class: declaring a model (with its checks), the
background rule and DC compensation applied per area, building, and access to
its parts are one interface that users read in one place; the arithmetic is in
:mod:`pd14_pynn.inter_area`.
"""

import dataclasses
import time
import types
import warnings

import numpy as np

from . import backends, connectors
from . import derive as derive_module
from . import parameters as parameters_module
from .inter_area import (InterAreaConnection, background_mean_pA, connection_mean_pA,
                         connection_spec, full_scale_psc_pA, kept_background_fraction,
                         scaling_compensation_pA)
from .network import Microcircuit, _say
from .parameters import POPULATIONS
from .progress import ConnectProgress

# parameters of the whole simulation, not of one area: an area may not override them
SIMULATION_KEYS = ("resolution_ms", "t_presim_ms", "t_sim_ms", "threads")
ON_EXCESS = ("error", "clip")


def build_area(model, label, circuit, record_spikes, on_phase, t0):
    """Build ``circuit`` as ``model``'s area ``label``; its phase times (s) go to
    ``model.timings["areas"][label]``, with the total since ``t0`` (perf_counter)."""
    circuit.build(record_spikes=record_spikes, on_phase=on_phase)
    model.areas[label] = circuit
    model.timings.setdefault("areas", {})[label] = dict(
        circuit.timings, total=time.perf_counter() - t0)


def finish_areas(model):
    """After a multi-area model's areas and inter-area input are built: ``create``
    and ``connect`` (s) summed over areas, the inter-area input counted as
    connecting (the phases of a single circuit), and one Assembly of every population."""
    per_area = model.timings["areas"].values()
    model.timings["create"] = sum(t["create"] for t in per_area)
    model.timings["connect"] = sum(t["connect"] for t in per_area) + model.timings["inter_area"]
    model.assembly = model.sim.Assembly(
        *[pop for circuit in model.areas.values() for pop in circuit.populations.values()],
        label="multi-area")


def collect_area_block(areas, t_presim_ms, variables, name):
    """One Neo block (named ``name``) of ``areas`` (label -> built Microcircuit): every
    population that records all of ``variables``, each SpikeTrain annotated with
    ``area``, ``population`` and ``index`` (:func:`pd14_pynn.recording.collect_block`);
    ``t_presim_ms`` (ms) is stored as annotation."""
    from .recording import collect_block
    variables = (variables,) if isinstance(variables, str) else tuple(variables)
    # collect_block needs only each circuit's ``label`` and ``populations``
    recorded = [types.SimpleNamespace(
        label=label, populations={n: pop for n, pop in circuit.populations.items()
                                  if set(variables) <= recorded_variables(pop)})
        for label, circuit in areas.items()]
    block = collect_block(recorded, t_presim_ms, variables)
    block.name = name
    block.annotations.update(areas=list(areas))
    return block


def recorded_variables(population):
    """Names of the variables recorded from at least one neuron of a PyNN population."""
    # PyNN 0.13 keys its recorder by Variable(name, location, label), older versions by name
    return {getattr(variable, "name", variable)
            for variable, ids in population.recorder.recorded.items() if ids}


class MultiAreaModel:
    """Several microcircuits (areas) and the connections between them, in one PyNN network.

    Parameters
    ----------
    sim : module
        A PyNN backend. It must be ``setup()`` before :meth:`build`; declaring
        areas and connections does not touch it (so :meth:`total_synapses` can
        be passed to the backend's ``setup``).
    params : dict, optional
        Resolved base parameters (:func:`pd14_pynn.parameters.resolve`) shared by
        all areas; default: the model defaults. Their ``seed`` is the master seed.
    fast : bool or pd14_pynn.backends.FastPaths
        Use the backend's fast paths (default), PyNN's generic code (``False``),
        or the given :class:`~pd14_pynn.backends.FastPaths`.
    verbose : bool
        Print build progress.
    on_excess : {"error", "clip"}
        What to do when the inter-area input of a population exceeds its whole
        background: raise ``ValueError`` (default), or warn and keep no
        background.
    connectivity : pd14_pynn.sonata_reader.NetworkFile, optional
        Take every projection's connections (recurrent, thalamic, inter-area)
        from this SONATA network instead of drawing them.

    Notes
    -----
    Declare with :meth:`add_area` for each area and :meth:`add_connection` for
    each inter-area connection, then :meth:`build`. Afterwards ``model["V1"]`` is
    the area's Microcircuit, ``model["V1"]["L23E"]`` or
    ``model.population("V1", "L23E")`` a population, ``projections`` the
    inter-area projections by connection key, ``assembly`` all populations.
    """

    def __init__(self, sim, params=None, fast=True, verbose=True, on_excess="error",
                 connectivity=None):
        if on_excess not in ON_EXCESS:
            raise ValueError(f"on_excess must be one of {ON_EXCESS}, got {on_excess!r}")
        self.sim = sim
        self.params = parameters_module.resolve(base=params)
        self.fast = fast
        self.verbose = verbose
        self.on_excess = on_excess
        self.connectivity = connectivity
        self.area_params = {}     # label -> resolved parameters, in declaration order
        self.connections = []     # InterAreaConnection, in declaration order
        self.areas = {}           # label -> Microcircuit (after build)
        self.projections = {}     # connection key -> PyNN Projection (after build)
        self.specs = {}           # connection key -> ProjectionSpec (after build)
        self.assembly = None
        self.timings = {}         # after build: "areas" (label -> seconds per phase),
        #                           "inter_area", and "create", "connect" summed

    # --- declaring --------------------------------------------------------
    def add_area(self, label, overrides=None, seed=None):
        """Declare an area; returns its resolved parameters.

        ``overrides`` (dict) are applied to the base parameters with
        :func:`~pd14_pynn.parameters.resolve` (e.g. ``{"K_ext": [...],
        "bg_rate_hz": 6.0}``); keys of the whole simulation
        (``SIMULATION_KEYS``) are refused. ``seed`` sets the area's own seed
        (default: the master seed, so areas differ through their labels only).
        """
        self._check_not_built()
        if not isinstance(label, str) or not label or "/" in label:
            raise ValueError(f"an area label must be a non-empty string without '/', "
                             f"got {label!r}")
        if label in self.area_params:
            raise ValueError(f"area {label!r} is already declared")
        refused = sorted(set(overrides or {}) & set(SIMULATION_KEYS))
        if refused:
            raise ValueError(f"{', '.join(refused)} apply to the whole simulation; set them "
                             f"in the base parameters, not for area {label!r}")
        params = parameters_module.resolve(overrides, base=self.params)
        if seed is not None:
            params = parameters_module.resolve({"seed": seed}, base=params)
        self.area_params[label] = params
        return params

    def add_connection(self, source_area, source_population, target_area, target_population,
                       indegree, weight_pA=None, psp_mV=None, delay_mean_ms=None,
                       delay_sd_ms=None, source_rate_hz=None, replace_background=True):
        """Declare an inter-area connection; returns the :class:`InterAreaConnection`.

        ``indegree``: inputs per target neuron at full scale (scaled by the target
        area's ``K_scaling`` when built). Weight: ``weight_pA`` (PSC amplitude)
        or ``psp_mV`` (PSP peak, converted with the target's neuron parameters),
        at full scale, with the sign of the source (Dale's law); default the
        model's excitatory PSP (``PSP_exc_mean_mV``), times ``g`` for an
        inhibitory source. Delays (ms): default the excitatory ones of the target
        area (``delay_exc_mean_ms``; sd = mean x ``delay_rel_sd``).
        ``source_rate_hz`` (1/s): the source rate assumed by the background rule;
        default the source population's ``full_mean_rates_hz``.
        ``replace_background``: reduce the target's background by this input's
        mean (default) or add it on top.
        """
        self._check_not_built()
        for area in (source_area, target_area):
            if area not in self.area_params:
                raise ValueError(f"unknown area {area!r}; declare it with add_area first")
        for population in (source_population, target_population):
            if population not in POPULATIONS:
                raise ValueError(f"unknown population {population!r}; one of {POPULATIONS}")
        if source_area == target_area:
            raise ValueError("source and target area are the same; recurrent connections "
                             "belong to the microcircuit")
        key = (source_area, source_population, target_area, target_population)
        if any(c.key == key for c in self.connections):
            raise ValueError(f"connection {key} is already declared (one projection per "
                             f"pair of populations: they would share a random stream)")
        if not indegree >= 0:
            raise ValueError(f"indegree must be >= 0, got {indegree!r}")
        target, source = self.area_params[target_area], self.area_params[source_area]
        excitatory = source_population.endswith("E")
        if weight_pA is not None and psp_mV is not None:
            raise ValueError("give the weight as weight_pA or as psp_mV, not both")
        if weight_pA is None:
            if psp_mV is None:
                psp_mV = target["PSP_exc_mean_mV"] * (1.0 if excitatory else target["g"])
            weight_pA = full_scale_psc_pA(target, psp_mV)
        if (excitatory and weight_pA < 0) or (not excitatory and weight_pA > 0):
            raise ValueError(f"the weight of {source_area}/{source_population} must be "
                             f"{'>= 0' if excitatory else '<= 0'} (Dale's law), got "
                             f"{weight_pA:g} pA")
        if delay_mean_ms is None:
            delay_mean_ms = target["delay_exc_mean_ms"]
        if delay_sd_ms is None:
            delay_sd_ms = delay_mean_ms * target["delay_rel_sd"]
        if not delay_mean_ms >= self.params["resolution_ms"] or not delay_sd_ms >= 0:
            raise ValueError(f"delays need mean >= one time step and sd >= 0, got "
                             f"{delay_mean_ms!r}, {delay_sd_ms!r} ms")
        if source_rate_hz is None:
            source_rate_hz = source["full_mean_rates_hz"][POPULATIONS.index(source_population)]
        if not source_rate_hz >= 0:
            raise ValueError(f"source_rate_hz must be >= 0, got {source_rate_hz!r}")
        connection = InterAreaConnection(
            source_area, source_population, target_area, target_population, float(indegree),
            float(weight_pA), float(delay_mean_ms), float(delay_sd_ms), float(source_rate_hz),
            bool(replace_background))
        self.connections.append(connection)
        return connection

    # --- derived numbers (before build) ---------------------------------------
    def inter_area_mean_pA(self):
        """dict area -> array (8) of full-scale mean inter-area input (pA) replacing background."""
        means = {label: np.zeros(len(POPULATIONS)) for label in self.area_params}
        for c in self.connections:
            if c.replace_background:
                means[c.target_area][POPULATIONS.index(c.target_population)] += \
                    connection_mean_pA(c, self.area_params[c.target_area])
        return means

    def background_fractions(self):
        """dict area -> {population: fraction of background kept}, by the rule (module doc).

        Raises ``ValueError`` (``on_excess="error"``) or warns and clips to 0
        (``"clip"``) where the inter-area input exceeds the background; warns and
        clips to 1 where it is net inhibitory.
        """
        fractions = {}
        for label, inter in self.inter_area_mean_pA().items():
            params = self.area_params[label]
            fractions[label] = {}
            for i, name in enumerate(POPULATIONS):
                fraction = kept_background_fraction(params, name, inter[i])
                background = background_mean_pA(params, name)
                if fraction < 0:
                    message = (f"the inter-area input to {label}/{name} (mean {inter[i]:.1f} pA "
                               f"at full scale) exceeds its whole background ({background:.1f} "
                               f"pA)")
                    if self.on_excess == "error":
                        raise ValueError(message + "; lower the in-degrees or weights, or use "
                                                   "on_excess='clip' to keep no background")
                    warnings.warn(message + "; no background is kept and the mean input "
                                            "is higher than in the isolated area")
                    fraction = 0.0
                elif fraction > 1:
                    warnings.warn(f"the inter-area input to {label}/{name} is net inhibitory "
                                  f"({inter[i]:.1f} pA); the background stays complete and "
                                  f"the mean input is lower than in the isolated area")
                    fraction = 1.0
                fractions[label][name] = float(fraction)
        return fractions

    def scaling_compensation_pA(self):
        """dict area -> array (8): DC (pA) added for the K-scaling of inter-area input."""
        dc = {label: np.zeros(len(POPULATIONS)) for label in self.area_params}
        for c in self.connections:
            dc[c.target_area][POPULATIONS.index(c.target_population)] += \
                scaling_compensation_pA(c, self.area_params[c.target_area])
        return dc

    def connection_spec(self, connection):
        """The ProjectionSpec of a declared connection (or of its key) in this model."""
        if not isinstance(connection, InterAreaConnection):
            connection = self._connection(connection)
        target = self.area_params[connection.target_area]
        size = derive_module.derive(target)["num_neurons"][
            POPULATIONS.index(connection.target_population)]
        return connection_spec(connection, target, size, self.params["seed"])

    def total_synapses(self):
        """Synapses the model will create: recurrent and thalamic of all areas, inter-area."""
        total = 0
        for params in self.area_params.values():
            d = derive_module.derive(params)
            total += int(d["num_synapses"].sum())
            if params["thalamic_input"]:
                total += int(d["thalamic_synapses"].sum())
        return total + sum(self.connection_spec(c).n_synapses for c in self.connections)

    # --- building -----------------------------------------------------------
    def build(self, record_spikes=True, on_phase=None):
        """Build every area (background already reduced), then the inter-area projections.

        ``record_spikes``: record the spikes of all populations (default);
        ``False`` records none, then choose with :meth:`record`. ``on_phase(name)``,
        if given, is called as each area's "create" and "connect" step and the
        inter-area "connect" begin. Returns self.
        """
        self._check_not_built()
        if not self.area_params:
            raise ValueError("no areas declared; use add_area first")
        # the background is created when an area is built, so every fraction
        # must be known before the first area is
        fractions = self.background_fractions()
        compensation = self.scaling_compensation_pA()
        for label, params in self.area_params.items():
            t0 = time.perf_counter()
            reduced = {n: f for n, f in fractions[label].items() if f != 1.0}
            if self.verbose:
                _say(f"Area {label}: background kept: " + (", ".join(
                    f"{n} {f:.3f}" for n, f in reduced.items()) or "all"))
            circuit = Microcircuit(self.sim, params, label=label, fast=self.paths,
                                   verbose=self.verbose, background_fraction=fractions[label],
                                   extra_dc_pA=compensation[label],
                                   connectivity=self.connectivity)
            circuit.derived["inter_area_compensation_pA"] = compensation[label]
            build_area(self, label, circuit, record_spikes, on_phase, t0)
        if on_phase is not None:
            on_phase("connect")
        t0 = time.perf_counter()
        self.connect_areas()
        self.timings["inter_area"] = time.perf_counter() - t0
        finish_areas(self)
        return self

    @property
    def paths(self):
        """The :class:`~pd14_pynn.backends.FastPaths` the model builds with."""
        return backends.resolve_fast_paths(self.fast, self.sim)

    def connect_areas(self):
        """Create the inter-area projections (called by :meth:`build`)."""
        total = sum(self.connection_spec(c).n_synapses for c in self.connections)
        progress = ConnectProgress(total, "connect areas") if self.verbose and total else None
        try:
            for c in self.connections:
                spec = self.connection_spec(c)
                self.specs[c.key] = spec
                if spec.n_synapses == 0:
                    continue
                pre = self.areas[c.source_area][c.source_population]
                post = self.areas[c.target_area][c.target_population]
                given = None
                if self.connectivity is not None:
                    given = self.connectivity.edges(pre.label, post.label)
                self.projections[c.key] = connectors.projection(
                    self.sim, pre, post, spec, c.label, fast=self.paths, given=given,
                    rng=self.params["connectivity_rng"])
                if progress is not None:
                    progress.add(spec.n_synapses, f"{c.source_area}/{c.source_population}->"
                                                  f"{c.target_area}/{c.target_population}")
        finally:
            if progress is not None:
                progress.close()

    def record(self, populations=None, variables="spikes"):
        """Record ``variables`` of a subset of populations.

        ``populations``: None (all), an area label (all of that area), or an
        iterable of ``"area/population"`` strings or ``(area, population)`` pairs.
        """
        for pop in self._select(populations):
            pop.record(variables)

    # --- access ---------------------------------------------------------------
    def __getitem__(self, area):
        if not self.areas:
            raise KeyError(f"area {area!r}: the model is not built yet (call build())")
        return self.areas[area]

    def __iter__(self):
        return iter(self.area_params)

    def population(self, area, name):
        """The PyNN Population ``name`` ("L23E", ...) of ``area`` (after build)."""
        return self[area][name]

    def expected_synapses(self):
        """dict: area -> 8x8 recurrent counts [target, source]; connection key -> count."""
        counts = {label: derive_module.derive(p)["num_synapses"]
                  for label, p in self.area_params.items()}
        counts.update({c.key: self.connection_spec(c).n_synapses for c in self.connections})
        return counts

    def total_neurons(self):
        """Neurons of all areas."""
        return sum(int(derive_module.derive(p)["num_neurons"].sum())
                   for p in self.area_params.values())

    def expected_recording(self):
        """``(spikes, v_samples)`` all areas will record (see ``Microcircuit.expected_recording``)."""
        parts = [derive_module.expected_recording(d["num_neurons"], d["full_mean_rates_hz"], p)
                 for p in self.area_params.values() for d in (derive_module.derive(p),)]
        return sum(s for s, _ in parts), sum(v for _, v in parts)

    def metadata(self):
        """Counts for metadata.json."""
        expected = self.expected_synapses()
        return {
            "areas": list(self.area_params),
            "num_neurons": {label: dict(zip(POPULATIONS, derive_module.derive(p)["num_neurons"]))
                            for label, p in self.area_params.items()},
            "num_synapses_total": self.total_synapses(),
            "num_synapses_recurrent": {a: int(expected[a].sum()) for a in self.area_params},
            "num_synapses_inter_area": {"/".join(c.key): int(expected[c.key])
                                        for c in self.connections},
            "background_fractions": self.background_fractions(),
        }

    def circuit_parameters(self):
        """The resolved parameters of each area."""
        return list(self.area_params.values())

    def area_names(self):
        """The declared areas, in order."""
        return list(self.area_params)

    def longest_delay_ms(self):
        """None: inter-area delays declared here default to PD14's (a few ms), which the
        backends' per-neuron memory covers."""
        return None

    def reference_rates_hz(self):
        """``{population: full-scale mean rate (1/s)}`` of the base parameters (PD14's
        by default), the reference of the rate figures."""
        return dict(zip(POPULATIONS, self.params["full_mean_rates_hz"]))

    def as_dict(self):
        """Everything that defines the model, as plain data (for a parameters file)."""
        return {
            "base": self.params,
            "inter_area": bool(self.connections),
            "areas": self.area_params,
            "connections": [dataclasses.asdict(c) for c in self.connections],
            "background_fractions": self.background_fractions(),
            "inter_area_compensation_pA": {label: dict(zip(POPULATIONS, dc)) for label, dc in
                                           self.scaling_compensation_pA().items()},
            "on_excess": self.on_excess,
        }

    # --- output ---------------------------------------------------------------
    def collect_block(self, t_presim_ms=None, variables=("spikes",)):
        """One Neo block with the recorded data of all areas.

        Includes every population that records all of ``variables``. Each
        SpikeTrain is annotated with ``area``, ``population`` and ``index``
        (see :func:`pd14_pynn.recording.collect_block`); read it back with
        :func:`pd14_pynn.spike_tables.spikes_by_population` (keys ``"area/population"``).
        ``t_presim_ms`` (ms, default the base parameter) is stored as annotation.
        """
        t_presim = self.params["t_presim_ms"] if t_presim_ms is None else t_presim_ms
        return collect_area_block(self.areas, t_presim, variables, "PD14 multi-area model")

    # --- helpers --------------------------------------------------------------
    def _check_not_built(self):
        if self.areas:
            raise RuntimeError("the model is already built; declare areas and connections "
                               "before build()")

    def _connection(self, key):
        for c in self.connections:
            if c.key == tuple(key):
                return c
        raise KeyError(f"no inter-area connection {tuple(key)}")

    def _select(self, populations):
        if populations is None:
            return [pop for circuit in self.areas.values() for pop in circuit.populations.values()]
        if isinstance(populations, str) and "/" not in populations:
            return list(self[populations].populations.values())
        if isinstance(populations, str):
            populations = [populations]
        selected = []
        for item in populations:
            area, name = item.split("/") if isinstance(item, str) else item
            selected.append(self.population(area, name))
        return selected
