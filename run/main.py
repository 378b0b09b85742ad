"""Run the PD14 microcircuit on NEST, NEURON or Brian2.

    python run/main.py nest
    python run/main.py brian2 --n-scaling 0.2 --k-scaling 0.2 --bg dc --t-sim 10000
    python run/main.py --list-parameters

Writes a run folder (parameters, metadata, Neo spikes, figures, timings); see
docs/outputs.md. Every error in the arguments is reported before anything is
built or written.
"""

import argparse
import json
import os
import sys

from pd14_pynn import backends, parameters, simulation, storage

# CLI option -> parameter key
_OPTIONS = {
    "n_scaling": "N_scaling", "k_scaling": "K_scaling", "bg": "background",
    "thalamic": "thalamic_input", "t_sim": "t_sim_ms", "t_presim": "t_presim_ms",
    "seed": "seed", "threads": "threads", "record_v": "record_v",
}


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python run/main.py",
        description="Simulate the Potjans & Diesmann (2014) cortical microcircuit with PyNN.")
    parser.add_argument("simulator", nargs="?", help="nest, neuron or brian2")
    parser.add_argument("--n-scaling", type=float, help="fraction of neurons, in (0, 1] (default 0.1)")
    parser.add_argument("--k-scaling", type=float, help="fraction of in-degrees, in (0, 1] (default 0.1)")
    parser.add_argument("--bg", choices=("poisson", "dc"), help="background input (default poisson)")
    parser.add_argument("--thalamic", action="store_true", default=None,
                        help="add the thalamic pulse (902 sources, 120/s, 700-710 ms)")
    parser.add_argument("--t-sim", type=float, help="simulated time after presimulation, ms (default 1000)")
    parser.add_argument("--t-presim", type=float, help="presimulation, discarded from analysis, ms (default 500)")
    parser.add_argument("--seed", type=int, help="master seed of every random draw (default 55)")
    parser.add_argument("--threads", type=int, help="NEST threads (default: cores, at least what NEST needs)")
    parser.add_argument("--record-v", type=int, metavar="N",
                        help="record the membrane potential of N neurons per population")
    parser.add_argument("--config", metavar="FILE",
                        help="JSON file of parameter overrides; command-line options win")
    parser.add_argument("--out", metavar="DIR", help="output folder (default results/<run label>)")
    parser.add_argument("--overwrite", action="store_true", help="replace results in --out")
    parser.add_argument("--format", choices=sorted(storage.SPIKE_FORMATS), default=".pkl",
                        help="Neo file format of the spikes: .pkl (fast, default) or .nix (archival, slow: ~10 ms per neuron)")
    parser.add_argument("--list-parameters", action="store_true",
                        help="print every resolved parameter and exit")
    return parser


def resolve_parameters(args):
    """Defaults <- config file <- command-line options."""
    overrides = {}
    if args.config:
        try:
            with open(args.config) as handle:
                overrides.update(json.load(handle))
        except (OSError, json.JSONDecodeError) as err:
            raise parameters.ParameterError(f"cannot read --config {args.config!r}: {err}")
    for option, key in _OPTIONS.items():
        value = getattr(args, option)
        if value is not None:
            overrides[key] = value
    return parameters.resolve(overrides)


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        params = resolve_parameters(args)
        if args.list_parameters:
            print(json.dumps(params, indent=1))
            return 0
        if args.simulator is None:
            raise backends.BackendError("name a simulator: nest, neuron or brian2")
        out = args.out or os.path.join("results", parameters.run_label(args.simulator, params))
        simulation.check_run(args.simulator, params, out, args.overwrite)
        simulation.run(args.simulator, params, out, overwrite=args.overwrite,
                       spike_format=args.format, command_line=sys.argv)
    except (parameters.ParameterError, backends.BackendError, storage.OutputExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"\nResults in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
