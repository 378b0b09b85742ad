"""The microcircuit in bare PyNEST: the baseline pd14-pynn on NEST is compared with.

Written from the model description: iaf_psc_exp neurons, NEST's
fixed_total_number rule with redrawn normal weights and delays, one
poisson_generator per population (or DC as I_e), one spike_recorder per
population, Prepare/Cleanup counted as part of connecting.
"""

import math

import nest
import numpy as np

from common import Clock, counts_after, parse, save_spikes, write

params, d, args = parse(__doc__)
clock = Clock()
nest.ResetKernel()
nest.set(resolution=params["resolution_ms"], local_num_threads=args.threads,
         rng_seed=params["seed"] + 1, print_time=False)
nest.set_verbosity("M_ERROR")
clock.lap("setup")

populations = []
for i, size in enumerate(d["num_neurons"]):
    pop = nest.Create("iaf_psc_exp", int(size), params={
        "C_m": params["C_m_pF"], "tau_m": params["tau_m_ms"],
        "tau_syn_ex": params["tau_syn_ms"], "tau_syn_in": params["tau_syn_ms"],
        "E_L": params["E_L_mV"], "V_reset": params["V_reset_mV"], "V_th": params["V_th_mV"],
        "t_ref": params["t_ref_ms"], "I_e": float(d["dc_pA"][i])})
    pop.V_m = nest.random.normal(params["V0_mean_optimized_mV"][i], params["V0_std_optimized_mV"][i])
    populations.append(pop)
recorders = nest.Create("spike_recorder", len(populations))
if params["background"] == "poisson":
    generators = nest.Create("poisson_generator", len(populations))
    generators.rate = list(d["poisson_rate_hz"])
clock.lap("create")

dt = params["resolution_ms"]
for t, target in enumerate(populations):
    for s, source in enumerate(populations):
        n = int(d["num_synapses"][t, s])
        if n == 0:
            continue
        mean, sd = d["weights_pA"][t, s], d["weight_sd_pA"][t, s]
        bounds = {"min": 0.0, "max": math.inf} if mean >= 0 else {"min": -math.inf, "max": 0.0}
        nest.Connect(source, target,
                     {"rule": "fixed_total_number", "N": n,
                      "allow_autapses": True, "allow_multapses": True},
                     {"synapse_model": "static_synapse",
                      "weight": nest.math.redraw(nest.random.normal(mean, sd), **bounds),
                      "delay": nest.math.redraw(nest.random.normal(d["delay_mean_ms"][s],
                                                                   d["delay_sd_ms"][s]),
                                                min=dt, max=math.inf)})
for i, pop in enumerate(populations):
    nest.Connect(pop, recorders[i])
    if params["background"] == "poisson":
        nest.Connect(generators[i], pop, "all_to_all",
                     {"weight": float(d["psc_ext_pA"]), "delay": params["delay_exc_mean_ms"]})
nest.Prepare()
nest.Cleanup()
clock.lap("connect")

nest.Simulate(params["t_presim_ms"])
clock.lap("presimulate")
nest.Simulate(params["t_sim_ms"])
clock.lap("simulate")
# every spike, presimulation included (as pd14-pynn keeps them), one array pair
# per population in one file
offsets = np.concatenate([[0], np.cumsum([len(pop) for pop in populations])])
first_ids = np.array([pop[0].global_id for pop in populations])
senders, times = [], []
for i, recorder in enumerate(recorders):
    events = recorder.get("events")
    senders.append(np.asarray(events["senders"]) - first_ids[i] + offsets[i])
    times.append(np.asarray(events["times"]))
senders, times = np.concatenate(senders), np.concatenate(times)
save_spikes(args.spikes, senders, times, offsets)
clock.lap("save")
write(args.out, clock, params, counts_after(senders, times, params["t_presim_ms"], offsets),
      {"num_connections": nest.num_connections, "nest": nest.__version__})
