"""MAM's own NEST simulation as a run folder: the reference for pd14-pynn's MAM.

:func:`run_mam` runs INM-6/multi-area-model's own code (its
``MultiAreaModel(...).simulation.simulate()``, on NEST) from a temporary copy of
a user's clone, in a separate process (:mod:`pd14_pynn.mam_run`), measures that
whole process from the outside (wall time, peak resident memory), and turns
MAM's spike files into a run folder like ``python run/main.py`` writes
(``spikes.pkl`` with every spike annotated with area and population,
``metadata.json`` naming the simulator ``mam-nest``, ``parameters.json``,
``timings.json``), so that :mod:`pd14_pynn.validation.compare` can put it beside
pd14-pynn's runs of the same description. ``run/mam_side_by_side.py`` is the
benchmark that uses it.

MAM's code and data are CC BY-NC-SA 4.0: nothing of them is copied here; the
clone is the user's, and the run folders written hold MAM's spikes.
"""

import glob
import json
import os
import subprocess
import sys
import time

import numpy as np

from . import mam, run_folder, storage
from .parameters import ParameterError

#: the simulator name of MAM's own runs in their metadata.json
SIMULATOR = "mam-nest"
#: MAM's example replaces areas it does not simulate by Poisson input at their
#: stationary full-scale rates, the description's "poisson_full_mean_rates"
REPLACE_NON_SIMULATED = "het_poisson_stat"


def network_params(clone, n_scaling, k_scaling, state):
    """MAM's custom network parameters for a down-scaled run in ``state``."""
    if state not in mam.STATES:
        raise ParameterError(f"state = {state!r} is not allowed: it must be one of "
                             f"{', '.join(mam.STATES)}")
    return {"N_scaling": n_scaling, "K_scaling": k_scaling,
            "fullscale_rates": os.path.abspath(os.path.join(clone, mam.RATES_IN_CLONE)),
            "connection_params": {"replace_non_simulated_areas": REPLACE_NON_SIMULATED,
                                  **mam.STATES[state]}}


def run_measured(cmd, cwd, env, log_path):
    """Run ``cmd`` to its exit, its output into ``log_path``; returns (wall s, peak RSS
    bytes, exit code), measured from outside (``wait4``)."""
    with open(log_path, "w") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    return wall, usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status)


def run_mam(clone, out_dir, n_scaling, k_scaling, t_sim_ms, seed, threads=1, state="ground",
            python=None, parameters=None):
    """Run MAM's own simulation; write its run folder ``out_dir``; return its timings (dict).

    ``seed`` is MAM's ``rng_seed``; ``parameters`` (dict, optional) is written as the
    folder's parameters.json (pass the pd14-pynn run's, with this seed, so that the
    validation sees one model); by default the settings given here.
    """
    os.makedirs(out_dir, exist_ok=True)
    script = (os.path.join(os.path.dirname(__file__), "mam_run.py"))
    with open(script) as f:
        text = f.read()
    sim_params = {"t_sim": float(t_sim_ms), "rng_seed": int(seed), "num_processes": 1,
                  "local_num_threads": int(threads)}
    with mam.working_copy(clone) as (tmp, env):
        # MAM's data_path (config.py of the copy); MAM makes only the folders inside it
        os.makedirs(os.path.join(tmp, "simulations"), exist_ok=True)
        result_path = os.path.join(tmp, "mam_run.json")
        cmd = [python or sys.executable, "-W", "ignore", "-c", text,
               json.dumps(network_params(clone, n_scaling, k_scaling, state)),
               json.dumps(sim_params), result_path]
        log_path = os.path.join(out_dir, "mam_output.txt")
        wall, peak, code = run_measured(cmd, tmp, env, log_path)
        if code != 0:
            with open(log_path) as f:
                tail = f.read().strip().splitlines()[-1:] or ["no output"]
            raise ParameterError(f"MAM's simulation failed ({tail[0]}); its output is in "
                                 f"{log_path}")
        with open(result_path) as f:
            result = json.load(f)
        block, rows = block_from_recordings(result["recordings"], result["t_sim_ms"])
    n_neurons = sum(row["size"] for row in rows)
    timings = {**{k: v for k, v in result.items() if k.endswith("_s")},
               "whole_s": wall, "whole_peak_rss_bytes": peak, "num_neurons": n_neurons,
               # NEST counts the device connections too: one Poisson generator and the
               # spike recorder per neuron
               "num_synapses": result["num_connections"] - 2 * n_neurons}
    storage.write_block(block, os.path.join(out_dir, "spikes.pkl"))
    storage.write_json(os.path.join(out_dir, "timings.json"), timings)
    storage.write_json(os.path.join(out_dir, "metadata.json"), {
        "simulator": SIMULATOR, "source": f"INM-6/multi-area-model at {clone}",
        "label": result["label"], "state": state,
        "versions": storage.package_versions(extra=("nest-simulator",))})
    storage.write_json(os.path.join(out_dir, "parameters.json"), parameters or {
        "N_scaling": n_scaling, "K_scaling": k_scaling, "t_sim_ms": t_sim_ms,
        "t_presim_ms": 0.0, "seed": seed, "threads": threads})
    run_folder.write_status(out_dir, "complete", "done", simulated_ms=float(t_sim_ms))
    return timings


def _read_gids(path):
    """``[(area, population, first id, last id)]`` from MAM's network_gids.txt."""
    rows = []
    with open(path) as f:
        for line in f:
            area, pop, first, last = line.strip().split(",")
            rows.append((area, f"L{pop}", int(first), int(last)))
    return rows


def _read_spike_files(folder):
    """(sender ids, times in ms) of every spike in NEST's ASCII spike files in ``folder``."""
    senders, times = [], []
    for path in sorted(glob.glob(os.path.join(folder, "*spikes*.dat"))):
        # NEST's header: comment lines, then a "sender time_ms" line
        skip = _header_lines(path)
        if skip is None:            # a virtual process that recorded no spike
            continue
        data = np.loadtxt(path, skiprows=skip, ndmin=2, usecols=(0, 1))
        senders.append(data[:, 0].astype(np.int64))
        times.append(data[:, 1])
    if not glob.glob(os.path.join(folder, "*spikes*.dat")):
        raise ParameterError(f"MAM wrote no spike file into {folder}")
    if not senders:
        return np.array([], dtype=np.int64), np.array([])
    return np.concatenate(senders), np.concatenate(times)


def _header_lines(path):
    """Lines before the first line of numbers in a NEST ASCII file; None if it has none."""
    with open(path) as f:
        for n, line in enumerate(f):
            if line[:1].isdigit():
                return n
    return None


def block_from_recordings(folder, t_sim_ms):
    """One Neo block (columnar spikes, annotated with area and population) and its
    population rows, from the spike files and network_gids.txt MAM wrote in ``folder``."""
    import neo
    senders, times = _read_spike_files(folder)
    rows, channels, by_population = [], [], []
    first_channel = 0
    gids = _read_gids(os.path.join(folder, "network_gids.txt"))
    order = np.argsort(senders, kind="stable")
    senders, times = senders[order], times[order]
    for area, pop, first, last in gids:
        lo, hi = np.searchsorted(senders, [first, last + 1])
        channels.append(senders[lo:hi] - first + first_channel)
        by_population.append(times[lo:hi])
        rows.append({"area": area, "population": pop, "first_channel": first_channel,
                     "size": last - first + 1})
        first_channel += last - first + 1
    block = neo.Block(name="multi-area model (MAM's own code)")
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    storage.set_columnar_spikes(segment, by_population, channels, rows, float(t_sim_ms))
    block.annotations.update(t_presim_ms=0.0, populations=json.dumps(rows))
    return block, rows
