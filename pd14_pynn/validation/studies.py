"""Named validation studies: which runs, which comparisons, and a plan before running.

A study is data: parts, each one comparison (one report) of runs that simulate
one model and differ only in simulator, seed and who draws the connections.

* :data:`STUDIES` -- the built-in studies ``full``, ``long``, ``standalone`` and
  ``thalamic`` (issue 13; docs/validation/studies.md).
* :func:`load_study` -- a built-in name or a JSON file of the same shape, checked.
* :func:`plan` -- every run of a study with its folder, resolved parameters and
  state: ``run`` (no folder yet), ``reuse`` (a complete run of the same
  parameters is there), ``rerun`` (an incomplete, failed or interrupted one);
  a complete run of *other* parameters is an error, never overwritten.
* :func:`describe_plan` -- the plan as lines to print, with each run's memory and
  time estimate (:mod:`pd14_pynn.validation.study_estimates`).

A study file (JSON)::

    {"description": "...",
     "parts": {"<part>": {"parameters": {<parameter overrides>},
                          "runs": [{"simulator": "nest", "seeds": 8},
                                   {"simulator": "nest", "seeds": 1,
                                    "parameters": {"connectivity_rng": "numpy"}},
                                   {"simulator": "neuron", "seeds": 1, "ranks": 2}],
                          "reference_sim": "nest",          (optional)
                          "analysis_window_ms": [t0, t1],   (optional)
                          "response": false}}}              (optional: PSTH report)

Seeds of a run group are ``first_seed, first_seed + 1, ...`` (default 55).
``ranks`` (optional, NEURON only): MPI processes per run, launched with
``mpirun -np ranks`` where ``mpirun`` and ``mpi4py`` are found, else one process
(the plan says so). The spikes do not depend on the number of ranks
(docs/mpi.md); only the wall time does.
Nothing here imports a simulator or starts a run.
"""

import dataclasses
import importlib.util
import json
import os
import shutil
import sys

from pd14_pynn import backends, parameters, run_folder, storage

from .study_estimates import estimate_memory_bytes, estimate_seconds

FIRST_SEED = 55

# the NEURON scale of the full study: the largest multiple of 0.05 whose memory
# estimate (DC, 10.5 s) fits MEMORY_SHARE of MACHINE_MEMORY_BYTES (15.9 GB at 0.35,
# 20.5 GB at 0.4; study_estimates.py); tests/test_studies.py checks it against
# study_estimates.largest_scale()
NEURON_FULL_STUDY_SCALE = 0.35

_FULL = {"N_scaling": 1.0, "K_scaling": 1.0, "background": "dc",
         "t_presim_ms": 500.0, "t_sim_ms": 10000.0}
_LONG = {"N_scaling": 0.2, "K_scaling": 0.2, "t_presim_ms": 500.0, "t_sim_ms": 60000.0}
# the dc02 studies: N = K = 0.2, DC, 10 s after 500 ms
_DC02 = {"N_scaling": 0.2, "K_scaling": 0.2, "background": "dc", "t_presim_ms": 500.0,
         "t_sim_ms": 10000.0}

# NEST seeds that make a band: with 3, NEST itself failed 5.4 of 24 cells per
# trial against its own band, at least one in 99.7 % of trials; with 8, 0.11 and
# 11 % (2 held-out seeds, leave-k-out over 10 seeds at N = K = 0.2 DC 10 s:
# validation/false_alarms.py, docs/validation/studies.md)
BAND_SEEDS = 8
NUMPY_NET_SEEDS = 2

# trials of NEST and Brian2 in the thalamic study: with 10, Brian2's mean latency
# to the peak was 1-2.5 ms shorter than NEST's in 5 populations (Mann-Whitney over
# the trials' median latency: p = 0.15); 30 trials tell a systematic difference
# of 1 ms from trial-to-trial spread (SD ~2 ms). NEST and Brian2 take ~10 s a trial
# here, NEURON ~3 min: NEURON keeps 10.
THALAMIC_TRIALS = 30

# NEURON runs of the built-in studies use both cores of the 2-core machine through
# MPI (measured 2.4x faster at N = K = 0.4 with the same spikes: docs/mpi.md)
NEURON_RANKS = 2
#: simulators whose runs may be split over MPI ranks in a study (the NEST wheel has
#: no MPI; Brian2 runs on one process)
MPI_SIMULATORS = ("neuron",)

STUDIES = {
    "full": {
        "description": "full scale, DC, 500 + 10,000 ms: NEST (8 seeds) as the band, NEST on "
                       "the numpy-drawn networks (2 seeds), Brian2 (2 seeds); NEURON cannot "
                       "hold full scale in 24 GB, so NEURON against NEST at N = K = "
                       f"{NEURON_FULL_STUDY_SCALE:g}, its largest scale that fits",
        "parts": {
            "full_dc": {
                "parameters": _FULL,
                # NEST on the numpy-drawn networks of Brian2's two seeds, so that
                # each of those networks runs on both simulators and a failing cell
                # can be told apart from a network effect (docs/validation/README.md
                # "Full scale": L6E's CC, which passes with other CC neuron samples)
                "runs": [{"simulator": "nest", "seeds": BAND_SEEDS},
                         {"simulator": "nest", "seeds": NUMPY_NET_SEEDS,
                          "parameters": {"connectivity_rng": "numpy"}},
                         {"simulator": "brian2", "seeds": 2}],
            },
            f"neuron_dc{NEURON_FULL_STUDY_SCALE:g}": {
                "parameters": {**_FULL, "N_scaling": NEURON_FULL_STUDY_SCALE,
                               "K_scaling": NEURON_FULL_STUDY_SCALE},
                "runs": [{"simulator": "nest", "seeds": BAND_SEEDS},
                         {"simulator": "neuron", "seeds": 1, "ranks": NEURON_RANKS}],
            },
        },
    },
    "long": {
        "description": "N = K = 0.2, 500 + 60,000 ms, DC and Poisson: NEST (8 seeds) as "
                       "the band, Brian2 (2 seeds), NEURON (1 seed); the CC and CV cells "
                       "with the narrower 60 s band",
        "parts": {
            f"long_{background}": {
                "parameters": {**_LONG, "background": background},
                "runs": [{"simulator": "nest", "seeds": BAND_SEEDS},
                         {"simulator": "brian2", "seeds": 2},
                         {"simulator": "neuron", "seeds": 1, "ranks": NEURON_RANKS}],
            } for background in ("dc", "poisson")
        },
    },
    "standalone": {
        "description": "N = K = 0.2, DC, 500 + 10,000 ms: Brian2's cpp_standalone device (3 "
                       "seeds) against the band of 10 NEST seeds, as dc02_10seeds did for "
                       "Brian2's runtime device",
        "parts": {
            "standalone_dc02": {
                "parameters": {**_DC02, "brian2_device": "cpp_standalone"},
                "runs": [{"simulator": "nest", "seeds": 10},
                         {"simulator": "brian2", "seeds": 3}],
            },
        },
    },
    "engines": {
        "description": "N = K = 0.2, DC, 500 + 10,000 ms: the simulators as they run by "
                       "default since issue 24, Brian2 as a program of few objects "
                       "(cpp_standalone, 3 seeds) and NEURON on CoreNEURON (2 seeds), "
                       "against the band of 8 NEST seeds",
        "parts": {
            "engines_dc02": {
                "parameters": {**_DC02, "brian2_device": "cpp_standalone",
                               "neuron_engine": "coreneuron"},
                # CoreNEURON runs in one process: its MPI exchange needs delays of
                # >= 2 steps and this model has 0.1 ms delays (backends/neuron.py)
                "runs": [{"simulator": "nest", "seeds": BAND_SEEDS},
                         {"simulator": "brian2", "seeds": 3},
                         {"simulator": "neuron", "seeds": 2}],
            },
        },
    },
    "thalamic": {
        "description": "N = K = 0.2, DC, thalamic pulse at 700-710 ms, 500 + 1000 ms: "
                       f"{THALAMIC_TRIALS} trials (seeds) of NEST and Brian2, 10 of NEURON; "
                       "PSTH, peak, latency and return to baseline against NEST's "
                       "trial-to-trial band; the stationary statistics over 1000-1500 ms, "
                       "after the response; and NEST and Brian2 (10 trials each) with the "
                       "PyNEST reference's thalamic synapse totals",
        "parts": {
            "thalamic_dc": {
                "parameters": {"N_scaling": 0.2, "K_scaling": 0.2, "background": "dc",
                               "thalamic_input": True, "t_presim_ms": 500.0,
                               "t_sim_ms": 1000.0},
                "runs": [{"simulator": "nest", "seeds": THALAMIC_TRIALS},
                         {"simulator": "brian2", "seeds": THALAMIC_TRIALS},
                         {"simulator": "neuron", "seeds": 10, "ranks": NEURON_RANKS}],
                "analysis_window_ms": [1000.0, 1500.0],
                "response": True,
            },
            # the PyNEST reference's rule: full-scale thalamic totals x K_scaling, so
            # each neuron gets 1/N_scaling times the thalamic synapses of "in_degree"
            "thalamic_total_dc": {
                "parameters": {"N_scaling": 0.2, "K_scaling": 0.2, "background": "dc",
                               "thalamic_input": True, "thalamic_synapse_scaling": "total",
                               "t_presim_ms": 500.0, "t_sim_ms": 1000.0},
                "runs": [{"simulator": "nest", "seeds": 10},
                         {"simulator": "brian2", "seeds": 10}],
                "analysis_window_ms": [1000.0, 1500.0],
                "response": True,
            },
        },
    },
}

_PART_KEYS = {"parameters", "runs", "reference_sim", "analysis_window_ms", "response"}
_RUN_KEYS = {"simulator", "seeds", "parameters", "ranks"}
RUN, REUSE, RERUN = "run", "reuse", "rerun"


class StudyError(ValueError):
    """A study that cannot be planned; the message says what to change."""


@dataclasses.dataclass
class PlannedRun:
    """One run of a study: where, what, and whether it must run."""

    part: str
    group: str          # the comparison group, e.g. "nest" or "nest[numpy-net]"
    simulator: str      # the backend
    seed: int
    overrides: dict     # parameter overrides of this run, seed included
    params: dict        # resolved
    run_dir: str
    state: str          # RUN, REUSE or RERUN
    why: str = ""       # for RERUN: what the folder holds
    ranks: int = 1      # MPI processes the run is launched with
    ranks_note: str = ""  # why fewer ranks than the study asked for

    def command(self, script, config):
        """The command line of this run (a list): ``python script simulator ...``,
        under ``mpirun -np ranks`` when ranks > 1."""
        cmd = [sys.executable, script, self.simulator, "--config", config,
               "--seed", str(self.seed), "--out", self.run_dir]
        if self.ranks > 1:
            # Open MPI's default is to SIGKILL ranks 1 s after forwarding SIGTERM; a
            # stopped run needs longer to write what it simulated (docs/mpi.md)
            cmd = [shutil.which("mpirun"), "--mca", "odls_base_sigkill_timeout", "30",
                   "-np", str(self.ranks), *cmd]
        return cmd


def load_study(name_or_path):
    """``(name, study dict)`` of a built-in study or a study JSON file, checked."""
    if name_or_path in STUDIES:
        study, name = STUDIES[name_or_path], name_or_path
    elif os.path.isfile(name_or_path):
        try:
            with open(name_or_path) as handle:
                study = json.load(handle)
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
            raise StudyError(f"cannot read the study file {name_or_path!r}: {err}") from None
        name = os.path.splitext(os.path.basename(name_or_path))[0]
    else:
        raise StudyError(f"--study {name_or_path!r} is neither a study ({', '.join(STUDIES)}) "
                         f"nor a study file (JSON, see pd14_pynn/validation/studies.py)")
    check_study(study, name)
    return name, study


def check_study(study, name):
    """Raise :class:`StudyError` unless ``study`` has the shape in the module docstring."""
    where = f"study {name!r}"
    if not isinstance(study, dict) or not isinstance(study.get("parts"), dict) \
            or not study["parts"]:
        raise StudyError(f"{where} must be a JSON object with a non-empty object 'parts'")
    for part_name, part in study["parts"].items():
        at = f"{where}, part {part_name!r}"
        if not isinstance(part, dict):
            raise StudyError(f"{at} must be an object")
        unknown = set(part) - _PART_KEYS
        if unknown:
            raise StudyError(f"{at} has unknown keys {sorted(unknown)}; allowed: "
                             f"{sorted(_PART_KEYS)}")
        if not isinstance(part.get("runs"), list) or not part["runs"]:
            raise StudyError(f"{at} needs a non-empty list 'runs'")
        for group in part["runs"]:
            if not isinstance(group, dict) or set(group) - _RUN_KEYS \
                    or "simulator" not in group:
                raise StudyError(f"{at}: every entry of 'runs' is an object with "
                                 f"'simulator', 'seeds' and optional 'parameters', got {group!r}")
            try:
                backends.get(group["simulator"])
            except backends.BackendError as err:
                raise StudyError(f"{at}: {err}") from None
            seeds = group.get("seeds", 1)
            if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
                raise StudyError(f"{at}: 'seeds' must be a positive integer, got {seeds!r}")
            ranks = group.get("ranks", 1)
            if not isinstance(ranks, int) or isinstance(ranks, bool) or ranks < 1:
                raise StudyError(f"{at}: 'ranks' must be a positive integer, got {ranks!r}")
            if ranks > 1 and group["simulator"] not in MPI_SIMULATORS:
                raise StudyError(f"{at}: 'ranks' > 1 is for {', '.join(MPI_SIMULATORS)} "
                                 f"(the NEST wheel has no MPI; Brian2 runs in one process), "
                                 f"not {group['simulator']!r}")
        window = part.get("analysis_window_ms")
        if window is not None and (not isinstance(window, list) or len(window) != 2
                                   or not window[0] < window[1]):
            raise StudyError(f"{at}: 'analysis_window_ms' must be [start, stop] in ms with "
                             f"start < stop, got {window!r}")
        reference_sim = part.get("reference_sim", "nest")
        n_reference = sum(group.get("seeds", 1) for group in part["runs"]
                          if group["simulator"] == reference_sim
                          and (group.get("parameters") or {}).get("connectivity_rng",
                                                                  "native") == "native")
        if n_reference < 2:
            raise StudyError(f"{at}: the band needs >= 2 seeds of the reference simulator "
                             f"{reference_sim!r}, got {n_reference}")


def _group_name(simulator, params):
    return f"{simulator}[numpy-net]" if params["connectivity_rng"] == "numpy" else simulator


def _folder_name(group, seed):
    return f"{group.replace('[', '-').replace(']', '')}_seed{seed}"


def _same_model(stored, expected):
    """Keys whose values differ between a stored and an expected parameter set
    (threads ignored: it does not change the model)."""
    keys = (set(stored) | set(expected)) - {"threads"}
    return sorted(key for key in keys if stored.get(key) != expected.get(key))


def _state(run_dir, params):
    """(state, why) of a run folder for the expected resolved ``params``."""
    if not os.path.exists(run_dir):
        return RUN, ""
    status = run_folder.read_status(run_dir)
    if status is None or status.get("status") != "complete":
        return RERUN, run_folder.describe_folder(run_dir)
    try:
        stored = storage.read_json(os.path.join(run_dir, "parameters.json"))
    except (OSError, json.JSONDecodeError) as err:
        return RERUN, f"a complete run whose parameters.json cannot be read ({err})"
    differ = _same_model(stored, params)
    if differ:
        raise StudyError(
            f"{run_dir!r} holds a complete run of other parameters ({', '.join(differ[:5])}); "
            f"it is not replaced: move it away or choose another --out")
    try:
        storage.spike_file(run_dir)
    except FileNotFoundError:
        return RERUN, "a run marked complete without its spike file"
    return REUSE, ""


def mpi_launch_missing():
    """What MPI launching lacks here ('' if ``mpirun`` and ``mpi4py`` are both found)."""
    missing = [name for name, found in (("mpirun", shutil.which("mpirun")),
                                        ("mpi4py", importlib.util.find_spec("mpi4py")))
               if not found]
    return " and ".join(missing)


def launch_environment(ranks):
    """The environment of a run with ``ranks`` MPI processes: this one, and where it
    runs as root (containers often do), Open MPI's consent to run as root, which
    ``mpirun`` otherwise refuses."""
    env = dict(os.environ)
    if ranks > 1 and hasattr(os, "geteuid") and os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def plan(study, out_dir, first_seed=FIRST_SEED):
    """Every run of ``study`` (checked by :func:`check_study`) as :class:`PlannedRun`,
    part by part, in the order they will run. Resolves every parameter set first,
    so a bad one is reported before anything runs."""
    planned = []
    missing = None
    for part_name, part in study["parts"].items():
        for group in part["runs"]:
            ranks, note = group.get("ranks", 1), ""
            if ranks > 1:
                missing = mpi_launch_missing() if missing is None else missing
                if missing:
                    # the spikes do not depend on the ranks: one process is only slower
                    ranks, note = 1, f"1 process, not {group['ranks']}: no {missing}"
            for seed in range(first_seed, first_seed + group.get("seeds", 1)):
                overrides = {**part.get("parameters", {}), **group.get("parameters", {}),
                             "seed": seed}
                try:
                    params = parameters.resolve(overrides)
                except parameters.ParameterError as err:
                    raise StudyError(f"part {part_name!r}, {group['simulator']} seed {seed}: "
                                     f"{err}") from None
                name = _group_name(group["simulator"], params)
                run_dir = os.path.join(out_dir, part_name, "runs", _folder_name(name, seed))
                state, why = _state(run_dir, params)
                planned.append(PlannedRun(part_name, name, group["simulator"], seed, overrides,
                                          params, run_dir, state, why, ranks, note))
    return planned


def _duration(seconds):
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def describe_plan(name, study, planned):
    """Lines that show the plan: one per run, then the totals."""
    lines = [f"Study {name!r}: {study.get('description', '')}".rstrip(": ")]
    to_run = [run for run in planned if run.state != REUSE]
    total = sum(estimate_seconds(run.simulator, run.params, run.ranks) for run in to_run)
    for run in planned:
        p = run.params
        lines.append(
            f"  {run.part:<16} {run.group:<18} seed {run.seed:<5} "
            f"N=K={p['N_scaling']:g} {p['background']}{' +thalamic' if p['thalamic_input'] else ''} "
            f"{p['t_presim_ms']:g}+{p['t_sim_ms']:g} ms  "
            f"~{estimate_memory_bytes(run.simulator, p) / 1e9:.1f} GB  "
            f"~{_duration(estimate_seconds(run.simulator, p, run.ranks))}"
            + (f"  x{run.ranks} ranks" if run.ranks > 1 else "") + f"  {run.state}"
            + (f" ({run.why})" if run.why else "")
            + (f"  [{run.ranks_note}]" if run.ranks_note else ""))
    lines.append(f"{len(planned)} runs: {len(to_run)} to run "
                 f"({sum(r.state == RERUN for r in planned)} of them again), "
                 f"{len(planned) - len(to_run)} reused; estimated {_duration(total)} of runs "
                 f"on a quiet 2-core machine (rough; see docs/validation/studies.md), plus "
                 f"the analysis")
    return lines
