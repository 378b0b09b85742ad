"""One run of a model: checks, then the phases build -> simulate -> save -> report.

The model is the microcircuit of the parameters (the default) or a declared,
unbuilt :class:`~pd14_pynn.areas.MultiAreaModel`,
:class:`~pd14_pynn.described_model.DescribedModel` (or
:class:`~pd14_pynn.network.Microcircuit`); each answers ``total_synapses()``,
``total_neurons()``, ``expected_recording()``, ``circuit_parameters()``,
``metadata()``, ``as_dict()``, ``build()`` and ``collect_block()``, so every
model goes through the same
checks, phases, outputs, progress, timings, interrupts and MPI handling. The
simulator is reached only through its :class:`~pd14_pynn.backends.Backend`.

:func:`check_run` does every check that can fail *before* anything is built or
written; :func:`run` then executes the phases (:func:`build`, :func:`simulate`,
:func:`save`, :func:`report`), timing each, and writes the run folder described
in :mod:`pd14_pynn.run_folder`. Parameters are written first, so a failure later
still leaves a record of what was attempted. Memory estimates live in
:mod:`pd14_pynn.resources`, the run's status and timings in
:mod:`pd14_pynn.run_record`, the Neo block in :mod:`pd14_pynn.recording`,
rates and figures in :mod:`pd14_pynn.summary`; nothing in the package imports
this module but the command line.
"""

import os
import sys
import time

from . import (backends, interrupts, network_io, parallel, parameters, resources, run_folder,
               run_record, sonata, sonata_reader, storage, summary)
from .progress import SimulationProgress


def check_run(simulator, params, out_dir, overwrite=False, memory_limit=None,
              connectivity=None, model=None, spike_format=".pkl", raster_areas=None):
    """Validate a run without building anything; returns the :class:`~pd14_pynn.backends.Backend`.

    ``model``: a declared multi-area model (default: the microcircuit of
    ``params``; a multi-area model's base parameters are its ``params``).
    ``connectivity``: path of a SONATA network to build instead of drawing one;
    it must fit the model (:func:`pd14_pynn.network_io.check_model`).
    ``spike_format``: a key of :data:`pd14_pynn.storage.SPIKE_FILES`; ``sonata``
    holds spikes only, so it refuses ``record_v``.
    ``raster_areas``: areas of the model for ``raster_areas.png`` (multi-area runs).
    ``memory_limit``: bytes available (default: this machine's memory). Raises
    ``ParameterError`` (``sonata.NetworkFileError`` for the network file),
    ``BackendError`` or ``OutputExistsError`` with a message that says what to change.
    """
    parameters.validate(params)
    check_spike_format(spike_format, params)
    if raster_areas is not None:
        check_raster_areas(model, raster_areas)
    if connectivity is not None:
        network = sonata_reader.NetworkFile(connectivity)
        if model is None:
            network_io.check(network, params)
        else:
            network_io.check_model(network, model)
    backend = backends.get(simulator)
    parallel.check_launch(backend)
    backend.check(params, resources.model_size(params, model)[0])
    # under MPI each rank holds its share; ranks may sit on several machines, so
    # only a share larger than this machine is sure to fail
    resources.check_memory(backend, params, model, memory_limit, parallel.launcher_size())
    if out_dir:
        run_folder.check_output_folder(out_dir, overwrite)
    return backend


def check_raster_areas(model, raster_areas):
    """Raise ``ParameterError`` unless ``raster_areas`` are areas of ``model``."""
    names = model.area_names() if model is not None else []
    if not names:
        raise parameters.ParameterError("--raster-areas applies to runs with several areas "
                                        "(--model FILE); this run has one circuit")
    try:
        summary.choose_raster_areas(names, raster_areas)
    except ValueError as err:
        raise parameters.ParameterError(str(err)) from None


def check_spike_format(spike_format, params):
    """Raise ``ParameterError`` unless the run's data fit ``spike_format``."""
    if spike_format not in storage.SPIKE_FILES:
        raise parameters.ParameterError(
            f"unknown spike format {spike_format!r}; use one of {', '.join(storage.SPIKE_FILES)}")
    if spike_format == "sonata" and params.get("record_v"):
        raise parameters.ParameterError(
            "--format sonata writes a SONATA spike report, which holds spikes only; record "
            "membrane potentials (--record-v) with --format .pkl or .nix")


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
    backend.check_save_connectivity(parallel.launcher_size())
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


def run(simulator, params, out_dir, overwrite=False, spike_format=".pkl",
        command_line=None, verbose=True, connectivity=None, save_connectivity=False,
        model=None, raster_areas=None):
    """Run a model on ``simulator`` and write the run folder; returns a summary dict.

    ``model``: the model to run, declared and not built, with ``sim=None``: a
    :class:`~pd14_pynn.areas.MultiAreaModel` (or a
    :class:`~pd14_pynn.network.Microcircuit`); default: the microcircuit of
    ``params``. A given model's ``params`` are the run's (times, seed, threads).
    ``connectivity``: a SONATA network (run folder, its ``network/`` or the
    config file) whose connections are built instead of drawn ones;
    ``save_connectivity``: write the built network as SONATA into
    ``out_dir/network/`` before simulating (docs/outputs.md).
    ``spike_format``: ``.pkl`` or ``.nix`` (a Neo file) or ``sonata`` (a SONATA
    spike report, ``spikes.h5``, whose node IDs are those of ``network/``).
    ``raster_areas``: the areas drawn in ``raster_areas.png`` (multi-area models;
    default the first 3).

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
    process_started = run_record.process_start_time()
    startup_s = time.time() - process_started
    params = model.params if model is not None else params
    backend = check_run(simulator, params, out_dir, overwrite, connectivity=connectivity,
                        model=model, spike_format=spike_format, raster_areas=raster_areas)
    parallel.barrier()  # every rank has checked the folder before rank 0 writes to it
    if root:
        run_folder.prepare_run_folder(out_dir, overwrite=True)
        run_folder.remove_run_files(out_dir)
        _remove_old_network(out_dir, connectivity)
        storage.write_json(os.path.join(out_dir, "parameters.json"),
                           model.as_dict() if model is not None else params)
    record = run_record.RunRecord(out_dir, root, params, command_line or sys.argv)
    record.process_started = process_started
    record.timings["startup"] = startup_s
    record.status("running")
    log_path = os.path.join(out_dir, run_folder.LOG_FILE)
    with run_folder.console_log(log_path, enabled=root) as log, \
            interrupts.StopSignals() as stop:
        try:
            return _run_phases(_Run(simulator, backend, params, out_dir, record, stop,
                                    verbose and root, model, connectivity, save_connectivity,
                                    spike_format, raster_areas))
        except interrupts.RunInterrupted as stopped:
            if stopped.reported:  # stopped while simulating: outputs written, line printed
                raise
            stop.raise_now = False
            # during the build: no simulation to keep; the status says where it stopped
            record.status("interrupted", signal=stopped.signal_name,
                          rerun=record.rerun_command())
            run_record.write_timings(record)
            raise run_record.interrupted(record, stopped.signal_name) from None
        except Exception as err:
            stop.raise_now = False
            error = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            record.status("failed", error=error, rerun=record.rerun_command())
            run_record.write_timings(record)
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


class _Run:
    """What the phases of one run share: the backend and simulator, the model,
    the run folder and its record, the stop signals, and how to print."""

    def __init__(self, simulator, backend, params, out_dir, record, stop, verbose, model,
                 connectivity, save_connectivity, spike_format, raster_areas=None):
        self.simulator, self.backend, self.params = simulator, backend, params
        self.out_dir, self.record, self.stop = out_dir, record, stop
        self.root, self.timings = record.root, record.timings
        self.say = print if verbose else (lambda *a, **k: None)
        self.verbose = verbose
        self.model, self.connectivity = model, connectivity
        self.save_connectivity, self.spike_format = save_connectivity, spike_format
        self.raster_areas = raster_areas
        self.sim, self.metadata, self.block = None, None, None


def _run_phases(run):
    """The phases in order; returns the run's summary dict (rank 0) or its timings."""
    build(run)
    simulate(run)
    save(run)
    if run.stop.stopped:
        _stop_after_save(run)
    run.sim.end()
    if not run.root:
        return {"timings": run.timings, "out_dir": run.out_dir}
    return report(run)


def build(run):
    """Import the simulator, set it up, write metadata.json, build the model
    (and save it as SONATA if asked); phases ``import`` to ``connect``."""
    record, stop, timings, params = run.record, run.stop, run.timings, run.params
    record.enter("import", stop)
    t0 = time.perf_counter()
    run.sim = sim = run.backend.import_simulator()
    timings["import"] = time.perf_counter() - t0
    if run.model is None:
        from .network import Microcircuit  # imports PyNN: not needed for checks or --help
        run.model = Microcircuit(None, params)
    model = run.model
    network_file = None
    if run.connectivity is not None:
        network_file = sonata_reader.NetworkFile(run.connectivity)
    model.sim, model.verbose, model.connectivity = sim, run.verbose, network_file
    if model.fast is True:
        model.fast = run.backend.fast_paths(sim)

    record.enter("setup", stop)
    t0 = time.perf_counter()
    settings = run.backend.setup(sim, params, model.total_synapses())
    timings["setup"] = time.perf_counter() - t0
    run.metadata = metadata = {
        "simulator": run.simulator, "settings": settings,
        "versions": {**storage.package_versions(), **run.backend.versions()},
        "label": parameters.run_label(run.simulator, params),
        **model.metadata(),
        "command_line": record.command_line,
        "mpi_processes": parallel.launcher_size(),
        "connectivity_from": network_file and os.path.abspath(network_file.config_path),
    }
    if run.root:
        storage.write_json(os.path.join(run.out_dir, "metadata.json"), metadata)
    run.say(f"{metadata['label']}: {run.simulator} {settings}")

    model.build(on_phase=lambda phase: record.enter(phase, stop))
    timings.update(model.timings)
    t0 = time.perf_counter()
    run.backend.finish_build(sim)
    timings["connect"] += time.perf_counter() - t0
    if run.save_connectivity:
        record.enter("save_connectivity", stop)
        timings.update(write_connectivity(model, run.backend, run.out_dir, metadata, run.say))


def simulate(run):
    """Presimulate and simulate with progress, stopping early on a signal; then
    run what a deferring backend queued (Brian2 standalone: compile and run the
    program). Sets the RTF and the peak memory after simulating."""
    record, stop, timings, backend = run.record, run.stop, run.timings, run.backend
    t_presim, t_sim = run.params["t_presim_ms"], run.params["t_sim_ms"]
    run.say(f"Simulating {t_presim:g} ms presimulation + {t_sim:g} ms")
    for phase, duration in (("presimulate", t_presim), ("simulate", t_sim)):
        record.enter(phase, stop)
        phase_start_ms = record.simulated_ms
        timings[phase], reached = run_with_progress(
            run.sim, duration, phase, show=run.root, backend=backend, should_stop=stop.check,
            on_step=lambda done_ms: record.advance(phase_start_ms + done_ms))
        record.simulated_ms = phase_start_ms + reached
        if stop.stopped:
            break
    if backend.deferred(run.sim) and not stop.stopped:
        # the runs above were only queued: build the program and run it now (its
        # phase times replace the above)
        record.enter("compile", stop)
        timings.update(backend.execute(run.sim, verbose=run.verbose and run.root,
                                       should_stop=stop.check,
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
    timings["peak_rss_after_simulate_bytes"] = resources.peak_rss_bytes() + \
        timings.get("peak_rss_program_bytes", 0)


def save(run):
    """Collect what was recorded (from every rank) into one Neo block and write
    it (rank 0); gather the timings of every rank."""
    record, timings = run.record, run.timings
    record.enter("save")
    t0 = time.perf_counter()
    variables = ("spikes", "v") if run.params["record_v"] else ("spikes",)
    run.block = block = run.model.collect_block(run.params["t_presim_ms"], variables)
    block.annotations.update(simulator=run.simulator, label=run.metadata["label"],
                             simulated_ms=record.simulated_ms, complete=not run.stop.stopped)
    if run.root:
        storage.write_block(block, storage.spike_path(run.out_dir, run.spike_format))
    timings["save"] = time.perf_counter() - t0
    timings["peak_rss_bytes"] = resources.peak_rss_bytes()
    per_rank = parallel.gather(dict(timings))
    if run.root and len(per_rank) > 1:
        timings["ranks"] = per_rank
        timings["peak_rss_bytes_total"] = sum(t["peak_rss_bytes"] for t in per_rank)


def _stop_after_save(run):
    """A signal stopped the simulation: what was simulated is saved; record that
    and raise :class:`~pd14_pynn.interrupts.RunInterrupted` with its one line."""
    record = run.record
    signal_name = run.stop.agreed_signal()
    record.phase = "simulate" if "simulate" in run.timings else "presimulate"
    run_record.write_timings(record)
    record.status("interrupted", signal=signal_name, rerun=record.rerun_command())
    run.sim.end()
    raise run_record.interrupted(record, signal_name)


def report(run):
    """Rates, figures and timings.json (rank 0), the console summary; the run is
    complete. Returns ``{"rates", "timings", "out_dir"}``."""
    timings = run.timings
    t0 = time.perf_counter()
    rates, areas = summary.write_summary(run.block, run.simulator, run.params, run.out_dir,
                                         raster_areas=run.raster_areas,
                                         reference_rates=run.model.reference_rates_hz())
    timings["report"] = time.perf_counter() - t0
    timings["peak_rss_bytes"] = resources.peak_rss_bytes()
    # the process's whole wall time so far, and what no phase accounts for
    timings["total"] = time.time() - run.record.process_started
    timings["other"] = timings["total"] - sum(timings[p] for p in summary.PHASES
                                              if p in timings)
    storage.write_json(os.path.join(run.out_dir, "timings.json"), timings)
    if run.verbose:
        summary.print_summary(rates, timings,
                              run.model.background_fractions() if areas else None)
    run.record.status("complete")
    return {"rates": rates, "timings": timings, "out_dir": run.out_dir}
