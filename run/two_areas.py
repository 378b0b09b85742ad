"""Two connected microcircuits (areas V1 and V2) in one network, on NEST, NEURON or Brian2.

    python run/two_areas.py nest
    python run/two_areas.py nest --no-inter-area        # the same two areas, unconnected
    python run/two_areas.py brian2 --n-scaling 0.02 --k-scaling 0.05 --t-sim 200

Feed-forward: L2/3E of V1 -> L4E and L4I of V2. Feedback: L5E and L6E of V2 ->
L2/3E, L2/3I, L5E and L5I of V1. Each inter-area input replaces the part of its
target's background that has the same mean (docs/multi_area.md); with
``--no-inter-area`` there are no inter-area projections and every background
is complete.

Writes into ``--out`` (default ``results/two_areas_<simulator>_N<n>-K<k>_<bg>_seed<seed>``):
``parameters.json`` (base and per-area parameters, connections, background
fractions), ``metadata.json``, ``spikes.pkl`` (one Neo block; every SpikeTrain
annotated with ``area``, ``population``, ``index``), ``rates.json``,
``timings.json`` and ``rates_by_area.png``; prints a rate table per area.
"""

import argparse
import os
import sys
import time

import numpy as np

from pd14_pynn import backends, parameters, plotting, simulation, storage
from pd14_pynn.areas import MultiAreaModel
from pd14_pynn.parameters import POPULATIONS

AREAS = ("V1", "V2")
# (source area, source population, target area, target population,
#  in-degree per target neuron at full scale)
FEEDFORWARD = (("V1", "L23E", "V2", "L4E", 200), ("V1", "L23E", "V2", "L4I", 200))
FEEDBACK = tuple(("V2", source, "V1", target, 100)
                 for source in ("L5E", "L6E") for target in ("L23E", "L23I", "L5E", "L5I"))
CONNECTIONS = FEEDFORWARD + FEEDBACK
SPIKE_FILE = "spikes.pkl"
FIGURE = "rates_by_area.png"


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python run/two_areas.py",
        description="Two PD14 microcircuits with feed-forward and feedback connections.")
    parser.add_argument("simulator", help="nest, neuron or brian2")
    parser.add_argument("--n-scaling", type=float, default=0.05,
                        help="fraction of neurons per area, in (0, 1] (default 0.05)")
    parser.add_argument("--k-scaling", type=float, default=0.05,
                        help="fraction of in-degrees, in (0, 1] (default 0.05)")
    parser.add_argument("--bg", choices=("poisson", "dc"), default="poisson",
                        help="background input (default poisson)")
    parser.add_argument("--t-sim", type=float, default=1000.0,
                        help="simulated time after presimulation, ms (default 1000)")
    parser.add_argument("--t-presim", type=float, default=500.0,
                        help="presimulation, discarded from the rates, ms (default 500)")
    parser.add_argument("--seed", type=int, default=55, help="master seed (default 55)")
    parser.add_argument("--threads", type=int, help="NEST threads (default: cores)")
    parser.add_argument("--no-inter-area", action="store_true",
                        help="no inter-area projections, full background everywhere")
    parser.add_argument("--out", metavar="DIR", help="output folder")
    parser.add_argument("--overwrite", action="store_true", help="replace results in --out")
    return parser


def declare(sim, params, inter_area=True, verbose=True):
    """The two-area model (not built): areas V1, V2 and, if ``inter_area``, CONNECTIONS."""
    model = MultiAreaModel(sim, params, verbose=verbose)
    for label in AREAS:
        model.add_area(label)
    if inter_area:
        for source_area, source, target_area, target, indegree in CONNECTIONS:
            model.add_connection(source_area, source, target_area, target, indegree)
    return model


def default_out(args, params):
    return os.path.join("results", f"two_areas_{args.simulator}_N{params['N_scaling']:g}-"
                                   f"K{params['K_scaling']:g}_{params['background']}_"
                                   f"seed{params['seed']}"
                                   f"{'_no-inter-area' if args.no_inter_area else ''}")


def check_memory(backend, model):
    """Refuse a run that would not fit in this machine's memory (rough estimate)."""
    per_area = [simulation.estimate_memory(backend, p) - simulation.BASE_MEMORY_BYTES
                for p in model.area_params.values()]
    inter = sum(model.connection_spec(c).n_synapses for c in model.connections)
    needed = simulation.BASE_MEMORY_BYTES + sum(per_area) + inter * backend.BYTES_PER_SYNAPSE
    limit = simulation.total_memory()
    if needed > limit:
        raise backends.BackendError(
            f"this run needs about {needed / 1e9:.1f} GB but the machine has "
            f"{limit / 1e9:.1f} GB; lower --n-scaling/--k-scaling")


def rate_summary(spikes, window):
    """dict area -> population -> mean_hz, std_hz, active_fraction, n (over ``window``, ms)."""
    summary = {}
    for key, trains in spikes.items():
        area, name = key.split("/")
        r = storage.mean_rates(trains, *window)
        summary.setdefault(area, {})[name] = {
            "mean_hz": float(r.mean()), "std_hz": float(r.std()),
            "active_fraction": float(np.mean(r > 0)), "n": int(r.size)}
    return {area: {n: summary[area][n] for n in POPULATIONS if n in summary[area]}
            for area in summary}


def print_rates(summary, fractions):
    """The rate table of every area, with the background fraction kept."""
    print("\narea  population   neurons   mean rate (1/s)   active   background kept")
    for area, rows in summary.items():
        for name, row in rows.items():
            print(f"{area:<5} {name:<10} {row['n']:>8} {row['mean_hz']:>17.3f} "
                  f"{100 * row['active_fraction']:>7.1f}% {fractions[area][name]:>17.3f}")


def run(simulator, backend, sim, model, out, command_line):
    """Build, simulate and save the model; returns the rate summary."""
    params = model.params
    timings = {}
    storage.prepare_run_folder(out, overwrite=True)
    storage.write_json(os.path.join(out, "parameters.json"),
                       dict(model.as_dict(), inter_area=bool(model.connections)))
    n_syn = model.total_synapses()
    t0 = time.perf_counter()
    settings = backend.setup(sim, params, n_syn)
    timings["setup"] = time.perf_counter() - t0
    expected = model.expected_synapses()
    storage.write_json(os.path.join(out, "metadata.json"), {
        "simulator": simulator, "settings": settings,
        "versions": {**storage.package_versions(), **backend.versions()},
        "areas": list(model.area_params),
        "num_synapses_total": n_syn,
        "num_synapses_recurrent": {a: int(expected[a].sum()) for a in model.area_params},
        "num_synapses_inter_area": {"/".join(c.key): int(expected[c.key])
                                    for c in model.connections},
        "background_fractions": model.background_fractions(),
        "command_line": command_line,
    })

    t0 = time.perf_counter()
    model.build()
    backend.finish_build(sim)
    timings["build"] = time.perf_counter() - t0
    timings.update(model.timings)
    t_presim, t_sim = params["t_presim_ms"], params["t_sim_ms"]
    print(f"Simulating {t_presim:g} ms presimulation + {t_sim:g} ms")
    timings["presimulate"], _ = simulation.run_with_progress(sim, t_presim, "presimulate",
                                                          backend=backend)
    timings["simulate"], _ = simulation.run_with_progress(sim, t_sim, "simulate", backend=backend)

    t0 = time.perf_counter()
    block = model.collect_block(t_presim)
    block.annotations.update(simulator=simulator, inter_area=bool(model.connections))
    storage.write_block(block, os.path.join(out, SPIKE_FILE))
    timings["save"] = time.perf_counter() - t0
    timings["peak_rss_bytes"] = simulation.peak_rss_bytes()
    storage.write_json(os.path.join(out, "timings.json"), timings)

    window = (t_presim, t_presim + t_sim)
    summary = rate_summary(storage.spikes_by_population(block), window)
    storage.write_json(os.path.join(out, "rates.json"), {"window_ms": window, "areas": summary})
    plotting.area_rate_bars(
        {area: {n: row["mean_hz"] for n, row in rows.items()} for area, rows in summary.items()},
        os.path.join(out, FIGURE),
        reference=dict(zip(POPULATIONS, params["full_mean_rates_hz"])),
        title=f"{simulator}, N={params['N_scaling']:g}, K={params['K_scaling']:g}, "
              f"{'with' if model.connections else 'without'} inter-area input")
    sim.end()
    print_rates(summary, model.background_fractions())
    return summary


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        params = parameters.resolve({
            "N_scaling": args.n_scaling, "K_scaling": args.k_scaling, "background": args.bg,
            "t_sim_ms": args.t_sim, "t_presim_ms": args.t_presim, "seed": args.seed,
            "threads": args.threads})
        backend = backends.get(args.simulator)
        out = args.out or default_out(args, params)
        storage.check_output_folder(out, args.overwrite)
        sim = backend.import_simulator()
        # declaring builds nothing: these checks run before anything is built or written
        model = declare(sim, params, inter_area=not args.no_inter_area)
        check_memory(backend, model)
        if args.simulator == "nest":
            backend.choose_threads(params, model.total_synapses())
    except (parameters.ParameterError, backends.BackendError, storage.OutputFolderError,
            ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    run(args.simulator, backend, sim, model, out, sys.argv if argv is None else argv)
    print(f"\nResults in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
