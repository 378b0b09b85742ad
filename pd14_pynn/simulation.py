"""One run of a model: checks -> setup -> build -> presimulate -> simulate -> save.

The model is the microcircuit of the parameters (the default) or a declared,
unbuilt :class:`~pd14_pynn.areas.MultiAreaModel` (or
:class:`~pd14_pynn.network.Microcircuit`); both answer ``total_synapses()``,
``total_neurons()``, ``metadata()``, ``as_dict()``, ``build()`` and
``collect_block()``, so every model goes through the same checks, phases,
outputs, progress, timings, interrupts and MPI handling.

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

from . import backends, derive, interrupts, network_io, parallel, parameters, sonata, storage
from .parameters import POPULATIONS
from .progress import SimulationProgress

BASE_MEMORY_BYTES = 600e6  # interpreter, PyNN, simulator libraries
# collecting membrane potential samples: PyNN's array and Neo's AnalogSignal (spikes:
# each backend's BYTES_PER_RECORDED_SPIKE includes collecting and writing)
COLLECT_BYTES_PER_V_SAMPLE = 16


def expected_recording(params):
    """``(spikes, v_samples)`` a run will record: spikes from the full-scale mean
    rates (``full_mean_rates_hz``) of every neuron over presimulation and
    simulation; samples of ``v`` of ``record_v`` neurons per population."""
    d = derive.derive(params)
    duration_s = (params["t_presim_ms"] + params["t_sim_ms"]) * 1e-3
    spikes = float(np.sum(d["num_neurons"] * np.asarray(params["full_mean_rates_hz"]))) * duration_s
    traced = float(np.minimum(d["num_neurons"], params["record_v"]).sum())
    samples = traced * (params["t_presim_ms"] + params["t_sim_ms"]) / params["record_v_interval_ms"]
    return spikes, samples


def model_size(params, model=None):
    """``(synapses, neurons, spikes, v_samples)`` of a run: from ``params`` (the
    microcircuit), or from a declared multi-area ``model`` (every area)."""
    if model is not None and hasattr(model, "area_params"):
        recording = [expected_recording(p) for p in model.area_params.values()]
        return (model.total_synapses(), model.total_neurons(),
                sum(r[0] for r in recording), sum(r[1] for r in recording))
    d = derive.derive(params)
    n_syn = int(d["num_synapses"].sum())
    if params["thalamic_input"]:
        n_syn += int(d["thalamic_synapses"].sum())
    return (n_syn, int(d["num_neurons"].sum())) + expected_recording(params)


def memory_parts(backend, params, model=None):
    """Rough peak memory (bytes) of a run, by part: ``network`` (interpreter,
    neurons, synapses), ``spikes`` and ``v`` (what the recorders hold, plus the
    copies made when the data are collected and written). ``model``: a declared
    multi-area model (default: the microcircuit of ``params``)."""
    n_syn, n_neurons, spikes, samples = model_size(params, model)
    return {
        "network": BASE_MEMORY_BYTES + n_syn * backend.BYTES_PER_SYNAPSE
        + n_neurons * backend.BYTES_PER_NEURON,
        "spikes": spikes * backend.BYTES_PER_RECORDED_SPIKE,
        "v": samples * (backend.BYTES_PER_V_SAMPLE + COLLECT_BYTES_PER_V_SAMPLE),
    }


def estimate_memory(backend, params, model=None):
    """Rough peak memory (bytes) of a run: :func:`memory_parts` summed."""
    return sum(memory_parts(backend, params, model).values())


def total_memory():
    """Physical memory of this machine (bytes)."""
    import psutil
    return psutil.virtual_memory().total


def check_run(simulator, params, out_dir, overwrite=False, memory_limit=None,
              connectivity=None, model=None):
    """Validate a run without building anything; returns the backend module.

    ``model``: a declared multi-area model (default: the microcircuit of
    ``params``; a multi-area model's base parameters are its ``params``).
    ``connectivity``: path of a SONATA network to build instead of drawing one;
    it must fit the model (:func:`pd14_pynn.network_io.check_model`). Raises
    ``ParameterError`` (``sonata.NetworkFileError`` for the network file),
    ``BackendError`` or ``OutputExistsError`` with a message that says what to change.
    """
    parameters.validate(params)
    if connectivity is not None:
        network = sonata.NetworkFile(connectivity)
        if model is None:
            network_io.check(network, params)
        else:
            network_io.check_model(network, model)
    backend = backends.get(simulator)
    parallel.check_launch(simulator)
    if simulator == "nest":
        backend.choose_threads(params, model_size(params, model)[0])
    if hasattr(backend, "check"):
        backend.check(params)
    limit = memory_limit or total_memory()
    # under MPI each rank holds its share; ranks may sit on several machines, so
    # only a share larger than this machine is sure to fail
    ranks = parallel.launcher_size()
    parts = memory_parts(backend, params, model)
    needed = sum(parts.values()) / ranks
    if needed > limit:
        per = f" per rank ({ranks} ranks)" if ranks > 1 else ""
        if parts["network"] >= parts["spikes"] + parts["v"]:
            advice = "lower --n-scaling/--k-scaling or use a bigger machine"
        else:
            advice = "lower --t-sim/--t-presim (or --record-v), or use a bigger machine"
        raise backends.BackendError(
            f"this run needs about {_gigabytes(needed)}{per} on {simulator} (network "
            f"{_gigabytes(parts['network'])}, recorded spikes {_gigabytes(parts['spikes'])}, "
            f"membrane traces {_gigabytes(parts['v'])}) but the machine has "
            f"{_gigabytes(limit)}; {advice}")
    if out_dir:
        storage.check_output_folder(out_dir, overwrite)
    return backend


def _gigabytes(n_bytes):
    return f"{n_bytes / 1e9:.3g} GB"


def peak_rss_bytes():
    """Peak resident memory of this process so far (bytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_with_progress(sim, duration_ms, label, show=True, backend=None, should_stop=None,
                      on_step=None):
    """Advance by ``duration_ms`` showing progress and the RTF; returns (wall s, simulated ms).

    The backend advances (``backend.run(sim, duration_ms, progress)``) and calls
    ``progress(done_ms)`` after each piece, which calls ``on_step(done_ms)``;
    when ``should_stop()`` is true the backend stops at that point, and the
    simulated time reached is returned. ``show=False`` (MPI ranks other than 0)
    shows nothing; otherwise a :class:`~pd14_pynn.progress.SimulationProgress`
    bar (tqdm) shows it.
    """
    if duration_ms <= 0:
        return 0.0, 0.0
    started = time.perf_counter()
    bar = SimulationProgress(duration_ms, label) if show else None

    def progress(done_ms):
        if bar is not None:
            bar(done_ms)
        if on_step is not None:
            on_step(done_ms)
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
                ids, spike_times = _spike_arrays(data.spiketrains)
                channels.append(np.asarray(ids, dtype=np.int64) - int(pop.first_id)
                                + first_channel)
                times.append(storage.to_ms(spike_times))
                t_stop_ms = max(t_stop_ms, storage.to_ms(data.spiketrains.t_stop))
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


# while these run, a signal stops the run at once (a half-built network is not kept)
BUILD_PHASES = ("import", "setup", "create", "connect")


class _RunRecord:
    """Where a run is (phase, simulated time) and what it has timed; rank 0 writes
    ``status.json`` and ``timings.json`` from it."""

    def __init__(self, out_dir, root, params, command_line):
        self.out_dir, self.root, self.params = out_dir, root, params
        self.command_line = list(command_line)
        self.phase, self.simulated_ms, self.timings = "import", 0.0, {}
        self.process_started = time.time()

    def enter(self, phase, stop=None):
        self.phase = phase
        if stop is not None:
            stop.raise_now = phase in BUILD_PHASES
            if stop.raise_now and stop.signal_name:  # arrived between two phases
                raise interrupts.RunInterrupted(stop.signal_name)
        self.status("running")

    def advance(self, simulated_ms):
        """Model time reached (ms) during a phase, written to ``status.json`` so
        that a run killed without warning says how far it got."""
        self.simulated_ms = simulated_ms
        self.status("running")

    def status(self, state, **details):
        if self.root:
            storage.write_status(self.out_dir, state, self.phase, self.simulated_ms,
                                 t_stop_ms=self.params["t_presim_ms"] + self.params["t_sim_ms"],
                                 **details)

    def rerun_command(self):
        """The command line of this run, with ``--overwrite`` to reuse its folder."""
        import shlex
        argv = list(self.command_line)
        if argv and argv[0].endswith(".py"):
            argv = ["python"] + argv
        if "--overwrite" not in argv:
            argv.append("--overwrite")
        if parallel.launcher_size() > 1:
            argv = ["mpirun", "-np", str(parallel.launcher_size())] + argv
        return " ".join(shlex.quote(str(a)) for a in argv)


def _spike_arrays(spiketrains):
    """(channel ids, times) of PyNN's spike trains of one population.

    In one process PyNN gives arrays (NEST, Brian2) or trains annotated with
    ``channel_id`` as Python ints (NEURON), both of which Neo's ``multiplexed``
    reads. Under MPI PyNN gathers trains that Neo made, whose ``channel_id`` are
    numpy integers, which ``multiplexed`` does not take for ids (it numbers the
    trains instead): read them train by train.
    """
    if parallel.launcher_size() == 1:
        return spiketrains.multiplexed
    trains = list(spiketrains)
    ids = [np.full(len(t), int(t.annotations["channel_id"]), dtype=np.int64) for t in trains]
    times = [storage.to_ms(t.times) for t in trains]
    return (np.concatenate(ids or [np.array([], dtype=np.int64)]),
            np.concatenate(times or [np.array([])]))


def run(simulator, params, out_dir, overwrite=False, spike_format=".pkl",
        command_line=None, verbose=True, connectivity=None, save_connectivity=False,
        model=None):
    """Run a model on ``simulator`` and write the run folder; returns a summary dict.

    ``model``: the model to run, declared and not built, with ``sim=None``: a
    :class:`~pd14_pynn.areas.MultiAreaModel` (or a
    :class:`~pd14_pynn.network.Microcircuit`); default: the microcircuit of
    ``params``. A given model's ``params`` are the run's (times, seed, threads).
    ``connectivity``: a SONATA network (run folder, its ``network/`` or the
    config file) whose connections are built instead of drawn ones;
    ``save_connectivity``: write the built network as SONATA into
    ``out_dir/network/`` before simulating (docs/outputs.md).

    Under mpirun (NEURON, or an MPI-enabled NEST) every rank builds and simulates
    its share; rank 0 alone writes files, with spikes gathered from all ranks and
    timings and peak memory reported per rank.

    ``status.json`` says ``running`` (with the phase) until the run ends as
    ``complete``, ``interrupted`` or ``failed``; ``run.log`` keeps the console
    output. SIGINT or SIGTERM stop the run after the current progress step: the
    spikes recorded so far and the timings are written, the status says where
    it stopped, and :class:`~pd14_pynn.interrupts.RunInterrupted` is raised
    (with a one-line message: where, and how to rerun). Any other error is
    recorded as ``failed`` (phase and error line) and raised again.
    """
    root = parallel.launcher_rank() == 0
    process_started = process_start_time()
    startup_s = time.time() - process_started
    params = model.params if model is not None else params
    backend = check_run(simulator, params, out_dir, overwrite, connectivity=connectivity,
                        model=model)
    parallel.barrier()  # every rank has checked the folder before rank 0 writes to it
    if root:
        storage.prepare_run_folder(out_dir, overwrite=True)
        storage.remove_run_files(out_dir)
        _remove_old_network(out_dir, connectivity)
        storage.write_json(os.path.join(out_dir, "parameters.json"),
                           model.as_dict() if model is not None else params)
    record = _RunRecord(out_dir, root, params, command_line or sys.argv)
    record.process_started = process_started
    record.timings["startup"] = startup_s
    record.status("running")
    log_path = os.path.join(out_dir, storage.LOG_FILE)
    with storage.console_log(log_path, enabled=root) as log, \
            interrupts.StopSignals() as stop:
        try:
            return _run_phases(simulator, backend, params, out_dir, spike_format, record,
                               stop, verbose and root, model, connectivity, save_connectivity)
        except interrupts.RunInterrupted as stopped:
            if stopped.reported:  # stopped while simulating: outputs written, line printed
                raise
            stop.raise_now = False
            # during the build: no simulation to keep; the status says where it stopped
            record.status("interrupted", signal=stopped.signal_name,
                          rerun=record.rerun_command())
            _write_timings(record)
            raise _interrupted_message(record, stopped.signal_name) from None
        except Exception as err:
            stop.raise_now = False
            error = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            record.status("failed", error=error, rerun=record.rerun_command())
            _write_timings(record)
            if log is not None:
                import traceback
                traceback.print_exc(file=log)
            raise


def _remove_old_network(out_dir, connectivity):
    """Delete the ``network/`` an earlier run saved in ``out_dir`` (for ``--overwrite``),
    unless this run builds the network saved there."""
    folder = os.path.abspath(os.path.join(out_dir, sonata.NETWORK_FOLDER))
    if not os.path.isdir(folder):
        return
    if connectivity is not None and \
            os.path.abspath(sonata.locate(connectivity)).startswith(folder + os.sep):
        return
    import shutil
    shutil.rmtree(folder)


def _interrupted_message(record, signal_name):
    """The exception, with its one line: where the run stopped and how to rerun it."""
    total = record.params["t_presim_ms"] + record.params["t_sim_ms"]
    message = (f"interrupted by {signal_name} in {record.phase} at "
               f"{record.simulated_ms:g} of {total:g} ms simulated; what was done is in "
               f"{record.out_dir} (status.json); rerun with: {record.rerun_command()}")
    if record.root:
        print(message, file=sys.stderr, flush=True)
    stopped = interrupts.RunInterrupted(signal_name, message)
    stopped.reported = True
    return stopped


def _write_timings(record):
    record.timings["peak_rss_bytes"] = peak_rss_bytes()
    record.timings["total"] = time.time() - record.process_started
    if record.root:
        storage.write_json(os.path.join(record.out_dir, "timings.json"),
                           dict(record.timings, simulated_ms=record.simulated_ms,
                                complete=False))


def _run_phases(simulator, backend, params, out_dir, spike_format, record, stop, verbose,
                model=None, connectivity=None, save_connectivity=False):
    root = record.root
    say = print if verbose else (lambda *a, **k: None)
    timings = record.timings
    record.enter("import", stop)
    t0 = time.perf_counter()
    sim = backend.import_simulator()
    timings["import"] = time.perf_counter() - t0
    if model is None:
        from .network import Microcircuit  # imports PyNN: not needed for checks or --help
        model = Microcircuit(None, params)
    network_file = sonata.NetworkFile(connectivity) if connectivity is not None else None
    model.sim, model.verbose, model.connectivity = sim, verbose, network_file
    n_syn = model.total_synapses()

    record.enter("setup", stop)
    t0 = time.perf_counter()
    settings = backend.setup(sim, params, n_syn)
    timings["setup"] = time.perf_counter() - t0
    metadata = {
        "simulator": simulator, "settings": settings,
        "versions": {**storage.package_versions(), **backend.versions()},
        "label": parameters.run_label(simulator, params),
        **model.metadata(),
        "command_line": record.command_line,
        "mpi_processes": parallel.launcher_size(),
        "connectivity_from": network_file and os.path.abspath(network_file.config_path),
    }
    if root:
        storage.write_json(os.path.join(out_dir, "metadata.json"), metadata)
    say(f"{metadata['label']}: {simulator} {settings}")

    model.build(on_phase=lambda phase: record.enter(phase, stop))
    timings.update(model.timings)
    t0 = time.perf_counter()
    backend.finish_build(sim)
    timings["connect"] += time.perf_counter() - t0
    if save_connectivity:
        record.enter("save_connectivity", stop)
        timings.update(write_connectivity(model, backend, out_dir, metadata, say))
    t_presim, t_sim = params["t_presim_ms"], params["t_sim_ms"]
    say(f"Simulating {t_presim:g} ms presimulation + {t_sim:g} ms")
    for phase, duration in (("presimulate", t_presim), ("simulate", t_sim)):
        record.enter(phase, stop)
        phase_start_ms = record.simulated_ms
        timings[phase], reached = run_with_progress(
            sim, duration, phase, show=root, backend=backend, should_stop=stop.check,
            on_step=lambda done_ms: record.advance(phase_start_ms + done_ms))
        record.simulated_ms = phase_start_ms + reached
        if stop.stopped:
            break
    if hasattr(backend, "execute") and not stop.stopped:
        # deferred execution (Brian2 standalone): the runs above were only queued;
        # compile the program and run it now (its phase times replace the above)
        record.enter("compile", stop)
        timings.update(backend.execute(sim, verbose=verbose and root, should_stop=stop.check,
                                       on_phase=lambda phase: record.enter(phase, stop)))
        reached = timings.pop("reached_ms", None)
        if reached is not None and reached < record.simulated_ms - 1e-6:
            # the program was stopped by a signal (passed on from here, or sent to it)
            record.simulated_ms = reached
            stop.stopped_in_child()
            stop.check()
            if reached == 0.0:  # stopped before the program started: nothing recorded
                raise interrupts.RunInterrupted(stop.agreed_signal())
            if reached <= t_presim:
                timings.pop("simulate", None)
    if "simulate" in timings and record.simulated_ms > t_presim:
        timings["rtf"] = timings["simulate"] / ((record.simulated_ms - t_presim) * 1e-3)
    # before collecting data: comparable with native baselines, which keep no copies;
    # Brian2 standalone: Python and the program it waits for, added (an upper bound)
    timings["peak_rss_after_simulate_bytes"] = peak_rss_bytes() + \
        timings.get("peak_rss_program_bytes", 0)

    record.enter("save")
    t0 = time.perf_counter()
    variables = ("spikes", "v") if params["record_v"] else ("spikes",)
    block = model.collect_block(t_presim, variables)  # gathers from all ranks
    block.annotations.update(simulator=simulator, label=metadata["label"],
                             simulated_ms=record.simulated_ms, complete=not stop.stopped)
    if root:
        storage.write_block(block, os.path.join(out_dir, "spikes" + spike_format))
    timings["save"] = time.perf_counter() - t0
    timings["peak_rss_bytes"] = peak_rss_bytes()
    per_rank = parallel.gather(dict(timings))
    if root and len(per_rank) > 1:
        timings["ranks"] = per_rank
        timings["peak_rss_bytes_total"] = sum(t["peak_rss_bytes"] for t in per_rank)
    if stop.stopped:
        signal_name = stop.agreed_signal()
        record.phase = "simulate" if "simulate" in timings else "presimulate"
        _write_timings(record)
        record.status("interrupted", signal=signal_name, rerun=record.rerun_command())
        sim.end()
        raise _interrupted_message(record, signal_name)
    sim.end()
    if not root:
        return {"timings": timings, "out_dir": out_dir}

    t0 = time.perf_counter()
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
    timings["report"] = time.perf_counter() - t0
    timings["peak_rss_bytes"] = peak_rss_bytes()
    # the process's whole wall time so far, and what no phase accounts for
    timings["total"] = time.time() - record.process_started
    timings["other"] = timings["total"] - sum(timings[p] for p in PHASES if p in timings)
    storage.write_json(os.path.join(out_dir, "timings.json"), timings)
    if verbose:
        print_summary(summary, timings, model.background_fractions() if by_area else None)
    record.status("complete")
    return {"rates": summary, "timings": timings, "out_dir": out_dir}


PHASES = ("startup", "import", "setup", "create", "connect", "save_connectivity", "compile",
          "presimulate", "simulate", "save", "report")


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


def process_start_time():
    """When this process started (s since the epoch): the user's stopwatch starts there.

    On Linux, from the process's start and the clock since boot, both counted
    from boot (10 ms resolution): psutil's ``create_time`` adds the boot time of
    ``/proc/stat``, which is whole seconds, so it put the start up to 1 s early
    and ``startup`` and ``total`` up to 1 s long (0.97 s on the machine where
    this was seen: the timing line's total above /usr/bin/time's wall time).
    """
    if hasattr(time, "CLOCK_BOOTTIME") and os.path.exists("/proc/self/stat"):
        with open("/proc/self/stat") as handle:
            # fields after "pid (name)"; the name may hold spaces: the 22nd field overall
            start_ticks = int(handle.read().rpartition(")")[2].split()[19])
        age_s = time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")
        return time.time() - age_s
    import psutil
    return psutil.Process().create_time()


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
    print("\n" + "  ".join(f"{p} {timings[p]:.1f} s" for p in (*PHASES, "other")
                           if p in timings)
          + f"  = total {timings['total']:.1f} s  (RTF {timings['rtf']:.2f}, "
          f"peak RSS {timings['peak_rss_bytes'] / 1e9:.2f} GB"
          + (f" + program {timings['peak_rss_program_bytes'] / 1e9:.2f} GB"
             if "peak_rss_program_bytes" in timings else "") + ")")
    for rank, row in enumerate(timings.get("ranks", ())):
        print(f"  rank {rank}: connect {row['connect']:.1f} s  simulate {row['simulate']:.1f} s  "
              f"peak RSS {row['peak_rss_bytes'] / 1e9:.2f} GB")
