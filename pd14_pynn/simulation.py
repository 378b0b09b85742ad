"""One run of the model: checks -> setup -> build -> presimulate -> simulate -> save.

:func:`check_run` does every check that can fail *before* anything is built or
written; :func:`run` then executes the phases, timing each, and writes the run
folder described in :mod:`pd14_pynn.storage`. Parameters are written first, so a
failure later still leaves a record of what was attempted.
"""

import os
import resource
import sys
import time

import numpy as np

from . import backends, derive, parallel, parameters, storage
from .network import Microcircuit
from .parameters import POPULATIONS

BASE_MEMORY_BYTES = 600e6  # interpreter, PyNN, simulator libraries


def estimate_memory(backend, params):
    """Rough peak memory (bytes) of a run from per-synapse and per-neuron costs."""
    d = derive.derive(params)
    n_syn = int(d["num_synapses"].sum())
    if params["thalamic_input"]:
        n_syn += int(d["thalamic_synapses"].sum())
    n_neurons = int(d["num_neurons"].sum())
    return BASE_MEMORY_BYTES + n_syn * backend.BYTES_PER_SYNAPSE + \
        n_neurons * backend.BYTES_PER_NEURON


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
    needed = estimate_memory(backend, params) / ranks
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


def _progress(done_ms, total_ms, started, label):
    width = 30
    frac = done_ms / total_ms if total_ms else 1.0
    elapsed = time.perf_counter() - started
    bar = "#" * int(round(width * frac)) + "-" * (width - int(round(width * frac)))
    rtf = elapsed / (done_ms * 1e-3) if done_ms else float("nan")
    end = "\n" if frac >= 1 or not sys.stdout.isatty() else "\r"
    print(f"  {label:<11} [{bar}] {100 * frac:5.1f}%  {done_ms:8.1f}/{total_ms:.1f} ms  "
          f"{elapsed:7.1f} s  RTF {rtf:6.2f}", end=end, flush=True)


def run_with_progress(sim, duration_ms, label, n_chunks=10, show=True, backend=None):
    """Advance by ``duration_ms`` printing a progress bar; returns the wall time (s).

    A backend with its own ``run(sim, duration_ms, progress)`` (Brian2, where each
    ``run()`` call has a fixed cost) runs in one call and reports progress from
    inside; otherwise ``sim.run`` is called in ``n_chunks`` pieces (multiples of
    the time step).
    """
    if duration_ms <= 0:
        return 0.0
    started = time.perf_counter()
    if hasattr(backend, "run"):
        def progress(done_ms):
            _progress(done_ms, duration_ms, started, label)
        backend.run(sim, duration_ms, progress if show else None)
        return time.perf_counter() - started
    dt = sim.get_time_step()
    steps = int(round(duration_ms / dt))
    bounds = np.linspace(0, steps, min(n_chunks, steps) + 1).round().astype(int)
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        sim.run((hi - lo) * dt)
        if show:
            _progress(hi * dt, steps * dt, started, label)
    return time.perf_counter() - started


def collect_block(circuits, t_presim_ms, variables=("spikes",)):
    """One Neo block with the recorded data of every population of every circuit."""
    import neo
    block = neo.Block(name="PD14 microcircuit")
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    for circuit in circuits:
        for name, pop in circuit.populations.items():
            data = pop.get_data(variables, clear=False).segments[0]
            index_of = {int(cell): i for i, cell in enumerate(pop.all_cells)}
            for train in data.spiketrains:
                source_id = int(train.annotations.get("source_id", -1))
                train.annotations.update(population=name, area=circuit.label,
                                         index=int(index_of.get(source_id,
                                                                train.annotations.get(
                                                                    "source_index", -1))))
                segment.spiketrains.append(train)
            for signal in data.analogsignals:
                signal.annotations.update(population=name, area=circuit.label)
                signal.array_annotations["index"] = np.asarray(
                    signal.array_annotations.get("channel_index",
                                                 np.arange(signal.shape[1])))
                segment.analogsignals.append(signal)
    block.annotations.update(t_presim_ms=float(t_presim_ms))
    return block


def run(simulator, params, out_dir, overwrite=False, spike_format=".pkl",
        command_line=None, verbose=True):
    """Run the model on ``simulator`` and write the run folder; returns a summary dict.

    Under mpirun (NEURON, or an MPI-enabled NEST) every rank builds and simulates
    its share; rank 0 alone writes files, with spikes gathered from all ranks and
    timings and peak memory reported per rank.
    """
    root = parallel.launcher_rank() == 0
    say = print if verbose and root else (lambda *a, **k: None)
    backend = check_run(simulator, params, out_dir, overwrite)
    parallel.barrier()  # every rank has checked the folder before rank 0 writes to it
    timings = {}
    t0 = time.perf_counter()
    sim = backend.import_simulator()
    timings["import"] = time.perf_counter() - t0

    if root:
        storage.prepare_run_folder(out_dir, overwrite=True)
        storage.write_json(os.path.join(out_dir, "parameters.json"), params)
    derived = derive.derive(params)
    n_syn = int(derived["num_synapses"].sum())

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
        "command_line": command_line or sys.argv,
        "mpi_processes": parallel.launcher_size(),
    }
    if root:
        storage.write_json(os.path.join(out_dir, "metadata.json"), metadata)
    say(f"{metadata['label']}: {simulator} {settings}")

    circuit = Microcircuit(sim, params, verbose=verbose and root)
    circuit.build()
    t0 = time.perf_counter()
    backend.finish_build(sim)
    circuit.timings["connect"] += time.perf_counter() - t0
    timings.update(circuit.timings)
    t_presim, t_sim = params["t_presim_ms"], params["t_sim_ms"]
    say(f"Simulating {t_presim:g} ms presimulation + {t_sim:g} ms")
    timings["presimulate"] = run_with_progress(sim, t_presim, "presimulate", show=root,
                                              backend=backend)
    timings["simulate"] = run_with_progress(sim, t_sim, "simulate", show=root,
                                           backend=backend)
    if hasattr(backend, "execute"):
        # deferred execution (Brian2 standalone): the runs above were only queued;
        # compile the program and run it now (its phase times replace the above)
        timings.update(backend.execute(sim, verbose=verbose and root))
    timings["rtf"] = timings["simulate"] / (t_sim * 1e-3)
    # before collecting data: comparable with native baselines, which keep no copies;
    # Brian2 standalone: Python and the program it waits for, added (an upper bound)
    timings["peak_rss_after_simulate_bytes"] = peak_rss_bytes() + \
        timings.get("peak_rss_program_bytes", 0)

    t0 = time.perf_counter()
    variables = ("spikes", "v") if params["record_v"] else ("spikes",)
    block = collect_block([circuit], t_presim, variables)  # gathers from all ranks
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

    spikes = storage.spikes_by_population(block)
    window = (t_presim, t_presim + t_sim)
    rates = {name: storage.mean_rates(spikes[name], *window) for name in POPULATIONS}
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
    if verbose:
        print_summary(summary, timings)
    return {"rates": summary, "timings": timings, "out_dir": out_dir}


def print_summary(summary, timings):
    """The per-population rate table and the phase timings."""
    print("\npopulation   neurons   mean rate (1/s)   active")
    for name, row in summary.items():
        print(f"{name:<10} {row['n']:>9} {row['mean_hz']:>17.3f} {100 * row['active_fraction']:>7.1f}%")
    phases = ("import", "setup", "create", "connect", "compile", "connect_in_program",
              "presimulate", "simulate", "save")
    print("\n" + "  ".join(f"{p} {timings[p]:.1f} s" for p in phases if p in timings)
          + f"  RTF {timings['rtf']:.2f}  peak RSS {timings['peak_rss_bytes'] / 1e9:.2f} GB"
          + (f" (+ program {timings['peak_rss_program_bytes'] / 1e9:.2f} GB)"
             if "peak_rss_program_bytes" in timings else ""))
    for rank, row in enumerate(timings.get("ranks", ())):
        print(f"  rank {rank}: connect {row['connect']:.1f} s  simulate {row['simulate']:.1f} s  "
              f"peak RSS {row['peak_rss_bytes'] / 1e9:.2f} GB")
