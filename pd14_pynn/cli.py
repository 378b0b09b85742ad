"""The command line of pd14-pynn: parse, check, dispatch (``python run/main.py``).

    python run/main.py nest
    python run/main.py brian2 --n-scaling 0.2 --k-scaling 0.2 --bg dc --t-sim 10000
    python run/main.py --list-parameters
    python run/main.py nest --model mam.json --areas V1 V2 --n-scaling 0.01 --k-scaling 0.01
    python run/main.py compare --simulators nest brian2 neuron --seeds 3 \
        --n-scaling 0.2 --k-scaling 0.2 --bg dc --t-sim 10000 --out results/study
    python run/main.py compare --study thalamic --out results/thalamic

* :func:`build_parser`, :func:`resolve_parameters` -- options and the parameters
  they give (defaults <- ``--config`` <- options); :func:`described_model` --
  the model of ``--model FILE`` (a multi-area description), with the options as
  its overrides.
* :func:`main` -- one run (:func:`pd14_pynn.simulation.run`) or, for ``compare``, a
  validation study (:mod:`pd14_pynn.validation.study_runner`); returns the exit code.
* :func:`run_script` -- :func:`main` for the script run/main.py; after a complete
  run it ends the process at once, skipping the interpreter's teardown.

Every error in the arguments is one ``error:`` line (exit code 2), reported before
anything is built or written.
"""

import argparse
import json
import os
import sys

from pd14_pynn import backends, interrupts, parallel, parameters, run_folder, simulation, storage
from pd14_pynn.validation import study_runner

_COMPLETED = set()  # what main() finished, for the exit path

# CLI option -> parameter key
_OPTIONS = {
    "n_scaling": "N_scaling", "k_scaling": "K_scaling", "bg": "background",
    "thalamic": "thalamic_input", "t_sim": "t_sim_ms", "t_presim": "t_presim_ms",
    "seed": "seed", "threads": "threads", "record_v": "record_v",
    "connectivity_rng": "connectivity_rng",
    "thalamic_synapse_scaling": "thalamic_synapse_scaling",
    "brian2_device": "brian2_device", "neuron_engine": "neuron_engine",
    "neuron_poisson": "neuron_poisson",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one ``error:`` line like every other bad input."""

    def error(self, message):
        raise parameters.ParameterError(f"{message} (see 'python run/main.py --help')")


def build_parser():
    parser = _Parser(
        prog="python run/main.py",
        description="Simulate the Potjans & Diesmann (2014) cortical microcircuit with PyNN.")
    parser.add_argument("simulator", nargs="?",
                        help="nest, neuron or brian2; or 'compare' to run a validation study")
    parser.add_argument("--n-scaling", type=float, help="fraction of neurons, in (0, 1] (default 0.1)")
    parser.add_argument("--k-scaling", type=float, help="fraction of in-degrees, in (0, 1] (default 0.1)")
    parser.add_argument("--bg", choices=("poisson", "dc"), help="background input (default poisson)")
    parser.add_argument("--thalamic", action="store_true", default=None,
                        help="add the thalamic pulse (902 sources, 120/s, 700-710 ms)")
    parser.add_argument("--thalamic-synapse-scaling", choices=("in_degree", "total"),
                        help="thalamic synapses at N < 1: 'in_degree' (default; x N x K, each "
                             "neuron keeps its in-degree) or 'total' (x K only, as the PyNEST "
                             "reference; docs/model.md)")
    parser.add_argument("--t-sim", type=float, help="simulated time after presimulation, ms (default 1000)")
    parser.add_argument("--t-presim", type=float, help="presimulation, discarded from analysis, ms (default 500)")
    parser.add_argument("--seed", type=int, help="master seed of every random draw (default 55)")
    parser.add_argument("--threads", type=int,
                        help="NEST threads per process (default: the cores this process may use, "
                             "at least what NEST's connection limit needs for ranks x threads); "
                             "Brian2 cpp_standalone: OpenMP threads (default 1); NEURON: "
                             "ParallelContext.nthread (default 1; needs delays of at least "
                             "two steps, so this model runs on MPI ranks instead)")
    parser.add_argument("--brian2-device", choices=("runtime", "cpp_standalone", "cuda_standalone"),
                        help="Brian2 only: 'cpp_standalone' (default where a C++ compiler is "
                             "found: one compiled program, OpenMP), 'cuda_standalone' (NVIDIA GPU, "
                             "Brian2CUDA) or 'runtime' (Python in the loop, Cython code)")
    parser.add_argument("--neuron-engine", choices=("coreneuron", "classic"),
                        help="NEURON only: 'coreneuron' (default where NEURON has it: the "
                             "network runs in CoreNEURON, mechanisms compiled once and cached) "
                             "or 'classic' (NEURON's own solver); the same spikes")
    parser.add_argument("--neuron-poisson", choices=("netstim", "synapse"),
                        help="NEURON only: Poisson background through one NetStim per "
                             "neuron ('netstim', default on the classic engine) or added "
                             "inside the excitatory synapse each step from the same draws "
                             "('synapse', default on CoreNEURON: no input events, faster)")
    parser.add_argument("--connectivity-rng", choices=("native", "numpy"),
                        help="who draws the connections: 'native' (default; NEST uses its own RNG) "
                             "or 'numpy' (the same network on every simulator for a seed)")
    parser.add_argument("--record-v", type=int, metavar="N",
                        help="record the membrane potential of N neurons per population")
    parser.add_argument("--config", metavar="FILE",
                        help="JSON file of parameter overrides; command-line options win")
    parser.add_argument("--out", metavar="DIR", help="output folder (default results/<run label>)")
    parser.add_argument("--overwrite", action="store_true", help="replace results in --out")
    parser.add_argument("--format", choices=list(storage.SPIKE_FILES), default=".pkl",
                        help="spike file: .pkl (Neo, fast, default), .nix (Neo, archival, slow: "
                             "~10 ms per neuron) or sonata (spikes.h5, a SONATA spike report "
                             "that libsonata and BMTK read; spikes only)")
    parser.add_argument("--save-connectivity", action="store_true",
                        help="write the built network (nodes, every synapse) as SONATA into "
                             "the run folder's network/ (docs/outputs.md)")
    parser.add_argument("--connectivity", metavar="PATH",
                        help="build the network saved in PATH (a run folder written with "
                             "--save-connectivity, its network/ or circuit_config.json) "
                             "instead of drawing one; the parameters must give the same sizes")
    parser.add_argument("--list-parameters", action="store_true",
                        help="print every resolved parameter and exit")
    _add_model_options(parser)
    _add_study_options(parser)
    return parser


def _add_model_options(parser):
    """The options of a multi-area model from a description file."""
    multi = parser.add_argument_group(
        "multi-area model from a description file (docs/multi_area.md)")
    multi.add_argument("--model", metavar="FILE",
                       help="run the multi-area model of this description file (JSON, e.g. "
                            "written by python -m pd14_pynn.mam) instead of PD14; "
                            "--n-scaling, --k-scaling, --t-presim and --bg replace the file's "
                            "scaling, simulation and external_input entries where given (the "
                            "file's values otherwise); --t-sim, --seed, --threads, --out and "
                            "the other run options apply as for PD14")
    multi.add_argument("--areas", nargs="+", metavar="AREA",
                       help="with --model: the areas to simulate (default: the file's "
                            "simulation.simulated_areas); the others are replaced by Poisson "
                            "input as the file's simulation.non_simulated_areas says")
    multi.add_argument("--raster-areas", nargs="+", metavar="AREA",
                       help="with --model: the areas drawn in raster_areas.png (default: the "
                            "first 3 simulated areas)")


def _add_study_options(parser):
    """The options of a validation study (``compare``)."""
    study = parser.add_argument_group("validation study (python run/main.py compare ...)")
    study.add_argument("--simulators", nargs="+", default=list(backends.NAMES),
                       help="simulators to compare (default: all three)")
    study.add_argument("--seeds", type=int, default=3,
                       help="seeds per simulator: --seed, --seed+1, ... (default 3)")
    study.add_argument("--reference-seeds", type=int, default=10,
                       help="seeds of the reference simulator, whose seed pairs set the band "
                            "(default 10: with 3 the band is too narrow, docs/validation/README.md)")
    study.add_argument("--reference-sim", default="nest",
                       help="simulator whose seed-to-seed distances set the band (default nest)")
    study.add_argument("--study", metavar="NAME|FILE",
                       help="run a named study (full, long, thalamic, standalone; "
                            "docs/validation/studies.md) "
                            "or a study file (JSON, see pd14_pynn/validation/studies.py); "
                            "resumable: complete runs in --out are reused, unfinished ones rerun")
    study.add_argument("--plan", action="store_true",
                       help="with --study: print the plan (runs, memory, time) and exit")


def resolve_parameters(args):
    """Defaults <- config file <- command-line options."""
    return parameters.resolve(parameter_overrides(args))


def parameter_overrides(args):
    """The parameters given by ``--config`` and the options (no defaults)."""
    overrides = {}
    if args.config:
        try:
            with open(args.config) as handle:
                overrides = json.load(handle)
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
            raise parameters.ParameterError(f"cannot read --config {args.config!r}: {err}")
        if not isinstance(overrides, dict):
            raise parameters.ParameterError(
                f"--config {args.config!r} must hold one JSON object of parameter overrides "
                f"({{\"key\": value, ...}}), got a {type(overrides).__name__}")
    for option, key in _OPTIONS.items():
        value = getattr(args, option)
        if value is not None:
            overrides[key] = value
    return overrides


def described_model(args):
    """The :class:`~pd14_pynn.described_model.DescribedModel` of ``--model`` (declared,
    not built), with the options as overrides; ``None`` without ``--model``."""
    if args.model is None:
        if args.areas:
            raise parameters.ParameterError("--areas needs --model FILE (a multi-area "
                                            "description)")
        return None
    if args.simulator == "compare":
        raise parameters.ParameterError("--model is not available for 'compare' studies yet; "
                                        "run each simulator with --model instead")
    from pd14_pynn.described_model import DescribedModel  # imports PyNN
    return DescribedModel(args.model, areas=args.areas, overrides=parameter_overrides(args))


def model_run_label(simulator, model_file, model):
    """Default folder name of a ``--model`` run, e.g.
    ``mam_nest_N0.01-K0.01_32areas_seed55_1a2b3c4d`` (the hash covers the description)."""
    params = model.params
    stem = os.path.splitext(os.path.basename(model_file))[0]
    return (f"{stem}_{simulator}_N{params['N_scaling']:g}-K{params['K_scaling']:g}_"
            f"{len(model.simulated_areas)}areas_seed{params['seed']}_"
            f"{parameters.parameter_hash(model.as_dict())}")


def main(argv=None, script=None):
    """Run what ``argv`` (default: this process's arguments) asks for; the exit code.

    ``script``: the script each run of a ``compare`` study is started with
    (default: the one this process runs, ``sys.argv[0]``)."""
    try:
        args = build_parser().parse_args(argv)
        model = described_model(args)
        params = resolve_parameters(args) if model is None else model.params
        if args.list_parameters:
            print(json.dumps(params, indent=1))
            return 0
        if args.simulator is None:
            raise backends.BackendError("name a simulator: nest, neuron or brian2")
        if args.simulator == "compare":
            study_runner.compare(args, argv if argv is not None else sys.argv[1:], params,
                                 script=script or os.path.abspath(sys.argv[0]),
                                 command_line=sys.argv)
            return 0
        label = parameters.run_label(args.simulator, params) if model is None else \
            model_run_label(args.simulator, args.model, model)
        out = args.out or os.path.join("results", label)
        simulation.check_run(args.simulator, params, out, args.overwrite,
                             connectivity=args.connectivity, spike_format=args.format,
                             model=model, raster_areas=args.raster_areas)
        simulation.run(args.simulator, params, out, overwrite=args.overwrite,
                       spike_format=args.format, command_line=sys.argv,
                       connectivity=args.connectivity, save_connectivity=args.save_connectivity,
                       model=model, raster_areas=args.raster_areas)
        _COMPLETED.add("simulation.run")
    except (parameters.ParameterError, backends.BackendError, run_folder.OutputFolderError) as err:
        if parallel.launcher_rank() == 0:
            print(f"error: {err}", file=sys.stderr)
        return 2
    except interrupts.RunInterrupted as stopped:
        return stopped.exit_code  # rank 0 has printed where it stopped and how to rerun
    except KeyboardInterrupt:  # before the run installed its own handlers
        print("interrupted by SIGINT before the run started; nothing was written",
              file=sys.stderr)
        return 130
    if parallel.launcher_rank() == 0:
        print(f"\nResults in {out}")
    return 0


def exit_without_teardown(code):
    """End the process now, skipping the interpreter's teardown.

    After a run everything is written and closed; what is left is freeing the
    simulator's network, one object at a time (NEST: 1.2 s at N = K = 0.2 on
    2 cores, 25 times more synapses at full scale), which nobody waits for
    willingly. Not under an MPI launcher: there every rank must finalise MPI.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_script(script):
    """:func:`main` for the script ``script`` (run/main.py): its exit code, or no
    return at all after a complete run outside an MPI launcher (see
    :func:`exit_without_teardown`)."""
    code = main(script=script)
    if code == 0 and not parallel.under_launcher() and "simulation.run" in _COMPLETED:
        exit_without_teardown(code)
    return code
