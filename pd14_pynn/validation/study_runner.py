"""Validation studies run from the command line: one process per run, then the reports.

``python run/main.py compare ...`` (:mod:`pd14_pynn.cli`) lands here.

* :func:`compare` -- every simulator and seed of the command line, then one report
  (:func:`pd14_pynn.validation.compare.build_report`); with ``--study``,
  :func:`run_study`.
* :func:`run_study` -- a named study or study file
  (:mod:`pd14_pynn.validation.studies`) part by part, reusing complete runs, each
  part's report after its runs.

Each run is a process of the command-line script (``script``, i.e. run/main.py;
under ``mpirun`` where a study asks for ranks), so that a run's simulator, memory
and signals stay its own. SIGINT or SIGTERM to the study reach the run in progress,
which keeps what it simulated; the study then stops with one line saying where and
how to rerun it (:class:`pd14_pynn.interrupts.RunInterrupted`). A failed run stops
the study with :class:`pd14_pynn.backends.BackendError`.
"""

import os
import signal
import subprocess
import sys
import time

from pd14_pynn import backends, interrupts, parameters, run_folder, storage


def compare(args, argv, params, *, script, command_line):
    """Run every simulator and seed (one process each), then write the validation report.

    ``args``: the parsed command line (:func:`pd14_pynn.cli.build_parser`), ``argv``
    its words, ``params`` the parameters they resolve to; ``script``: the script each
    run is started with (run/main.py); ``command_line``: this process's (``sys.argv``),
    for the line that reruns a stopped study."""
    if args.study:
        return run_study(args, argv, script=script, command_line=command_line)
    if args.plan:
        # without a study there is no plan to print: refuse rather than start hours of runs
        raise parameters.ParameterError(
            "--plan goes with --study NAME|FILE (a study's runs, memory and time); "
            "without --study, compare starts its runs at once")
    out = args.out or os.path.join("results", "study")
    for name in args.simulators:
        backends.get(name)
    run_folder.check_output_folder(out, args.overwrite)
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
    last_seed = first_seed + max(args.seeds, args.reference_seeds) - 1
    try:
        parameters.resolve({"seed": last_seed}, base=params)
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
            cmd = [sys.executable, script, name, "--seed", str(seed), "--out", run_dir,
                   *passthrough]
            _run_or_stop(cmd, name, seed, run_dir, len(run_dirs), out,
                         rerun=f"{' '.join(['python', *command_line])}"
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


def run_study(args, argv, *, script, command_line):
    """Run a named study or study file part by part, reusing complete runs; after
    each part, write its report (and, for parts with ``response``, the PSTH report).
    Arguments as for :func:`compare`."""
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
    rerun = " ".join(["python", *command_line])
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
            cmd = [*run.command(script, config), *passthrough]
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
