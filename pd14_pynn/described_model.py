"""A multi-area model built from a description file, in one PyNN network.

:class:`DescribedModel` builds the simulated areas of a
:class:`~pd14_pynn.multi_area_description.MultiAreaDescription` (a JSON file,
docs/multi_area.md): each area is a :class:`~pd14_pynn.network.Microcircuit`
that takes its numbers from the data (its populations, any subset of the eight;
sizes, synapse counts, weights, delays, background, DC;
:func:`pd14_pynn.description_numbers.area_numbers`), so that areas are built by
the same code, fast paths and seed streams as PD14. Then the inter-area
projections between simulated areas (the same connector), then the Poisson
inputs that replace the connections from non-simulated areas. Units: pA, ms, 1/s.

It answers what :func:`pd14_pynn.simulation.run` asks of a model
(``total_synapses``, ``total_neurons``, ``expected_recording``,
``circuit_parameters``, ``metadata``, ``as_dict``, ``build``,
``collect_block``, ``background_fractions``), so a description runs through the
one run path: ``python run/main.py nest --model FILE [--areas V1 V2]``.

Nothing here imports a simulator: the PyNN module ``sim`` is passed in (or set
by the runner).
"""

import math
import os
import time

from . import backends, connectors
from . import description_numbers as numbers
from . import multi_area_description as mad
from .areas import build_area, collect_area_block, finish_areas
from .derive import expected_recording
from .inputs import poisson_background
from .network import Microcircuit, _say
from .parameters import ParameterError
from .progress import ConnectProgress


class DescribedModel:
    """The simulated areas of a multi-area description, connected, the rest replaced.

    Parameters
    ----------
    description : MultiAreaDescription or str
        The description, or the path of its JSON file (read and validated).
    sim : module or None
        A PyNN backend, ``setup()`` before :meth:`build`; ``None`` until then
        (:func:`pd14_pynn.simulation.run` sets it, and ``fast``, ``verbose``,
        ``connectivity``).
    areas : list of str, optional
        The areas to simulate, instead of the file's ``simulation.simulated_areas``.
    overrides : dict, optional
        Parameters (the keys of :mod:`pd14_pynn.parameters`): ``N_scaling``,
        ``K_scaling``, ``t_presim_ms``, ``resolution_ms`` and ``background``
        replace the file's scaling, simulation and external_input entries
        (:data:`pd14_pynn.description_numbers.DESCRIPTION_KEYS`); the others
        (``t_sim_ms``, ``seed``, ``threads``, ``connectivity_rng``,
        ``record_v``, ...) are the run's.
    fast, verbose, connectivity
        As for :class:`~pd14_pynn.network.Microcircuit`.

    Raises
    ------
    pd14_pynn.parameters.ParameterError
        One line, for an unusable file, override or area, before anything is built.

    Notes
    -----
    Before building: ``description`` (the copy with the overrides),
    ``params`` (the resolved run parameters,
    :func:`pd14_pynn.description_numbers.model_parameters`), ``numbers`` (area
    -> its numbers), ``specs`` ((source area, source population, target area,
    target population) -> ProjectionSpec of the inter-area projections),
    ``replaced`` (the :class:`~pd14_pynn.description_numbers.ReplacedInput`
    list). Once built: ``areas`` (area -> Microcircuit), ``projections`` (the
    inter-area ones, keyed as ``specs``), ``replacements`` (label -> what the
    Poisson input created), ``timings``.
    """

    def __init__(self, description, sim=None, areas=None, overrides=None, fast=True,
                 verbose=True, connectivity=None):
        if isinstance(description, (str, os.PathLike)):
            description = mad.load(description)
        self.description = numbers.with_overrides(description, overrides, areas)
        self.params = numbers.model_parameters(self.description, overrides)
        self.sim, self.fast, self.verbose, self.connectivity = sim, fast, verbose, connectivity
        self.simulated_areas = list(self.description.simulation.simulated_areas)
        counts = self.description.scaled_synapse_counts()
        dc = numbers.dc_pA(self.description)
        self.numbers = {label: numbers.area_numbers(self.description, label, counts, dc)
                        for label in self.simulated_areas}
        self.specs = numbers.inter_area_specs(self.description, self.params["seed"], counts)
        self.replaced = numbers.replaced_inputs(self.description)
        for item in self.replaced:
            if item.weight_pA < 0:
                raise ParameterError(
                    f"{item.source_area}/{item.source_population} projects to "
                    f"{item.target_area}/{item.target_population} but is inhibitory, and only "
                    f"excitatory sources of non-simulated areas can be replaced by Poisson "
                    f"input; simulate area {item.source_area} too")
        self.areas, self.projections, self.replacements, self.timings = {}, {}, {}, {}
        self.assembly = None

    @property
    def paths(self):
        """The :class:`~pd14_pynn.backends.FastPaths` the model builds with."""
        return backends.resolve_fast_paths(self.fast, self.sim)

    # --- what a run needs to know before building ------------------------------
    def total_synapses(self):
        """Synapses the model will create: intra-area (simulated areas) and inter-area."""
        return sum(int(n["num_synapses"].sum()) for n in self.numbers.values()) + \
            sum(spec.n_synapses for spec in self.specs.values())

    def total_neurons(self):
        """Neurons of the simulated areas."""
        return sum(int(n["num_neurons"].sum()) for n in self.numbers.values())

    def expected_recording(self):
        """``(spikes, v_samples)`` the run will record: every neuron at its full-scale
        rate (see :func:`pd14_pynn.derive.expected_recording`)."""
        parts = [expected_recording(n["num_neurons"], n["full_mean_rates_hz"], self.params)
                 for n in self.numbers.values()]
        return sum(s for s, _ in parts), sum(v for _, v in parts)

    def circuit_parameters(self):
        """The resolved parameters of the run (one set, shared by every area)."""
        return [self.params]

    def area_names(self):
        """The simulated areas, in order."""
        return list(self.simulated_areas)

    def longest_delay_ms(self):
        """The longest delay (ms) to expect, for the memory estimate: over the
        inter-area projections, the mean plus sd x sqrt(2 ln n) (about the largest
        of n normal draws), and the replaced inputs' delays; at least the intra-area
        means (MAM at N = K = 0.01: 38.5 ms predicted, NEST built 37.5 ms)."""
        longest = max(max(n["delay_mean_ms"]) for n in self.numbers.values()) \
            if self.numbers else 0.0
        for spec in self.specs.values():
            if spec.n_synapses:
                spread = math.sqrt(2.0 * math.log(max(spec.n_synapses, 2)))
                longest = max(longest, spec.delay_mean_ms + spec.delay_sd_ms * spread)
        for item in self.replaced:
            longest = max(longest, item.delay_ms)
        return float(longest)

    def reference_rates_hz(self):
        """``{population: full-scale mean rate (1/s)}`` from the description where every
        simulated area has the same rates; ``None`` where they differ (as in MAM), since
        the rate figures draw one reference per population."""
        rates = [{name: p.full_mean_rate_hz
                  for name, p in self.description.areas[area].populations.items()}
                 for area in self.simulated_areas]
        return rates[0] if all(r == rates[0] for r in rates) else None

    def background_fractions(self):
        """``{}``: no background is replaced by inter-area input (a description's
        external in-degrees are the data's), so the rate table has no such column."""
        return {}

    def non_simulated_areas(self):
        """The areas of the description that are replaced, in file order."""
        return [label for label in self.description.areas if label not in self.numbers]

    def population_sizes(self):
        """PyNN population label (``"V1_L23E"``) -> neurons, of every simulated population."""
        return {f"{label}_{name}": int(size) for label, n in self.numbers.items()
                for name, size in zip(n["populations"], n["num_neurons"])}

    def expected_edges(self):
        """(source label, target label) -> synapses of every projection with synapses."""
        edges = {}
        for label, n in self.numbers.items():
            names = n["populations"]
            for t, target in enumerate(names):
                for s, source in enumerate(names):
                    if n["num_synapses"][t, s] > 0:
                        edges[f"{label}_{source}", f"{label}_{target}"] = \
                            int(n["num_synapses"][t, s])
        for (sa, sp, ta, tp), spec in self.specs.items():
            if spec.n_synapses > 0:
                edges[f"{sa}_{sp}", f"{ta}_{tp}"] = spec.n_synapses
        return edges

    def metadata(self):
        """Counts for metadata.json: neurons per area and population, synapses per
        area and per pair of areas, the replaced areas and their inputs, the DC."""
        inter = {}
        for (sa, _, ta, _), spec in self.specs.items():
            inter.setdefault(ta, {}).setdefault(sa, 0)
            inter[ta][sa] += spec.n_synapses
        return {
            "model": self.description.name,
            "areas": self.simulated_areas,
            "non_simulated_areas": self.non_simulated_areas(),
            "replaced_by": self.description.simulation.non_simulated_areas,
            "num_neurons": {label: dict(zip(n["populations"], n["num_neurons"].tolist()))
                            for label, n in self.numbers.items()},
            "num_synapses_total": self.total_synapses(),
            "num_synapses_recurrent": {label: int(n["num_synapses"].sum())
                                       for label, n in self.numbers.items()},
            "num_synapses_inter_area": inter,
            "num_replaced_inputs": len(self.replaced),
            "dc_pA": {label: dict(zip(n["populations"], n["dc_pA"]))
                      for label, n in self.numbers.items()},
        }

    def as_dict(self):
        """Everything that defines the model, as plain data (parameters.json): the
        description (with the overrides applied) and the run's parameters."""
        return {"model": "multi-area description", "description": mad.to_dict(self.description),
                "parameters": self.params}

    # --- building -----------------------------------------------------------------
    def build(self, record_spikes=True, on_phase=None):
        """Build the simulated areas, the inter-area projections, the replaced inputs.

        ``on_phase(name)``, if given, is called as each area's "create" and
        "connect" step and the inter-area "connect" begin. Returns self.
        """
        if self.areas:
            raise RuntimeError("the model is already built")
        for label in self.simulated_areas:
            t0 = time.perf_counter()
            circuit = Microcircuit(self.sim, self.params, label=label, fast=self.paths,
                                   verbose=self.verbose, connectivity=self.connectivity,
                                   numbers=self.numbers[label])
            build_area(self, label, circuit, record_spikes, on_phase, t0)
        if on_phase is not None:
            on_phase("connect")
        t0 = time.perf_counter()
        self.connect_areas()
        self.replace_areas()
        self.timings["inter_area"] = time.perf_counter() - t0
        finish_areas(self)
        return self

    def connect_areas(self):
        """Create the inter-area projections (called by :meth:`build`)."""
        total = sum(spec.n_synapses for spec in self.specs.values())
        progress = ConnectProgress(total, "connect areas") if self.verbose and total else None
        try:
            for (sa, sp, ta, tp), spec in self.specs.items():
                if spec.n_synapses == 0:
                    continue
                pre, post = self.areas[sa][sp], self.areas[ta][tp]
                given = None
                if self.connectivity is not None:
                    given = self.connectivity.edges(pre.label, post.label)
                self.projections[sa, sp, ta, tp] = connectors.projection(
                    self.sim, pre, post, spec, f"{ta}_{tp}<-{sa}_{sp}", fast=self.paths,
                    given=given, rng=self.params["connectivity_rng"])
                if progress is not None:
                    progress.add(spec.n_synapses, f"{sa}/{sp}->{ta}/{tp}")
        finally:
            if progress is not None:
                progress.close()

    def replace_areas(self):
        """Poisson input for every connection from a non-simulated area (called by
        :meth:`build`; see :mod:`pd14_pynn.description_numbers`)."""
        for item in self.replaced:
            if item.n_sources * item.rate_hz <= 0:
                continue
            self.replacements[item.label] = poisson_background(
                self.sim, self.areas[item.target_area][item.target_population], item.n_sources,
                item.rate_hz, item.weight_pA, item.delay_ms, item.label,
                fast=self.paths.poisson_background)
        if self.verbose and self.replaced:
            _say(f"Replaced {len(self.non_simulated_areas())} non-simulated areas by "
                 f"{len(self.replacements)} Poisson inputs "
                 f"({self.description.simulation.non_simulated_areas})")

    # --- access and output --------------------------------------------------------
    def __getitem__(self, area):
        if not self.areas:
            raise KeyError(f"area {area!r}: the model is not built yet (call build())")
        return self.areas[area]

    def population(self, area, name):
        """The PyNN Population ``name`` ("L23E", ...) of ``area`` (after build)."""
        return self[area][name]

    def collect_block(self, t_presim_ms=None, variables=("spikes",)):
        """One Neo block with the recorded data of all simulated areas; every
        SpikeTrain annotated with ``area``, ``population`` and ``index``, read back
        with keys ``"area/population"`` (:func:`pd14_pynn.recording.collect_block`)."""
        t_presim = self.params["t_presim_ms"] if t_presim_ms is None else t_presim_ms
        return collect_area_block(self.areas, t_presim, variables, self.description.name)
