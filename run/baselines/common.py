"""Command line and result file shared by the native baselines.

A baseline is the model written directly against one simulator (no PyNN), from
the model description, with the numbers of ``pd14_pynn.derive``. Each runs in
its own process and writes one JSON file of phase timings, so that
``run/benchmark.py`` can compare it with pd14-pynn on equal terms.
"""

import argparse
import json
import resource
import time

from pd14_pynn import derive, parameters
from pd14_pynn.connectivity import ProjectionSpec, draw_connections, seed_sequence
from pd14_pynn.parameters import POPULATIONS


def parse(description):
    """Parse baseline options; returns (params, derived, args)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--n-scaling", type=float, default=0.1)
    parser.add_argument("--k-scaling", type=float, default=0.1)
    parser.add_argument("--bg", choices=("poisson", "dc"), default="poisson")
    parser.add_argument("--t-sim", type=float, default=1000.0)
    parser.add_argument("--t-presim", type=float, default=500.0)
    parser.add_argument("--seed", type=int, default=55)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", choices=("runtime", "cpp_standalone"), default="runtime",
                        help="Brian2 device (brian2_native.py only; the others ignore it)")
    parser.add_argument("--out", required=True, help="JSON file of timings")
    parser.add_argument("--spikes", help="npz file for the spikes (default: OUT with .npz)")
    args = parser.parse_args()
    params = parameters.resolve({"N_scaling": args.n_scaling, "K_scaling": args.k_scaling,
                                 "background": args.bg, "t_sim_ms": args.t_sim,
                                 "t_presim_ms": args.t_presim, "seed": args.seed,
                                 "threads": args.threads})
    if args.spikes is None:
        args.spikes = args.out.rsplit(".", 1)[0] + "_spikes.npz"
    return params, derive.derive(params), args


class Clock:
    """Wall-clock seconds per named phase."""

    def __init__(self):
        self.timings = {}
        self._t0 = time.perf_counter()

    def lap(self, name):
        now = time.perf_counter()
        self.timings[name] = now - self._t0
        self._t0 = now


def write(path, clock, params, n_spikes_per_population, extra=None, extra_peak_bytes=0):
    """Write timings, RTF, peak RSS and mean rates (1/s) of a baseline run.

    ``extra_peak_bytes``: the peak of a program this process waited for (Brian2
    standalone), added to the process's own peak."""
    sizes = derive.derive(params)["num_neurons"]
    result = dict(clock.timings)
    result["rtf"] = result["simulate"] / (params["t_sim_ms"] * 1e-3)
    result["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 + \
        extra_peak_bytes
    result["rates_hz"] = [n / size / (params["t_sim_ms"] * 1e-3)
                          for n, size in zip(n_spikes_per_population, sizes)]
    result.update(extra or {})
    with open(path, "w") as handle:
        json.dump(result, handle, indent=1)


def recurrent_connections(params, d):
    """Yield ``(t, s, sources, targets, weights_pA, delays_ms)`` per non-empty projection.

    Drawn with numpy exactly as pd14_pynn's Brian2/NEURON paths draw (own streams).
    """
    sizes = d["num_neurons"].astype(int)
    for t in range(len(POPULATIONS)):
        for s in range(len(POPULATIONS)):
            n = int(d["num_synapses"][t, s])
            if n == 0:
                continue
            spec = ProjectionSpec(n, float(d["weights_pA"][t, s]), float(d["weight_sd_pA"][t, s]),
                                  float(d["delay_mean_ms"][s]), float(d["delay_sd_ms"][s]),
                                  params["resolution_ms"],
                                  seed_sequence(params["seed"], "native", t, s))
            yield (t, s, *draw_connections(spec, sizes[s], sizes[t]))


def save_spikes(path, senders, times_ms, offsets):
    """Write all spikes as a native user would: one array pair per population.

    ``senders``: neuron number in the whole network (0-based), ``offsets``: first
    neuron number of each population and the total. Writes ``index_<pop>`` (in
    the population) and ``times_<pop>`` (ms) into one uncompressed npz file.
    """
    import numpy as np
    senders, times_ms = np.asarray(senders), np.asarray(times_ms)
    arrays = {}
    for p, name in enumerate(POPULATIONS):
        mine = (senders >= offsets[p]) & (senders < offsets[p + 1])
        arrays[f"index_{name}"] = senders[mine] - offsets[p]
        arrays[f"times_{name}"] = times_ms[mine]
    np.savez(path, **arrays)


def counts_after(senders, times_ms, t_start_ms, offsets):
    """Spikes per population at or after ``t_start_ms``."""
    import numpy as np
    late = np.asarray(senders)[np.asarray(times_ms) >= t_start_ms]
    per_neuron = np.bincount(late, minlength=int(offsets[-1]))
    return [int(per_neuron[offsets[p]:offsets[p + 1]].sum()) for p in range(len(offsets) - 1)]
