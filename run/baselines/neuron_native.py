"""The microcircuit in bare NEURON: the baseline pd14-pynn on NEURON is compared with.

Written from the model description with NEURON's own objects: one single-compartment
Section per neuron (passive leak, IClamp for the DC, the ResetRefrac threshold/reset
and ExpISyn current synapses compiled by PyNN, so that both run the same
mechanisms), one NetCon per synapse made with ParallelContext.gid_connect from the
same numpy draws as pd14_pynn, one NetStim (Random123 noise) per neuron for the
Poisson background. No PyNN objects are created.
"""

import math

import numpy as np

from common import Clock, counts_after, parse, recurrent_connections, save_spikes, write

params, d, args = parse(__doc__)
clock = Clock()
import pyNN.neuron  # noqa: E402,F401  (compiles and loads PyNN's NMODL mechanisms)
from neuron import h  # noqa: E402

from pd14_pynn.connectivity import seed_sequence  # noqa: E402

h.load_file("stdrun.hoc")
h.dt = params["resolution_ms"]
pc = h.ParallelContext()
clock.lap("setup")

sizes = d["num_neurons"].astype(int)
offsets = np.concatenate([[0], np.cumsum(sizes)])
rng = np.random.default_rng(np.random.SeedSequence(seed_sequence(params["seed"], "V0")))
cells, keep = [], []
area_cm2 = 1e-3  # L = 100 um, diam = 1000/pi um
for p, size in enumerate(sizes):
    v0 = rng.normal(params["V0_mean_optimized_mV"][p], params["V0_std_optimized_mV"][p], size)
    for k in range(size):
        gid = int(offsets[p] + k)
        sec = h.Section()
        sec.L, sec.diam = 100.0, 1000.0 / math.pi
        sec.cm = params["C_m_pF"] * 1e-6 / area_cm2            # uF/cm2
        sec.insert("pas")
        sec(0.5).pas.g = 1e-3 * sec.cm / params["tau_m_ms"]    # S/cm2
        sec(0.5).pas.e = params["E_L_mV"]
        reset = h.ResetRefrac(0.5, sec=sec)
        reset.vthresh, reset.vreset = params["V_th_mV"], params["V_reset_mV"]
        reset.trefrac, reset.vspike = params["t_ref_ms"], 40.0
        clamp = h.IClamp(0.5, sec=sec)
        clamp.delay, clamp.dur, clamp.amp = 0.0, 1e12, float(d["dc_pA"][p]) * 1e-3
        esyn, isyn = h.ExpISyn(0.5, sec=sec), h.ExpISyn(0.5, sec=sec)
        esyn.tau = isyn.tau = params["tau_syn_ms"]
        pc.set_gid2node(gid, 0)
        pc.cell(gid, h.NetCon(reset, None))
        cells.append((sec, esyn, isyn, v0[k]))
        keep.append((reset, clamp))
spike_times, spike_ids = h.Vector(), h.Vector()
pc.spike_record(-1, spike_times, spike_ids)
clock.lap("create")

netcons = []
for t, s, src, tgt, weights, delays in recurrent_connections(params, d):
    receptor = 1 if weights[0] >= 0 else 2  # cells[j] = (section, esyn, isyn, v0)
    for i, j, w, dl in zip((src + offsets[s]).tolist(), (tgt + offsets[t]).tolist(),
                           (weights * 1e-3).tolist(), delays.tolist()):
        nc = pc.gid_connect(i, cells[j][receptor])
        nc.weight[0] = w
        nc.delay = dl
        netcons.append(nc)
stims = []
if params["background"] == "poisson":
    for p, size in enumerate(sizes):
        for k in range(size):
            gid = int(offsets[p] + k)
            stim = h.NetStim()
            stim.interval, stim.number, stim.start, stim.noise = \
                1000.0 / d["poisson_rate_hz"][p], 1e9, 0.0, 1.0
            stim.noiseFromRandom123(params["seed"], gid, 0)
            nc = h.NetCon(stim, cells[gid][1])
            nc.weight[0], nc.delay = float(d["psc_ext_pA"]) * 1e-3, params["delay_exc_mean_ms"]
            stims.append((stim, nc))
pc.set_maxstep(10)
h.finitialize(params["E_L_mV"])
for sec, _, _, v0 in cells:
    sec(0.5).v = v0
h.fcurrent()
clock.lap("connect")

pc.psolve(params["t_presim_ms"])
clock.lap("presimulate")
pc.psolve(params["t_presim_ms"] + params["t_sim_ms"])
clock.lap("simulate")
senders = np.asarray(spike_ids.as_numpy(), dtype=int)
times = np.asarray(spike_times.as_numpy())
save_spikes(args.spikes, senders, times, offsets)
clock.lap("save")
write(args.out, clock, params, counts_after(senders, times, params["t_presim_ms"], offsets),
      {"num_connections": len(netcons)})
