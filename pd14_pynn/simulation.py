"""One run of a model: checks -> setup -> build -> presimulate -> simulate -> save.

The model is a :class:`~pd14_pynn.network.Microcircuit` (the default, from the
parameters) or a :class:`~pd14_pynn.areas.MultiAreaModel`, declared but not
built; both answer ``total_synapses()``, ``total_neurons()``, ``metadata()``,
``as_dict()``, ``build()`` and ``collect_block()``, so every model goes through
the same checks, phases, outputs, progress, timings and MPI handling.

:func:`check_run` does every check that can fail *before* anything is built or
written; :func:`run` then executes the phases, timing each, and writes the run
folder described in :mod:`pd14_pynn.storage`. Parameters are written first, so a
failure later still leaves a record of what was attempted.
"""

import json
import os
import resource
import sys
import time

import numpy as np

from . import backends, network_io, parallel, parameters, sonata, storage
from .network import Microcircuit
from .parameters import POPULATIONS
from .progress import SimulationProgress

BASE_MEMORY_BYTES = 600e6  # interpreter, PyNN, simulator libraries


def estimate_memory(backend, params, model=None):
    """Rough peak memory (bytes) of a run from per-synapse and per-neuron costs.

    ``model``: the declared model (default: the microcircuit of ``params``).
    """
    model = model or Microcircuit(None, params, verbose=False)
    return BASE_MEMORY_BYTES + model.total_synapses() * backend.BYTES_PER_SYNAPSE + \
        model.total_neurons() * backend.BYTES_PER_NEURON


def total_memory():
    """Physical memory of this machine (bytes)."""
    import psutil
    return psutil.virtual_memory().total


def check_run(simulator, params, out_dir, overwrite=False, memory_limit=None,
              connectivity=None, model=None):
    """Validate a run without building anything; returns the backend module.

    ``model``: the declared model to run (default: the microcircuit of ``params``;
    a multi-area model's base parameters are its ``params``).
    ``connectivity``: path of a SONATA network to build instead of drawing one;
    it must fit the model (:func:`pd14_pynn.network_io.check_model`). Raises
    ``ParameterError`` (``sonata.NetworkFileError`` for the network file),
    ``BackendError`` or ``OutputExistsError`` with a message that says what to change.
    """
    parameters.validate(params)
    model = model or Microcircuit(None, params, verbose=False)
    if connectivity is not None:
        network_io.check_model(sonata.NetworkFile(connectivity), model)
    backend = backends.get(simulator)
    parallel.check_launch(simulator)
    if simulator == "nest":
        backend.choose_threads(params, model.total_synapses())
    limit = memory_limit or total_memory()
    # under MPI each rank holds its share; ranks may sit on several machines, so
    # only a share larger than this machine is sure to fail
    ranks = parallel.launcher_size()
    needed = estimate_memory(backend, params, model) / ranks
    if needed > limit:
        per = f" per rank ({ranks} ranks)" if ranks > 1 else ""
        raise backends.BackendError(
            f"this run needs about {needed / 1e9:.1f} GB{per} on {simulator} but the machine has "
            f"{limit / 1e9:.1f} GB; lower --n-scaling/--k-scaling or use a bigger machine")
    if out_dir:
        storage.check_output_folder(out_dir, overwrite)
    return backend


def peak_rss_bytes():
    """Peak resident memory of this process so far (bytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_with_progress(sim, duration_ms, label, show=True, backend=None, should_stop=None):
    """Advance by ``duration_ms`` showing progress and the RTF; returns (wall s, simulated ms).

    The backend advances (``backend.run(sim, duration_ms, progress)``) and calls
    ``progress(done_ms)`` after each piece; when ``should_stop()`` is true the
    backend stops at that point, and the simulated time reached is returned.
    ``show=False`` (MPI ranks other than 0) shows nothing; otherwise a
    :class:`~pd14_pynn.progress.SimulationProgress` bar (tqdm) shows it.
    """
    if duration_ms <= 0:
        return 0.0, 0.0
    started = time.perf_counter()
    bar = SimulationProgress(duration_ms, label) if show else None

    def progress(done_ms):
        if bar is not None:
            bar(done_ms)
        return bool(should_stop and should_stop())

    try:
        reached = backend.run(sim, duration_ms, progress)
    finally:
        if bar is not None:
            bar.close()
    return time.perf_counter() - started, float(reached)


def write_connectivity(model, backend, out_dir, metadata, say=print):
    """Save the built network as SONATA in ``out_dir/network``; returns its timings.

    Rank 0 writes (with NEURON under MPI the connections are re-drawn whole there).
    """
    if parallel.launcher_size() > 1 and metadata["simulator"] == "nest":
        raise backends.BackendError("--save-connectivity with NEST under MPI is not supported: "
                                    "each rank holds only its share of the connections")
    t0 = time.perf_counter()
    folder = os.path.join(out_dir, sonata.NETWORK_FOLDER)
    size = 0
    if parallel.launcher_rank() == 0:
        keys = ("simulator", "label", "settings", "connectivity_from")
        extra = {key: metadata[key] for key in keys}
        params = model.params
        extra.update({key: params[key] for key in ("N_scaling", "K_scaling", "seed",
                                                   "connectivity_rng", "thalamic_input")})
        size = network_io.save(folder, model, backend, extra)
        say(f"Saved the network as SONATA in {folder} ({size / 1e6:.1f} MB, "
            f"{time.perf_counter() - t0:.1f} s)")
    return {"save_connectivity": time.perf_counter() - t0, "connectivity_bytes": size}


def collect_block(circuits, t_presim_ms, variables=("spikes",)):
    """One Neo block with the recorded data of every population of every circuit.

    Spikes stay columnar: one ``SpikeTrainList`` of (channel, time) arrays for the
    whole network, never one ``SpikeTrain`` object per neuron (at full scale that
    took minutes). Channel ``c`` of population ``p`` is neuron ``c - first_channel``;
    the channel ranges are the block annotation ``populations`` (see
    :func:`pd14_pynn.storage.spike_table`), and each channel is annotated with
    ``population``, ``index`` and ``area`` for readers that iterate trains.
    """
    import neo
    import quantities as pq
    from neo.core.spiketrainlist import SpikeTrainList
    block = neo.Block(name="PD14 microcircuit")
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    channels, times, table = [], [], []
    first_channel, t_stop_ms = 0, 0.0
    for circuit in circuits:
        for name, pop in circuit.populations.items():
            data = pop.get_data(variables, clear=False).segments[0]
            if "spikes" in variables:
                ids, spike_times = data.spiketrains.multiplexed
                channels.append(np.asarray(ids, dtype=np.int64) - int(pop.first_id)
                                + first_channel)
                times.append(_magnitude_ms(spike_times))
                t_stop_ms = max(t_stop_ms, _magnitude_ms(data.spiketrains.t_stop))
            table.append({"area": circuit.label, "population": name,
                          "first_channel": first_channel, "size": int(pop.size)})
            first_channel += int(pop.size)
            for signal in data.analogsignals:
                signal.annotations.update(population=name, area=circuit.label)
                signal.array_annotations["index"] = np.asarray(
                    signal.array_annotations.get("channel_index",
                                                 np.arange(signal.shape[1])))
                segment.analogsignals.append(signal)
    if "spikes" in variables:
        per_channel = {key: np.concatenate([np.full(row["size"], row[key])
                                            for row in table] or [np.array([])])
                       for key in ("population", "area")}
        per_channel["index"] = np.concatenate(
            [np.arange(row["size"]) for row in table] or [np.array([], dtype=int)])
        segment.spiketrains = SpikeTrainList.from_spike_time_array(
            np.concatenate(times or [np.array([])]),
            np.concatenate(channels or [np.array([], dtype=np.int64)]),
            np.arange(first_channel), t_stop=t_stop_ms * pq.ms, units="ms",
            t_start=0.0 * pq.ms, **per_channel)
        segment.spiketrains.segment = segment
    block.annotations.update(t_presim_ms=float(t_presim_ms),
                             populations=json.dumps(table))
    return block


def _magnitude_ms(value):
    """Plain float array (or float) in ms from a Quantity or a plain number/array."""
    if hasattr(value, "rescale"):
        value = value.rescale("ms").magnitude
    return np.asarray(value, dtype=float) if np.ndim(value) else float(value)


def run(simulator, params, out_dir, overwrite=False, spike_format=".pkl",
        command_line=None, verbose=True, connectivity=None, save_connectivity=False,
        model=None):
    """Run a model on ``simulator`` and write the run folder; returns a summary dict.

    ``model``: the model to run, declared and not built, with ``sim=None``: a
    :class:`~pd14_pynn.areas.MultiAreaModel` or a
    :class:`~pd14_pynn.network.Microcircuit` (default: the microcircuit of
    ``params``). Its ``params`` are the run's (times, seed, threads).
    ``connectivity``: a SONATA network (run folder, its ``network/`` or the
    config file) whose connections are built instead of drawn ones;
    ``save_connectivity``: write the built network as SONATA into
    ``out_dir/network/`` before simulating (docs/outputs.md).

    Under mpirun (NEURON, or an MPI-enabled NEST) every rank builds and simulates
    its share; rank 0 alone writes files, with spikes gathered from all ranks and
    timings and peak memory reported per rank.
    """
    root = parallel.launcher_rank() == 0
    say = print if verbose and root else (lambda *a, **k: None)
    if model is None:
        model = Microcircuit(None, params)
    params = model.params
    backend = check_run(simulator, params, out_dir, overwrite, connectivity=connectivity,
                        model=model)
    network_file = sonata.NetworkFile(connectivity) if connectivity is not None else None
    parallel.barrier()  # every rank has checked the folder before rank 0 writes to it
    timings = {}
    t0 = time.perf_counter()
    sim = backend.import_simulator()
    timings["import"] = time.perf_counter() - t0
    model.sim, model.verbose, model.connectivity = sim, verbose and root, network_file

    if root:
        storage.prepare_run_folder(out_dir, overwrite=True)
        storage.write_json(os.path.join(out_dir, "parameters.json"), model.as_dict())
    n_syn = model.total_synapses()

    t0 = time.perf_counter()
    settings = backend.setup(sim, params, n_syn)
    timings["setup"] = time.perf_counter() - t0
    metadata = {
        "simulator": simulator, "settings": settings,
        "versions": {**storage.package_versions(), **backend.versions()},
        "label": parameters.run_label(simulator, params),
        **model.metadata(),
        "command_line": command_line or sys.argv,
        "mpi_processes": parallel.launcher_size(),
        "connectivity_from": network_file and os.path.abspath(network_file.config_path),
    }
    if root:
        storage.write_json(os.path.join(out_dir, "metadata.json"), metadata)
    say(f"{metadata['label']}: {simulator} {settings}")

    t0 = time.perf_counter()
    model.build()
    t1 = time.perf_counter()
    backend.finish_build(sim)
    timings.update(model.timings)
    timings["connect"] = timings.get("connect", 0.0) + time.perf_counter() - t1
    timings["build"] = time.perf_counter() - t0
    if save_connectivity:
        timings.update(write_connectivity(model, backend, out_dir, metadata, say))
    t_presim, t_sim = params["t_presim_ms"], params["t_sim_ms"]
    say(f"Simulating {t_presim:g} ms presimulation + {t_sim:g} ms")
    timings["presimulate"], _ = run_with_progress(sim, t_presim, "presimulate", show=root,
                                                 backend=backend)
    timings["simulate"], _ = run_with_progress(sim, t_sim, "simulate", show=root,
                                              backend=backend)
    timings["rtf"] = timings["simulate"] / (t_sim * 1e-3)
    # before collecting data: comparable with native baselines, which keep no copies
    timings["peak_rss_after_simulate_bytes"] = peak_rss_bytes()

    t0 = time.perf_counter()
    variables = ("spikes", "v") if params["record_v"] else ("spikes",)
    block = model.collect_block(t_presim, variables)  # gathers from all ranks
    block.annotations.update(simulator=simulator, label=metadata["label"])
    if root:
        storage.write_block(block, os.path.join(out_dir, "spikes" + spike_format))
    timings["save"] = time.perf_counter() - t0
    timings["peak_rss_bytes"] = peak_rss_bytes()
    per_rank = parallel.gather(dict(timings))
    sim.end()
    if not root:
        return {"timings": timings, "out_dir": out_dir}
    if len(per_rank) > 1:
        timings["ranks"] = per_rank
        timings["peak_rss_bytes_total"] = sum(t["peak_rss_bytes"] for t in per_rank)
    storage.write_json(os.path.join(out_dir, "timings.json"), timings)

    spikes = storage.spike_table(block)
    window = (t_presim, t_presim + t_sim)
    rates = {key: storage.population_rates(spikes[key], *window) for key in spikes}
    summary = {key: {"mean_hz": float(r.mean()), "std_hz": float(r.std()),
                     "active_fraction": float(np.mean(r > 0)), "n": int(r.size)}
               for key, r in rates.items()}
    by_area = _by_area(summary)
    storage.write_json(os.path.join(out_dir, "rates.json"),
                       {"window_ms": window, "populations": summary,
                        **({"areas": by_area} if by_area else {})})
    _figures(simulator, params, spikes, rates, by_area, out_dir)
    if verbose:
        fractions = model.background_fractions() if by_area else None
        print_summary(summary, timings, fractions)
    return {"rates": summary, "timings": timings, "out_dir": out_dir}


def _by_area(summary):
    """{area: {population: row}} for keys "area/population"; {} for a single circuit."""
    by_area = {}
    for key, row in summary.items():
        area, _, name = key.rpartition("/")
        if area:
            by_area.setdefault(area, {})[name] = row
    return {area: {n: rows[n] for n in POPULATIONS if n in rows} for area, rows in by_area.items()}


def _figures(simulator, params, spikes, rates, by_area, out_dir):
    from . import plotting
    t_presim, t_sim = params["t_presim_ms"], params["t_sim_ms"]
    scale = f"{simulator}, N={params['N_scaling']:g}, K={params['K_scaling']:g}"
    if by_area:
        plotting.area_rate_bars(
            {area: {n: row["mean_hz"] for n, row in rows.items()}
             for area, rows in by_area.items()},
            os.path.join(out_dir, "rates_by_area.png"),
            reference=dict(zip(POPULATIONS, params["full_mean_rates_hz"])),
            title=f"{scale}, {len(by_area)} areas")
        return
    plotting.raster(spikes, os.path.join(out_dir, "raster.png"),
                    max(t_presim, t_presim + t_sim - 200.0), t_presim + t_sim,
                    title=f"{scale}, {params['background']} background")
    plotting.rate_boxplot(rates, os.path.join(out_dir, "rates_boxplot.png"),
                          title=f"rates per neuron, {simulator}")


def print_summary(summary, timings, background_fractions=None):
    """The per-population rate table and the phase timings.

    Multi-area runs (keys "area/population") get an area column and, from
    ``background_fractions`` (area -> population -> fraction), the background kept.
    """
    if background_fractions:
        print("\narea  population   neurons   mean rate (1/s)   active   background kept")
    else:
        print("\npopulation   neurons   mean rate (1/s)   active")
    for key, row in summary.items():
        area, _, name = key.rpartition("/")
        line = f"{name:<10} {row['n']:>9} {row['mean_hz']:>17.3f} " \
               f"{100 * row['active_fraction']:>7.1f}%"
        if background_fractions:
            line = f"{area:<5} {line} {background_fractions[area][name]:>17.3f}"
        print(line)
    phases = ("import", "setup", "create", "connect", "build", "presimulate", "simulate",
              "save")
    print("\n" + "  ".join(f"{p} {timings[p]:.1f} s" for p in phases if p in timings)
          + f"  RTF {timings['rtf']:.2f}  peak RSS {timings['peak_rss_bytes'] / 1e9:.2f} GB")
    for rank, row in enumerate(timings.get("ranks", ())):
        print(f"  rank {rank}: connect {row['connect']:.1f} s  simulate {row['simulate']:.1f} s  "
              f"peak RSS {row['peak_rss_bytes'] / 1e9:.2f} GB")
