"""Two connected microcircuits (areas V1 and V2) in one network, on NEST, NEURON or Brian2.

    python run/two_areas.py nest
    python run/two_areas.py nest --no-inter-area        # the same two areas, unconnected
    python run/two_areas.py brian2 --n-scaling 0.02 --k-scaling 0.05 --t-sim 200

Feed-forward: L2/3E of V1 -> L4E and L4I of V2. Feedback: L5E and L6E of V2 ->
L2/3E, L2/3I, L5E and L5I of V1. Each inter-area input replaces the part of its
target's background that has the same mean (docs/multi_area.md); with
``--no-inter-area`` there are no inter-area projections and every background
is complete.

The run goes through :func:`pd14_pynn.simulation.run`, like ``run/main.py``: the
same checks, phases, progress, timings, MPI handling (``mpirun -np 2 python
run/two_areas.py neuron``) and SONATA options. Writes into ``--out`` (default
``results/two_areas_<simulator>_N<n>-K<k>_<bg>_seed<seed>``): ``parameters.json``
(base and per-area parameters, connections, background fractions),
``metadata.json``, ``spikes.pkl`` (one Neo block; spikes annotated with ``area``,
``population``, ``index``; or, with ``--format sonata``, ``spikes.h5``, a SONATA
spike report with node populations ``V1_L23E``, ...), ``rates.json`` (also by area), ``timings.json``,
``rate_matrix.png``, ``raster_areas.png`` and ``rates_by_area.png``; prints a rate
table per area.
"""

import argparse
import os
import sys

from pd14_pynn import backends, interrupts, parallel, parameters, run_folder, simulation, storage
from pd14_pynn.areas import MultiAreaModel

AREAS = ("V1", "V2")
# (source area, source population, target area, target population,
#  in-degree per target neuron at full scale)
FEEDFORWARD = (("V1", "L23E", "V2", "L4E", 200), ("V1", "L23E", "V2", "L4I", 200))
FEEDBACK = tuple(("V2", source, "V1", target, 100)
                 for source in ("L5E", "L6E") for target in ("L23E", "L23I", "L5E", "L5I"))
CONNECTIONS = FEEDFORWARD + FEEDBACK


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
    parser.add_argument("--save-connectivity", action="store_true",
                        help="write the built network as SONATA into the run folder's network/")
    parser.add_argument("--connectivity", metavar="PATH",
                        help="build the SONATA network saved in PATH instead of drawing one")
    parser.add_argument("--format", choices=list(storage.SPIKE_FILES), default=".pkl",
                        help="spike file: .pkl (Neo, default), .nix (Neo, archival) or sonata "
                             "(spikes.h5, a SONATA spike report)")
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


def main(argv=None):
    args = build_parser().parse_args(argv)
    root = parallel.launcher_rank() == 0
    try:
        params = parameters.resolve({
            "N_scaling": args.n_scaling, "K_scaling": args.k_scaling, "background": args.bg,
            "t_sim_ms": args.t_sim, "t_presim_ms": args.t_presim, "seed": args.seed,
            "threads": args.threads})
        # declared without a simulator: run() sets it, after every check
        model = declare(None, params, inter_area=not args.no_inter_area)
        out = args.out or default_out(args, params)
        simulation.check_run(args.simulator, params, out, args.overwrite,
                             connectivity=args.connectivity, model=model,
                             spike_format=args.format)
        simulation.run(args.simulator, params, out, overwrite=args.overwrite, model=model,
                       spike_format=args.format,
                       command_line=sys.argv if argv is None else argv,
                       connectivity=args.connectivity, save_connectivity=args.save_connectivity)
    except (parameters.ParameterError, backends.BackendError, run_folder.OutputFolderError,
            ValueError) as err:
        if root:
            print(f"error: {err}", file=sys.stderr)
        return 2
    except interrupts.RunInterrupted as stopped:
        return stopped.exit_code  # rank 0 has printed where it stopped and how to rerun
    if root:
        print(f"\nResults in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
