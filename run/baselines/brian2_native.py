"""The microcircuit in bare Brian2: the baseline pd14-pynn on Brian2 is compared with.

Written from the model description: one NeuronGroup of LIF neurons with
exponential synaptic currents (population subgroups), one Synapses object for
all recurrent connections (sources, targets, weights and delays drawn with numpy,
as pd14_pynn does), PoissonInput per population (or DC), Cython code generation.
``--device cpp_standalone``: the same model as one compiled C++ program (Brian2's
standalone mode; ``--threads`` OpenMP threads, 1 = serial code), project folder
under ``$PD14_BRIAN2_CACHE`` (default ``~/.cache/pd14_pynn/brian2_standalone``);
phase times from marks the program writes.
"""

import os

import brian2 as b2
import numpy as np

from common import Clock, counts_after, parse, recurrent_connections, save_spikes, write
from pd14_pynn.connectivity import seed_sequence

params, d, args = parse(__doc__)
clock = Clock()
standalone = args.device == "cpp_standalone"
if standalone:
    from pd14_pynn.backends.brian2_standalone import (cache_root, free_static_arrays,
                                                      reserve_synapses)
    project = os.path.join(cache_root(), f"native_N{args.n_scaling:g}-K{args.k_scaling:g}_"
                                         f"{args.bg}_t{args.threads}")
    b2.set_device("cpp_standalone", build_on_run=False, directory=project)
    b2.prefs.devices.cpp_standalone.openmp_threads = args.threads if args.threads > 1 else 0
    b2.prefs.devices.cpp_standalone.make_cmd_unix = "nice -n 10 make"
    b2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{os.cpu_count() or 1}"]
    b2.get_device().headers.extend(["<fstream>", "<cstdlib>", "<string>"])
    # the program's own peak RSS (VmHWM), written at its end
    b2.get_device().insert_code("before_end", (
        "{ std::ifstream st(\"/proc/self/status\"); std::string line; while (std::getline(st, "
        "line)) if (line.rfind(\"VmHWM:\", 0) == 0) { std::ofstream f((brian::results_dir + "
        "\"marks.txt\").c_str(), std::ios::app); f << \"peak_rss_kb \" << "
        "std::atol(line.c_str() + 6) << std::endl; } }"))


def mark(label):
    """Standalone: the program appends '<label> <monotonic s>' to marks.txt here."""
    b2.get_device().insert_code("main", (
        "{ struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); std::ofstream f("
        "(brian::results_dir + \"marks.txt\").c_str(), std::ios::app); f << \"" + label +
        " \" << std::fixed << (ts.tv_sec + 1e-9 * ts.tv_nsec) << std::endl; }"))


# the same code generation as pd14_pynn's Brian2 backend (PD14_BRIAN2_CODEGEN)
b2.prefs.codegen.target = os.environ.get("PD14_BRIAN2_CODEGEN", "cython")
b2.defaultclock.dt = params["resolution_ms"] * b2.ms
b2.seed(params["seed"])
clock.lap("setup")

sizes = d["num_neurons"].astype(int)
offsets = np.concatenate([[0], np.cumsum(sizes)])
equations = """
dv/dt = (E_L - v) / tau_m + (I_syn + I_dc) / C_m : volt (unless refractory)
dI_syn/dt = -I_syn / tau_syn : amp
I_dc : amp
"""
namespace = {"E_L": params["E_L_mV"] * b2.mV, "tau_m": params["tau_m_ms"] * b2.ms,
             "C_m": params["C_m_pF"] * b2.pF, "tau_syn": params["tau_syn_ms"] * b2.ms,
             "V_th": params["V_th_mV"] * b2.mV, "V_reset": params["V_reset_mV"] * b2.mV}
neurons = b2.NeuronGroup(int(sizes.sum()), equations, threshold="v > V_th", reset="v = V_reset",
                         refractory=params["t_ref_ms"] * b2.ms, method="exact",
                         namespace=namespace)
rng = np.random.default_rng(np.random.SeedSequence(seed_sequence(params["seed"], "V0")))
v0 = np.concatenate([rng.normal(params["V0_mean_optimized_mV"][i], params["V0_std_optimized_mV"][i],
                                sizes[i]) for i in range(len(sizes))])
neurons.v = v0 * b2.mV
neurons.I_dc = np.repeat(d["dc_pA"], sizes) * b2.pA
groups = [neurons[offsets[i]:offsets[i + 1]] for i in range(len(sizes))]
spikes = b2.SpikeMonitor(neurons)
network = b2.Network(neurons, spikes)
clock.lap("create")

synapses = b2.Synapses(neurons, neurons, "w : amp", on_pre="I_syn_post += w",
                       namespace=namespace)
# one connect() for all projections (several calls would grow Brian2's arrays by
# doubling); projections are drawn one by one into preallocated arrays so that
# no concatenated copies exist at full scale
n_total = int(d["num_synapses"].sum())
all_i = np.empty(n_total, dtype=np.int32)
all_j = np.empty(n_total, dtype=np.int32)
all_w = np.empty(n_total)
all_d = np.empty(n_total)
filled = 0
for t, s, src, tgt, weights, dl in recurrent_connections(params, d):
    part = slice(filled, filled + len(src))
    all_i[part] = src + offsets[s]
    all_j[part] = tgt + offsets[t]
    all_w[part] = weights
    all_d[part] = dl
    filled += len(src)
    del src, tgt, weights, dl
assert filled == n_total
if standalone:
    reserve_synapses(b2.get_device(), synapses, n_total)  # as pd14_pynn does
synapses.connect(i=all_i, j=all_j)
del all_i, all_j
all_w *= 1e-12  # in place: SI units without another full-size copy
synapses.w_ = all_w
del all_w
all_d *= 1e-3
synapses.delay_ = all_d
del all_d
network.add(synapses)
if params["background"] == "poisson":
    for i, group in enumerate(groups):
        network.add(b2.PoissonInput(group, "I_syn", N=int(d["K_ext"][i]),
                                    rate=params["bg_rate_hz"] * b2.Hz,
                                    weight=f"{float(d['psc_ext_pA']) * 1e-12}*amp"))
clock.lap("connect")

if standalone:
    # queue both runs, compile, run the program; phase times from its marks
    mark("built")
    # the static arrays (i, j, w, delay) only fed the set-up code above: free them
    # in the program before the first step, and in Python once they are written
    # (at full scale 7 GB each; as pd14_pynn does)
    free_static_arrays(b2.get_device())
    network.run(params["t_presim_ms"] * b2.ms)
    mark("presimulated")
    network.run(params["t_sim_ms"] * b2.ms)
    mark("simulated")
    device = b2.get_device()
    device.build(directory=project, compile=True, run=False)
    device.static_arrays.clear()
    clock.lap("compile")
    device.run(directory=project)
    clock.lap("program")
    with open(os.path.join(device.results_dir, "marks.txt")) as handle:
        marks = {label: float(value) for label, value in (line.split() for line in handle)}
    clock.timings["presimulate"] = marks["presimulated"] - marks["built"]
    clock.timings["simulate"] = marks["simulated"] - marks["presimulated"]
    program_peak_bytes = marks["peak_rss_kb"] * 1024
else:
    network.run(params["t_presim_ms"] * b2.ms)
    clock.lap("presimulate")
    network.run(params["t_sim_ms"] * b2.ms)
    clock.lap("simulate")
    program_peak_bytes = 0
senders, times = np.asarray(spikes.i[:]), np.asarray(spikes.t[:] / b2.ms)
save_spikes(args.spikes, senders, times, offsets)
clock.lap("save")
write(args.out, clock, params, counts_after(senders, times, params["t_presim_ms"], offsets),
      {"num_connections": int(len(synapses)), "brian2": b2.__version__,
       "device": args.device, "threads": args.threads},
      extra_peak_bytes=program_peak_bytes)
