"""The PD14 microcircuit, written once against the PyNN API.

:class:`Microcircuit` receives the PyNN simulator module ``sim`` (``pyNN.nest``,
``pyNN.neuron``, ``pyNN.brian2``, ``pyNN.mock``) and builds populations,
projections and inputs with it. It imports no simulator. Several instances can
live in one network: each has a ``label`` prefix and its own seed streams.
"""

import time

import numpy as np

from . import backends, connectors, populations
from . import derive as derive_module
from .connectivity import ProjectionSpec, seed_sequence
from .inputs import initial_potentials, poisson_background, thalamic_population
from .parameters import POPULATIONS
from .progress import ConnectProgress


def _say(message):
    print(message, flush=True)


class Microcircuit:
    """The 8-population cortical microcircuit in one PyNN network.

    Parameters
    ----------
    sim : module or None
        A PyNN backend, ``setup()`` before :meth:`build`. Declaring touches no
        simulator, so ``None`` is allowed until then: :func:`pd14_pynn.simulation.run`
        sets ``sim``, ``fast``, ``verbose`` and ``connectivity`` of the model
        it is given.
    params : dict
        Resolved parameters (:func:`pd14_pynn.parameters.resolve`).
    label : str
        Prefix of every population and projection label ("" for one circuit,
        e.g. "V1" in a multi-area model). Also part of every seed stream.
    fast : bool or pd14_pynn.backends.FastPaths
        ``True`` (default): the fast paths of ``sim``'s backend; ``False``:
        PyNN's generic code everywhere (slow; for comparisons); or the
        :class:`~pd14_pynn.backends.FastPaths` to use (the runner passes the
        ones its backend returns).
    verbose : bool
        Print progress of each build step.
    background_fraction : dict, optional
        Population name -> fraction in [0, 1] of its external input that stays
        background (default 1 for all). Multi-area models replace the rest by
        input from other areas; see ``pd14_pynn.areas``.
    extra_dc_pA : array of 8, optional
        DC (pA) added to each population's ``i_offset``, e.g. the compensation
        of inter-area input lost to K-scaling.
    connectivity : pd14_pynn.sonata_reader.NetworkFile, optional
        Take every projection's connections from this SONATA network (saved by
        an earlier run) instead of drawing them; check it first with
        :func:`pd14_pynn.network_io.check`.
    numbers : dict, optional
        An area from data: the numbers to build with instead of
        :func:`pd14_pynn.derive.derive` of ``params`` (the same keys, with arrays
        over ``numbers["populations"]``, any subset of the eight names in PD14
        order; see :func:`pd14_pynn.description_numbers.area_numbers`).
        ``params`` then give the neuron parameters, initial potentials,
        background kind, seed and simulation settings only.

    Notes
    -----
    Once built, the circuit holds ``populations`` (dict name -> Population),
    ``projections`` (dict (target, source) -> Projection), ``assembly`` (all 8
    populations), ``derived`` (the numbers used) and ``timings``.
    """

    def __init__(self, sim, params, label="", fast=True, verbose=True, background_fraction=None,
                 extra_dc_pA=None, connectivity=None, numbers=None):
        self.sim = sim
        self.connectivity = connectivity
        self.params = params
        self.label = label
        self.fast = fast
        self.verbose = verbose
        unknown = set(background_fraction or {}) - set(POPULATIONS)
        if unknown:
            raise ValueError(f"unknown populations in background_fraction: {sorted(unknown)}")
        self.background_fraction = np.array(
            [(background_fraction or {}).get(name, 1.0) for name in POPULATIONS])
        if numbers is None:
            self.population_names = POPULATIONS
            self.derived = derive_module.derive(params, self.background_fraction)
        else:
            if background_fraction is not None:
                raise ValueError("an area from data (numbers) takes no background_fraction: "
                                 "its background is in its numbers")
            self.population_names = list(numbers["populations"])
            self.derived = dict(numbers)
        if extra_dc_pA is not None:
            self.derived["dc_pA"] = self.derived["dc_pA"] + np.asarray(extra_dc_pA, dtype=float)
        self.populations = {}
        self.projections = {}
        self.background = {}
        self.thalamus = None
        self.thalamic_projections = {}
        self.assembly = None
        self.timings = {}

    # --- naming and seeds ------------------------------------------------
    def name(self, population):
        """Full label of a population (with the circuit's prefix)."""
        return f"{self.label}{'_' if self.label else ''}{population}"

    def seed(self, *keys):
        """Entropy for an independent stream of this circuit (see ``seed_sequence``)."""
        return seed_sequence(self.params["seed"], self.label, *keys)

    def __getitem__(self, population):
        return self.populations[population]

    @property
    def paths(self):
        """The :class:`~pd14_pynn.backends.FastPaths` this circuit builds with."""
        return backends.resolve_fast_paths(self.fast, self.sim)

    # --- building --------------------------------------------------------
    def build(self, record_spikes=True, on_phase=None):
        """Create populations, inputs and connections; set up recording.

        ``on_phase(name)``, if given, is called as the "create" and the "connect"
        step begin (e.g. to record where a run is).
        """
        on_phase = on_phase or (lambda name: None)
        on_phase("create")
        t0 = time.perf_counter()
        self.create_populations()
        self.timings["create"] = time.perf_counter() - t0
        on_phase("connect")
        t0 = time.perf_counter()
        self.create_background()
        if self.params["thalamic_input"]:
            self.create_thalamus()
        self.connect_populations()
        self.timings["connect"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        self.setup_recording(record_spikes=record_spikes)
        # recording devices, like the bare simulators' recorders, count as created
        self.timings["create"] += time.perf_counter() - t0
        return self

    def create_populations(self):
        """The 8 IF_curr_exp populations with DC offsets and initial potentials."""
        p, sim = self.params, self.sim
        sizes = self.derived["num_neurons"]
        names = self.population_names
        if self.verbose:
            _say(f"Creating {sizes.sum()} neurons in {len(names)} populations "
                 f"({', '.join(f'{n}={s}' for n, s in zip(names, sizes))})")
        for i, pop_name in enumerate(names):
            cell = sim.IF_curr_exp(
                cm=p["C_m_pF"] * 1e-3,            # PyNN uses nF
                tau_m=p["tau_m_ms"],
                tau_syn_E=p["tau_syn_ms"],
                tau_syn_I=p["tau_syn_ms"],
                v_rest=p["E_L_mV"],
                v_reset=p["V_reset_mV"],
                v_thresh=p["V_th_mV"],
                tau_refrac=p["t_ref_ms"],
                i_offset=float(self.derived["dc_pA"][i]) * 1e-3,  # nA
            )
            pop = populations.create(
                sim, int(sizes[i]), cell, self.name(pop_name),
                initial_potentials(p, POPULATIONS.index(pop_name), int(sizes[i]),
                                   self.seed("V0", pop_name)),
                fast=self.paths.create_population)
            pop.annotate(population=pop_name, area=self.label)
            self.populations[pop_name] = pop
        self.assembly = sim.Assembly(*self.populations.values(), label=self.label or "PD14")

    def create_background(self):
        """Poisson background input (if ``background == "poisson"``).

        (With DC background, the DC is part of each neuron's ``i_offset``.)
        """
        if self.params["background"] != "poisson":
            return
        d = self.derived
        for i, pop_name in enumerate(self.population_names):
            rate = d["bg_rate_hz"][i]
            if rate <= 0 or d["K_ext"][i] == 0:
                continue
            # K_ext is a whole number of sources, or (data that keep it unrounded,
            # as MAM) a float that only sets the total rate
            n_sources = d["K_ext"][i]
            n_sources = int(n_sources) if float(n_sources).is_integer() else float(n_sources)
            self.background[pop_name] = poisson_background(
                self.sim, self.populations[pop_name], n_sources, rate, d["psc_ext_pA"],
                d["background_delay_ms"], self.name(pop_name),
                fast=self.paths.poisson_background)
        if self.verbose:
            _say(f"Created Poisson background for {len(self.background)} populations")

    def create_thalamus(self):
        """Thalamic population and its fixed-total-number projections."""
        p, d = self.params, self.derived
        self.thalamus = thalamic_population(
            self.sim, p["thalamic_num_neurons"], p["thalamic_rate_hz"],
            p["thalamic_start_ms"], p["thalamic_duration_ms"], self.name("TC"))
        for i, target in enumerate(POPULATIONS):
            n = int(d["thalamic_synapses"][i])
            if n == 0:
                continue
            w = d["thalamic_weight_pA"]
            spec = ProjectionSpec(n, w, abs(w) * p["PSP_rel_sd"], p["delay_exc_mean_ms"],
                                  p["delay_exc_mean_ms"] * p["delay_rel_sd"],
                                  p["resolution_ms"], self.seed("thalamus", target))
            self.thalamic_projections[target] = self._projection(self.thalamus, target, "TC",
                                                                 spec)

    def projection_spec(self, target, source):
        """The :class:`ProjectionSpec` of the recurrent projection source -> target."""
        t, s = self.population_names.index(target), self.population_names.index(source)
        d = self.derived
        return ProjectionSpec(
            n_synapses=int(d["num_synapses"][t, s]),
            weight_mean_pA=float(d["weights_pA"][t, s]),
            weight_sd_pA=float(d["weight_sd_pA"][t, s]),
            delay_mean_ms=float(d["delay_mean_ms"][s]),
            delay_sd_ms=float(d["delay_sd_ms"][s]),
            resolution_ms=self.params["resolution_ms"],
            seed=self.seed("connections", target, source))

    def connect_populations(self):
        """All recurrent projections (64 in PD14; those with zero synapses are skipped)."""
        total = int(self.derived["num_synapses"].sum())
        if self.verbose:
            _say(f"Connecting: {total:,} synapses in "
                 f"{int((self.derived['num_synapses'] > 0).sum())} projections")
        progress = ConnectProgress(total, "connect " + (self.label or "recurrent")) \
            if self.verbose else None
        try:
            for target in self.population_names:
                for source in self.population_names:
                    spec = self.projection_spec(target, source)
                    if spec.n_synapses == 0:
                        continue
                    self.projections[(target, source)] = self._projection(
                        self.populations[source], target, source, spec)
                    if progress is not None:
                        progress.add(spec.n_synapses, f"{source}->{target}")
        finally:
            if progress is not None:
                progress.close()

    def _projection(self, pre, target, source_name, spec):
        given = None
        if self.connectivity is not None:
            given = self.connectivity.edges(self.name(source_name), self.name(target))
        return connectors.projection(
            self.sim, pre, self.populations[target], spec,
            f"{self.name(target)}<-{self.name(source_name)}",
            rng=self.params["connectivity_rng"], fast=self.paths, given=given)

    def setup_recording(self, record_spikes=True, record_v=None):
        """Record spikes of all neurons and ``v`` of the first ``record_v`` per population."""
        n_v = self.params["record_v"] if record_v is None else record_v
        for pop in self.populations.values():
            if record_spikes:
                pop.record("spikes")
            if n_v:
                pop[:min(n_v, pop.size)].record("v",
                                                sampling_interval=self.params["record_v_interval_ms"])

    # --- introspection ----------------------------------------------------
    def expected_synapses(self):
        """Synapse counts [target, source] this circuit is built with."""
        return np.array(self.derived["num_synapses"])

    # --- what a run needs to know (the interface MultiAreaModel shares) -------
    def total_synapses(self):
        """Synapses the circuit will create: recurrent, and thalamic if on."""
        total = int(self.derived["num_synapses"].sum())
        if self.params["thalamic_input"]:
            total += int(self.derived["thalamic_synapses"].sum())
        return total

    def total_neurons(self):
        """Neurons of the circuit's populations."""
        return int(self.derived["num_neurons"].sum())

    def circuit_parameters(self):
        """The resolved parameters of each circuit of the model (here: one)."""
        return [self.params]

    def area_names(self):
        """The model's areas, in order: none (one circuit)."""
        return []

    def longest_delay_ms(self):
        """The longest delay (ms) the memory estimate should allow for; None: PD14's,
        which the backends' per-neuron memory already covers."""
        return None

    def reference_rates_hz(self):
        """``{population: full-scale mean rate (1/s)}``, the reference of the rate figures."""
        return dict(zip(POPULATIONS, self.params["full_mean_rates_hz"]))

    def as_dict(self):
        """Everything that defines the model, as plain data (parameters.json)."""
        return self.params

    def metadata(self):
        """Counts for metadata.json."""
        d = self.derived
        names = self.population_names
        return {"num_neurons": dict(zip(names, d["num_neurons"])),
                "num_synapses_total": int(d["num_synapses"].sum()),
                "num_synapses": d["num_synapses"],
                "dc_pA": dict(zip(names, d["dc_pA"]))}

    def expected_recording(self):
        """``(spikes, v_samples)`` this circuit will record, for the memory estimate:
        every neuron at its full-scale mean rate (``full_mean_rates_hz``) over
        presimulation and simulation; ``v`` of ``record_v`` neurons per population."""
        return derive_module.expected_recording(
            self.derived["num_neurons"], self.derived["full_mean_rates_hz"], self.params)

    def collect_block(self, t_presim_ms, variables=("spikes",)):
        """One Neo block with the recorded data (see :func:`pd14_pynn.recording.collect_block`)."""
        from .recording import collect_block
        return collect_block([self], t_presim_ms, variables)
