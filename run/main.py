"""Run the PD14 microcircuit on NEST, NEURON or Brian2.

    python run/main.py nest
    python run/main.py brian2 --n-scaling 0.2 --k-scaling 0.2 --bg dc --t-sim 10000
    python run/main.py --list-parameters
    python run/main.py compare --simulators nest brian2 neuron --seeds 3 \
        --n-scaling 0.2 --k-scaling 0.2 --bg dc --t-sim 10000 --out results/study
    python run/main.py compare --study thalamic --out results/thalamic

Writes a run folder (parameters, metadata, Neo spikes, figures, timings); see
docs/outputs.md. Every error in the arguments is reported before anything is
built or written.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

from pd14_pynn import backends, interrupts, parallel, parameters, simulation, storage

_COMPLETED = set()  # what main() finished, for the exit path

# CLI option -> parameter key
_OPTIONS = {
    "n_scaling": "N_scaling", "k_scaling": "K_scaling", "bg": "background",
    "thalamic": "thalamic_input", "t_sim": "t_sim_ms", "t_presim": "t_presim_ms",
    "seed": "seed", "threads": "threads", "record_v": "record_v",
    "connectivity_rng": "connectivity_rng",
    "thalamic_synapse_scaling": "thalamic_synapse_scaling",
    "brian2_device": "brian2_device",
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
                             "Brian2 cpp_standalone: OpenMP threads (default 1)")
    parser.add_argument("--brian2-device", choices=("runtime", "cpp_standalone", "cuda_standalone"),
                        help="Brian2 only: 'cpp_standalone' (default where a C++ compiler is "
                             "found: one compiled program, OpenMP), 'cuda_standalone' (NVIDIA GPU, "
                             "Brian2CUDA) or 'runtime' (Python in the loop, Cython code)")
    parser.add_argument("--connectivity-rng", choices=("native", "numpy"),
                        help="who draws the connections: 'native' (default; NEST uses its own RNG) "
                             "or 'numpy' (the same network on every simulator for a seed)")
    parser.add_argument("--record-v", type=int, metavar="N",
                        help="record the membrane potential of N neurons per population")
    parser.add_argument("--config", metavar="FILE",
                        help="JSON file of parameter overrides; command-line options win")
    parser.add_argument("--out", metavar="DIR", help="output folder (default results/<run label>)")
    parser.add_argument("--overwrite", action="store_true", help="replace results in --out")
    parser.add_argument("--format", choices=sorted(storage.SPIKE_FORMATS), default=".pkl",
                        help="Neo file format of the spikes: .pkl (fast, default) or .nix (archival, slow: ~10 ms per neuron)")
    parser.add_argument("--save-connectivity", action="store_true",
                        help="write the built network (nodes, every synapse) as SONATA into "
                             "the run folder's network/ (docs/outputs.md)")
    parser.add_argument("--connectivity", metavar="PATH",
                        help="build the network saved in PATH (a run folder written with "
                             "--save-connectivity, its network/ or circuit_config.json) "
                             "instead of drawing one; the parameters must give the same sizes")
    parser.add_argument("--list-parameters", action="store_true",
                        help="print every resolved parameter and exit")
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
    return parser


def compare(args, argv):
    """Run every simulator and seed (one process each), then write the validation report."""
    if args.study:
        return run_study(args, argv)
    if args.plan:
        # without a study there is no plan to print: refuse rather than start hours of runs
        raise parameters.ParameterError(
            "--plan goes with --study NAME|FILE (a study's runs, memory and time); "
            "without --study, compare starts its runs at once")
    out = args.out or os.path.join("results", "study")
    for name in args.simulators:
        backends.get(name)
    storage.check_output_folder(out, args.overwrite)
    # the options of a single run, passed through unchanged
    passthrough, skip = [], {"--simulators", "--seeds", "--reference-seeds", "--reference-sim",
                             "--out", "--seed"}
    tokens = [token for token in argv if token != "compare"]
    while tokens:
        token = tokens.pop(0)
        if token in skip:
            while tokens and not tokens[0].startswith("--"):
                tokens.pop(0)
        else:
            passthrough.append(token)
    first_seed = args.seed if args.seed is not None else 55
    # every seed of the study is checked before the first run starts
    base = resolve_parameters(args)
    last_seed = first_seed + max(args.seeds, args.reference_seeds) - 1
    try:
        parameters.resolve({"seed": last_seed}, base=base)
    except parameters.ParameterError as err:
        raise parameters.ParameterError(
            f"the study runs seeds {first_seed} to {last_seed}, and {err}") from None
    run_dirs, started = [], time.perf_counter()
    for name in args.simulators:
        n_seeds = args.reference_seeds if name == args.reference_sim else args.seeds
        for seed in range(first_seed, first_seed + n_seeds):
            run_dir = os.path.join(out, "runs", f"{name}_seed{seed}")
            print(f"[{time.perf_counter() - started:7.0f} s] {name}, seed {seed} -> {run_dir}",
                  flush=True)
            cmd = [sys.executable, os.path.abspath(__file__), name, "--seed", str(seed),
                   "--out", run_dir, *passthrough]
            _run_or_stop(cmd, name, seed, run_dir, len(run_dirs), out,
                         rerun=f"{' '.join(['python', *sys.argv])}"
                               f"{'' if args.overwrite else ' --overwrite'}")
            run_dirs.append(run_dir)
    # imported only now: Elephant may import mpi4py, whose MPI initialisation sets
    # launcher variables that child processes would inherit
    from pd14_pynn.validation.compare import build_report
    from pd14_pynn.validation.runs import RunFolderError
    try:
        summary = build_report(run_dirs, os.path.join(out, "report"),
                               reference_sim=args.reference_sim, overwrite=args.overwrite)
    except RunFolderError as err:
        raise backends.BackendError(str(err))
    print(f"Study done in {time.perf_counter() - started:.0f} s; report in "
          f"{os.path.join(out, 'report', 'report.md')}")
    return summary


def _run_or_stop(cmd, name, seed, run_dir, n_finished, out, rerun, env=None):
    """Run one study run; an interrupted run stops the study (RunInterrupted, with
    where it stopped and ``rerun``), a failed one raises BackendError."""
    code, stderr, received = _run_child(cmd, env)
    if code in (128 + signal.SIGINT, 128 + signal.SIGTERM) or (received and code != 0):
        # mpirun exits with 1 when its ranks stopped on the SIGTERM passed to them
        name_of_signal = signal.Signals(code - 128 if code > 128 else received[0]).name
        message = (f"study interrupted by {name_of_signal} in the run {name}, seed "
                   f"{seed}: {n_finished} finished runs are kept in "
                   f"{os.path.dirname(run_dir)}, the interrupted one says where it "
                   f"stopped ({os.path.join(run_dir, 'status.json')}); rerun with: {rerun}")
        print(message, file=sys.stderr, flush=True)
        stopped = interrupts.RunInterrupted(name_of_signal, message)
        stopped.reported = True
        raise stopped
    if code != 0:
        last = (stderr.strip().splitlines() or ["no message"])[-1]
        raise backends.BackendError(
            f"the run {name}, seed {seed} failed (exit code {code}): {last} "
            f"(command: {' '.join(cmd)}; its folder: {run_dir})")


# options that may go with --study (the study defines everything else); the
# values of --threads and --format are passed on to every run
_STUDY_OPTIONS = {"--study", "--out", "--seed", "--threads", "--format", "--plan"}


def run_study(args, argv):
    """Run a named study or study file part by part, reusing complete runs; after
    each part, write its report (and, for parts with ``response``, the PSTH report)."""
    from pd14_pynn.validation import studies
    given = {token.split("=")[0] for token in argv if token.startswith("--")}
    extra = sorted(given - _STUDY_OPTIONS)
    if extra:
        raise parameters.ParameterError(
            f"--study defines the model, simulators and seeds; {', '.join(extra)} cannot go "
            f"with it (allowed: {', '.join(sorted(_STUDY_OPTIONS))}); write a study file "
            f"to change them")
    try:
        name, study = studies.load_study(args.study)
        out = args.out or os.path.join("results", f"study_{name}")
        first_seed = args.seed if args.seed is not None else studies.FIRST_SEED
        planned = studies.plan(study, out, first_seed)
    except studies.StudyError as err:
        raise parameters.ParameterError(str(err)) from None
    for line in studies.describe_plan(name, study, planned):
        print(line, flush=True)
    if args.plan:
        return None
    passthrough = []
    if args.threads is not None:
        passthrough += ["--threads", str(args.threads)]
    passthrough += ["--format", args.format]
    rerun = " ".join(["python", *sys.argv])
    from pd14_pynn.validation.compare import build_report
    from pd14_pynn.validation.response_report import build_response_report
    from pd14_pynn.validation.runs import RunFolderError
    started, finished, summaries = time.perf_counter(), 0, {}
    for part_name, part in study["parts"].items():
        part_runs = [run for run in planned if run.part == part_name]
        for run in part_runs:
            if run.state == studies.REUSE:
                continue
            config = os.path.join(out, part_name, "configs",
                                  f"{os.path.basename(run.run_dir)}.json")
            os.makedirs(os.path.dirname(config), exist_ok=True)
            storage.write_json(config, {k: v for k, v in run.overrides.items() if k != "seed"})
            print(f"[{time.perf_counter() - started:7.0f} s] {part_name}: {run.group}, seed "
                  f"{run.seed} -> {run.run_dir}"
                  + (f" ({run.ranks} MPI ranks)" if run.ranks > 1 else "")
                  + (f" (again: it held {run.why})" if run.state == studies.RERUN else ""),
                  flush=True)
            cmd = [*run.command(os.path.abspath(__file__), config), *passthrough]
            if run.state == studies.RERUN:
                cmd.append("--overwrite")  # this folder only: it holds no complete run
            _run_or_stop(cmd, run.group, run.seed, run.run_dir, finished, out, rerun,
                         env=studies.launch_environment(run.ranks))
            finished += 1
        run_dirs = [run.run_dir for run in part_runs]
        window = part.get("analysis_window_ms") or (None, None)
        reference_sim = part.get("reference_sim", "nest")
        print(f"[{time.perf_counter() - started:7.0f} s] {part_name}: report", flush=True)
        try:
            # reports are derived from the runs, so they are rebuilt on every invocation
            summaries[part_name] = build_report(
                run_dirs, os.path.join(out, part_name, "report"), reference_sim=reference_sim,
                t_start_ms=window[0], t_stop_ms=window[1], overwrite=True)
            if part.get("response"):
                build_response_report(run_dirs, os.path.join(out, part_name, "response"),
                                      reference_sim=reference_sim, overwrite=True)
        except RunFolderError as err:
            raise backends.BackendError(str(err))
    print(f"Study {name!r} done in {time.perf_counter() - started:.0f} s ({finished} runs "
          f"made, {sum(r.state == studies.REUSE for r in planned)} reused); reports in "
          f"{', '.join(os.path.join(out, p, 'report') for p in study['parts'])}")
    return summaries


def _run_child(cmd, env=None):
    """Run one study run; SIGINT or SIGTERM to this process are passed on as SIGTERM,
    so that the run stops after its current step and keeps what it simulated (at a
    terminal, Ctrl-C reaches the run directly too; it ignores the second signal).
    A second Ctrl-C ends this process at once. Returns (exit code, stderr, signals
    received)."""
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
    received = []

    def forward(number, frame):
        if received and number == signal.SIGINT:
            os._exit(128 + number)
        received.append(number)
        child.send_signal(signal.SIGTERM)

    previous = {number: signal.signal(number, forward)
                for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        _, stderr = child.communicate()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return child.returncode, stderr, received


def resolve_parameters(args):
    """Defaults <- config file <- command-line options."""
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
    return parameters.resolve(overrides)


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        params = resolve_parameters(args)
        if args.list_parameters:
            print(json.dumps(params, indent=1))
            return 0
        if args.simulator is None:
            raise backends.BackendError("name a simulator: nest, neuron or brian2")
        if args.simulator == "compare":
            compare(args, argv if argv is not None else sys.argv[1:])
            return 0
        out = args.out or os.path.join("results", parameters.run_label(args.simulator, params))
        simulation.check_run(args.simulator, params, out, args.overwrite,
                             connectivity=args.connectivity)
        simulation.run(args.simulator, params, out, overwrite=args.overwrite,
                       spike_format=args.format, command_line=sys.argv,
                       connectivity=args.connectivity, save_connectivity=args.save_connectivity)
        _COMPLETED.add("simulation.run")
    except (parameters.ParameterError, backends.BackendError, storage.OutputFolderError) as err:
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


if __name__ == "__main__":
    code = main()
    if code == 0 and not parallel.under_launcher() and "simulation.run" in _COMPLETED:
        exit_without_teardown(code)
    sys.exit(code)
