"""One run of the model: checks -> setup -> build -> presimulate -> simulate -> save.

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

from . import backends, derive, interrupts, parallel, parameters, storage
from .parameters import POPULATIONS

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


def memory_parts(backend, params):
    """Rough peak memory (bytes) of a run, by part: ``network`` (interpreter,
    neurons, synapses), ``spikes`` and ``v`` (what the recorders hold, plus the
    copies made when the data are collected and written)."""
    d = derive.derive(params)
    n_syn = int(d["num_synapses"].sum())
    if params["thalamic_input"]:
        n_syn += int(d["thalamic_synapses"].sum())
    n_neurons = int(d["num_neurons"].sum())
    spikes, samples = expected_recording(params)
    return {
        "network": BASE_MEMORY_BYTES + n_syn * backend.BYTES_PER_SYNAPSE
        + n_neurons * backend.BYTES_PER_NEURON,
        "spikes": spikes * backend.BYTES_PER_RECORDED_SPIKE,
        "v": samples * (backend.BYTES_PER_V_SAMPLE + COLLECT_BYTES_PER_V_SAMPLE),
    }


def estimate_memory(backend, params):
    """Rough peak memory (bytes) of a run: :func:`memory_parts` summed."""
    return sum(memory_parts(backend, params).values())


def total_memory():
    """Physical memory of this machine (bytes)."""
    import psutil
    return psutil.virtual_memory().total


def check_run(simulator, params, out_dir, overwrite=False, memory_limit=None):
    """Validate a run without building anything; returns the backend module.

    Raises ``ParameterError``, ``BackendError`` or ``OutputExistsError`` with a
    message that says what to change.
    """
    parameters.validate(params)
    backend = backends.get(simulator)
    parallel.check_launch(simulator)
    if simulator == "nest":
        n_syn = int(derive.derive(params)["num_synapses"].sum())
        backend.choose_threads(params, n_syn)
    if hasattr(backend, "check"):
        backend.check(params)
    limit = memory_limit or total_memory()
    # under MPI each rank holds its share; ranks may sit on several machines, so
    # only a share larger than this machine is sure to fail
    ranks = parallel.launcher_size()
    parts = memory_parts(backend, params)
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


def _progress(done_ms, total_ms, started, label):
    width = 30
    frac = done_ms / total_ms if total_ms else 1.0
    elapsed = time.perf_counter() - started
    bar = "#" * int(round(width * frac)) + "-" * (width - int(round(width * frac)))
    rtf = elapsed / (done_ms * 1e-3) if done_ms else float("nan")
    end = "\n" if frac >= 1 or not sys.stdout.isatty() else "\r"
    print(f"  {label:<11} [{bar}] {100 * frac:5.1f}%  {done_ms:8.1f}/{total_ms:.1f} ms  "
          f"{elapsed:7.1f} s  RTF {rtf:6.2f}", end=end, flush=True)


def run_with_progress(sim, duration_ms, label, show=True, backend=None, should_stop=None):
    """Advance by ``duration_ms`` printing a progress bar; returns (wall s, simulated ms).

    The backend advances (``backend.run(sim, duration_ms, progress)``) and calls
    ``progress(done_ms)`` after each piece; when ``should_stop()`` is true the
    backend stops at that point, and the simulated time reached is returned.
    """
    if duration_ms <= 0:
        return 0.0, 0.0
    started = time.perf_counter()

    def progress(done_ms):
        if show:
            _progress(done_ms, duration_ms, started, label)
        return bool(should_stop and should_stop())

    reached = backend.run(sim, duration_ms, progress)
    return time.perf_counter() - started, float(reached)


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
        return " ".join(shlex.quote(str(a)) for a in argv)


def _magnitude_ms(value):
    """Plain float array (or float) in ms from a Quantity or a plain number/array."""
    if hasattr(value, "rescale"):
        value = value.rescale("ms").magnitude
    return np.asarray(value, dtype=float) if np.ndim(value) else float(value)


def run(simulator, params, out_dir, overwrite=False, spike_format=".pkl",
        command_line=None, verbose=True):
    """Run the model on ``simulator`` and write the run folder; returns a summary dict.

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
    backend = check_run(simulator, params, out_dir, overwrite)
    parallel.barrier()  # every rank has checked the folder before rank 0 writes to it
    if root:
        storage.prepare_run_folder(out_dir, overwrite=True)
        storage.remove_run_files(out_dir)
        storage.write_json(os.path.join(out_dir, "parameters.json"), params)
    record = _RunRecord(out_dir, root, params, command_line or sys.argv)
    record.process_started = process_started
    record.timings["startup"] = startup_s
    record.status("running")
    log_path = os.path.join(out_dir, storage.LOG_FILE)
    with storage.console_log(log_path, enabled=root) as log, \
            interrupts.StopSignals() as stop:
        try:
            return _run_phases(simulator, backend, params, out_dir, spike_format, record,
                               stop, verbose and root)
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


def _run_phases(simulator, backend, params, out_dir, spike_format, record, stop, verbose):
    root = record.root
    say = print if verbose else (lambda *a, **k: None)
    timings = record.timings
    record.enter("import", stop)
    t0 = time.perf_counter()
    sim = backend.import_simulator()
    timings["import"] = time.perf_counter() - t0
    derived = derive.derive(params)
    n_syn = int(derived["num_synapses"].sum())

    record.enter("setup", stop)
    t0 = time.perf_counter()
    settings = backend.setup(sim, params, n_syn)
    timings["setup"] = time.perf_counter() - t0
    metadata = {
        "simulator": simulator, "settings": settings,
        "versions": {**storage.package_versions(), **backend.versions()},
        "label": parameters.run_label(simulator, params),
        "num_neurons": dict(zip(POPULATIONS, derived["num_neurons"])),
        "num_synapses_total": n_syn, "num_synapses": derived["num_synapses"],
        "dc_pA": dict(zip(POPULATIONS, derived["dc_pA"])),
        "command_line": record.command_line,
        "mpi_processes": parallel.launcher_size(),
    }
    if root:
        storage.write_json(os.path.join(out_dir, "metadata.json"), metadata)
    say(f"{metadata['label']}: {simulator} {settings}")

    from .network import Microcircuit  # imports PyNN: not needed for checks or --help
    circuit = Microcircuit(sim, params, verbose=verbose)
    circuit.build(on_phase=lambda phase: record.enter(phase, stop))
    timings.update(circuit.timings)
    t0 = time.perf_counter()
    backend.finish_build(sim)
    timings["connect"] += time.perf_counter() - t0
    t_presim, t_sim = params["t_presim_ms"], params["t_sim_ms"]
    say(f"Simulating {t_presim:g} ms presimulation + {t_sim:g} ms")
    for phase, duration in (("presimulate", t_presim), ("simulate", t_sim)):
        record.enter(phase, stop)
        timings[phase], reached = run_with_progress(sim, duration, phase, show=root,
                                                    backend=backend, should_stop=stop.check)
        record.simulated_ms += reached
        if stop.stopped:
            break
    if hasattr(backend, "execute") and not stop.stopped:
        # deferred execution (Brian2 standalone): the runs above were only queued;
        # compile the program and run it now (its phase times replace the above)
        timings.update(backend.execute(sim, verbose=verbose and root))
    if "simulate" in timings and record.simulated_ms > t_presim:
        timings["rtf"] = timings["simulate"] / ((record.simulated_ms - t_presim) * 1e-3)
    # before collecting data: comparable with native baselines, which keep no copies;
    # Brian2 standalone: Python and the program it waits for, added (an upper bound)
    timings["peak_rss_after_simulate_bytes"] = peak_rss_bytes() + \
        timings.get("peak_rss_program_bytes", 0)

    record.enter("save")
    t0 = time.perf_counter()
    variables = ("spikes", "v") if params["record_v"] else ("spikes",)
    block = collect_block([circuit], t_presim, variables)  # gathers from all ranks
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
    rates = {name: storage.population_rates(spikes[name], *window) for name in POPULATIONS}
    summary = {name: {"mean_hz": float(r.mean()), "std_hz": float(r.std()),
                      "active_fraction": float(np.mean(r > 0)), "n": int(r.size)}
               for name, r in rates.items()}
    storage.write_json(os.path.join(out_dir, "rates.json"),
                       {"window_ms": window, "populations": summary})
    from . import plotting
    plotting.raster(spikes, os.path.join(out_dir, "raster.png"),
                    max(t_presim, t_presim + t_sim - 200.0), t_presim + t_sim,
                    title=f"{simulator}, N={params['N_scaling']:g}, K={params['K_scaling']:g}, "
                          f"{params['background']} background")
    plotting.rate_boxplot(rates, os.path.join(out_dir, "rates_boxplot.png"),
                          title=f"rates per neuron, {simulator}")
    timings["report"] = time.perf_counter() - t0
    timings["peak_rss_bytes"] = peak_rss_bytes()
    # the process's whole wall time so far, and what no phase accounts for
    timings["total"] = time.time() - record.process_started
    timings["other"] = timings["total"] - sum(timings[p] for p in PHASES if p in timings)
    storage.write_json(os.path.join(out_dir, "timings.json"), timings)
    if verbose:
        print_summary(summary, timings)
    record.status("complete")
    return {"rates": summary, "timings": timings, "out_dir": out_dir}


PHASES = ("startup", "import", "setup", "create", "connect", "compile", "presimulate", "simulate",
          "save", "report")


def process_start_time():
    """When this process started (s since the epoch): the user's stopwatch starts there."""
    import psutil
    return psutil.Process().create_time()


def print_summary(summary, timings):
    """The per-population rate table and the phase timings."""
    print("\npopulation   neurons   mean rate (1/s)   active")
    for name, row in summary.items():
        print(f"{name:<10} {row['n']:>9} {row['mean_hz']:>17.3f} {100 * row['active_fraction']:>7.1f}%")
    print("\n" + "  ".join(f"{p} {timings[p]:.1f} s" for p in (*PHASES, "other")
                           if p in timings)
          + f"  = total {timings['total']:.1f} s  (RTF {timings['rtf']:.2f}, "
          f"peak RSS {timings['peak_rss_bytes'] / 1e9:.2f} GB"
          + (f" + program {timings['peak_rss_program_bytes'] / 1e9:.2f} GB"
             if "peak_rss_program_bytes" in timings else "") + ")")
    for rank, row in enumerate(timings.get("ranks", ())):
        print(f"  rank {rank}: connect {row['connect']:.1f} s  simulate {row['simulate']:.1f} s  "
              f"peak RSS {row['peak_rss_bytes'] / 1e9:.2f} GB")
