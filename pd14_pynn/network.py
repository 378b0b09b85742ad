"""The PD14 microcircuit, written once against the PyNN API.

:class:`Microcircuit` receives the PyNN simulator module ``sim`` (``pyNN.nest``,
``pyNN.neuron``, ``pyNN.brian2``, ``pyNN.mock``) and builds populations,
projections and inputs with it. It imports no simulator. Several instances can
live in one network: each has a ``label`` prefix and its own seed streams.
"""

import time

import numpy as np

from . import derive as derive_module
from . import populations
from .connectivity import ProjectionSpec, seed_sequence
from .connectors import FixedTotalNumberNormal
from .inputs import initial_potentials, poisson_background, thalamic_population
from .parameters import POPULATIONS


def _say(message):
    print(message, flush=True)


class Microcircuit:
    """The 8-population cortical microcircuit in one PyNN network.

    Parameters
    ----------
    sim : module
        A PyNN backend, already ``setup()``.
    params : dict
        Resolved parameters (:func:`pd14_pynn.parameters.resolve`).
    label : str
        Prefix of every population and projection label ("" for one circuit,
        e.g. "V1" in a multi-area model). Also part of every seed stream.
    fast : bool
        Use the backend's registered fast paths (default). ``False`` forces
        PyNN's generic per-target path (slow; for comparisons).
    verbose : bool
        Print progress of each build step.
    background_fraction : dict, optional
        Population name -> fraction in [0, 1] of its external input that stays
        background (default 1 for all). Multi-area models replace the rest by
        input from other areas; see ``pd14_pynn.areas``.
    extra_dc_pA : array of 8, optional
        DC (pA) added to each population's ``i_offset``, e.g. the compensation
        of inter-area input lost to K-scaling.

    After :meth:`build`: ``populations`` (dict name -> Population),
    ``projections`` (dict (target, source) -> Projection), ``assembly``
    (all 8 populations), ``derived`` (the numbers used), ``timings``.
    """

    def __init__(self, sim, params, label="", fast=True, verbose=True, background_fraction=None,
                 extra_dc_pA=None):
        self.sim = sim
        self.params = params
        self.label = label
        self.fast = fast
        self.verbose = verbose
        unknown = set(background_fraction or {}) - set(POPULATIONS)
        if unknown:
            raise ValueError(f"unknown populations in background_fraction: {sorted(unknown)}")
        self.background_fraction = np.array(
            [(background_fraction or {}).get(name, 1.0) for name in POPULATIONS])
        self.derived = derive_module.derive(params, self.background_fraction)
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
        if self.verbose:
            _say(f"Creating {sizes.sum()} neurons in 8 populations "
                 f"({', '.join(f'{n}={s}' for n, s in zip(POPULATIONS, sizes))})")
        for i, pop_name in enumerate(POPULATIONS):
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
                initial_potentials(p, i, int(sizes[i]), self.seed("V0", pop_name)),
                fast=self.fast)
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
        for i, pop_name in enumerate(POPULATIONS):
            rate = d["bg_rate_hz"][i]
            if rate <= 0 or d["K_ext"][i] == 0:
                continue
            self.background[pop_name] = poisson_background(
                self.sim, self.populations[pop_name], int(d["K_ext"][i]), rate, d["psc_ext_pA"],
                self.params["delay_exc_mean_ms"], self.name(pop_name), fast=self.fast)
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
        t, s = POPULATIONS.index(target), POPULATIONS.index(source)
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
        """All 64 recurrent projections (those with zero synapses are skipped)."""
        total = int(self.derived["num_synapses"].sum())
        if self.verbose:
            _say(f"Connecting: {total:,} synapses in "
                 f"{int((self.derived['num_synapses'] > 0).sum())} projections")
        done = 0
        t_start = time.perf_counter()
        for target in POPULATIONS:
            for source in POPULATIONS:
                spec = self.projection_spec(target, source)
                if spec.n_synapses == 0:
                    continue
                t0 = time.perf_counter()
                self.projections[(target, source)] = self._projection(
                    self.populations[source], target, source, spec)
                done += spec.n_synapses
                if self.verbose:
                    _say(f"  {source:>4} -> {target:<4} {spec.n_synapses:>11,} synapses "
                         f"{time.perf_counter() - t0:7.2f} s  [{100 * done / total:5.1f}% "
                         f"of synapses, {time.perf_counter() - t_start:7.1f} s]")

    def _projection(self, pre, target, source_name, spec):
        return self.sim.Projection(
            pre, self.populations[target], FixedTotalNumberNormal(
                spec, fast=self.fast, rng=self.params["connectivity_rng"]),
            self.sim.StaticSynapse(weight=spec.weight_mean_pA * 1e-3, delay=spec.delay_mean_ms),
            receptor_type=spec.receptor_type,
            label=f"{self.name(target)}<-{self.name(source_name)}")

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
