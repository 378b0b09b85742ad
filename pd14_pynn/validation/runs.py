"""Run folders written by ``python run/main.py``, as the validation sees them.

* :class:`Run` -- one run folder: simulator, seed, parameters, metadata, timings,
  and the facts the report shows (versions, scaling, wall time, RTF).
* :func:`read_run` -- read and check a run folder (the spikes are read later, by
  :mod:`pd14_pynn.validation.spike_statistics`).
* :func:`group_by_simulator` -- runs per simulator, each list sorted by seed.
* :func:`check_comparable` -- refuse runs of different models, or a repeated seed.
* :class:`RunFolderError` -- a folder or set of folders that cannot be compared,
  with a message that says what to do.
"""

import dataclasses
import json
import os

from pd14_pynn import run_folder, storage

#: parameters that may differ between the runs of one comparison: the seed is what
#: the baseline varies; threads and voltage recording do not change the model, nor
#: does who draws the connections (it changes the realisation, like the seed; runs
#: with connectivity_rng="numpy" form a group of their own, see ``Run.simulator``)
VARYING_PARAMETERS = ("seed", "threads", "record_v", "record_v_interval_ms",
                      "connectivity_rng")
#: package name of each simulator in ``metadata.json["versions"]``
_VERSION_KEYS = {"nest": ("nest", "nest-simulator"), "neuron": ("neuron",),
                 "brian2": ("brian2",)}
_PHASES = ("import", "setup", "create", "connect", "presimulate", "simulate", "save")


class RunFolderError(ValueError):
    """Run folders that cannot be compared; the message says why and what to do."""


@dataclasses.dataclass
class Run:
    """One run folder (``path``) and what it recorded about itself.

    ``parameters``: the resolved parameters (of a multi-area run: its ``base``);
    ``model``: the rest of a multi-area run's ``parameters.json`` (areas,
    connections, ...; empty for one circuit).
    """

    path: str
    parameters: dict
    metadata: dict
    timings: dict
    model: dict = dataclasses.field(default_factory=dict)

    @property
    def backend(self):
        """The simulator that ran, e.g. ``nest``."""
        return self.metadata["simulator"]

    @property
    def simulator(self):
        """The group the run is compared in: the simulator, with ``[numpy-net]``
        appended when its connections were drawn with ``connectivity_rng="numpy"``."""
        if self.parameters.get("connectivity_rng", "native") == "numpy":
            return f"{self.backend}[numpy-net]"
        return self.backend

    @property
    def seed(self):
        return self.parameters["seed"]

    @property
    def name(self):
        """Short name for tables and figures, e.g. ``nest seed 55``."""
        return f"{self.simulator} seed {self.seed}"

    @property
    def simulator_version(self):
        versions = self.metadata.get("versions", {})
        for key in _VERSION_KEYS.get(self.backend, (self.backend,)):
            if versions.get(key):
                return versions[key]
        return None

    @property
    def pynn_version(self):
        return self.metadata.get("versions", {}).get("PyNN")

    @property
    def wall_time_s(self):
        """Sum of the timed phases (s), from import to saving the spikes."""
        return float(sum(self.timings.get(phase, 0.0) for phase in _PHASES))

    @property
    def rtf(self):
        """Real-time factor of the simulation phase (wall time / simulated time)."""
        return self.timings.get("rtf")

    def describe(self):
        """The facts of the run shown in the report, as a flat dict."""
        p = self.parameters
        return {
            "path": os.path.abspath(self.path), "simulator": self.simulator,
            "simulator_version": self.simulator_version, "pynn_version": self.pynn_version,
            "N_scaling": p["N_scaling"], "K_scaling": p["K_scaling"],
            "background": p["background"], "thalamic_input": p.get("thalamic_input", False),
            "seed": self.seed, "t_presim_ms": p["t_presim_ms"], "t_sim_ms": p["t_sim_ms"],
            "num_neurons": _total(self.metadata.get("num_neurons", {})),
            "num_synapses": self.metadata.get("num_synapses_total"),
            "wall_time_s": self.wall_time_s, "simulate_s": self.timings.get("simulate"),
            "rtf": self.rtf, "settings": self.metadata.get("settings", {}),
        }


def _total(counts):
    """The sum of a dict of counts, or of a dict of such dicts (per area)."""
    return sum(_total(v) if isinstance(v, dict) else v for v in counts.values())


def _without_varying(value):
    """``value`` (nested dicts and lists) without the keys that may differ between the
    runs of one comparison (:data:`VARYING_PARAMETERS`), e.g. each area's seed."""
    if isinstance(value, dict):
        return {k: _without_varying(v) for k, v in value.items()
                if k not in VARYING_PARAMETERS}
    if isinstance(value, list):
        return [_without_varying(v) for v in value]
    return value


def _read(path, name):
    try:
        return storage.read_json(os.path.join(path, name))
    except FileNotFoundError:
        raise RunFolderError(
            f"{path!r} has no {name}: is it a run folder of 'python run/main.py', "
            f"and did the run finish?") from None
    except json.JSONDecodeError as err:
        raise RunFolderError(f"{os.path.join(path, name)!r} is not valid JSON: {err}") from None


def read_run(path):
    """Read the JSON files of a run folder and check that its spikes are there.

    Raises :class:`RunFolderError` naming the missing or unreadable file, or
    saying that the run did not complete (``status.json``: interrupted, failed,
    or still running). Folders without ``status.json`` (written before it
    existed) are read as before.
    """
    if not os.path.isdir(path):
        raise RunFolderError(f"run folder {path!r} does not exist")
    status = run_folder.read_status(path)
    if status is not None and status.get("status") != "complete":
        raise RunFolderError(
            f"{path!r} holds {run_folder.describe_folder(path)}, not a complete run; its partial "
            f"spikes are not comparable: rerun it ({status.get('rerun') or 'with --overwrite'}) "
            f"or leave it out")
    parameters = _read(path, "parameters.json")
    model = {}
    # a multi-area model: base, areas, ... (MultiAreaModel) or description and
    # parameters (a model from a description file, run/main.py --model)
    for run_key in ("base", "parameters"):
        if isinstance(parameters.get(run_key), dict):
            model = {key: value for key, value in parameters.items() if key != run_key}
            parameters = parameters[run_key]
            break
    run = Run(path=path, parameters=parameters, metadata=_read(path, "metadata.json"),
              timings=_read(path, "timings.json"), model=model)
    try:
        storage.spike_file(path)
    except FileNotFoundError as err:
        raise RunFolderError(f"{err}; the run did not finish") from None
    return run


def group_by_simulator(runs, reference_sim=None):
    """``{simulator: [Run, ...]}``, runs sorted by seed.

    ``reference_sim`` comes first, the other simulators by name.
    """
    groups = {}
    for run in runs:
        groups.setdefault(run.simulator, []).append(run)
    order = sorted(groups, key=lambda sim: (sim != reference_sim, sim))
    return {sim: sorted(groups[sim], key=lambda run: run.seed) for sim in order}


def _short(value, limit=40):
    text = str(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def parameter_differences(runs):
    """``{key: [value per run]}`` for every model parameter that is not the same in all runs."""
    keys = sorted(set().union(*(run.parameters for run in runs)) - set(VARYING_PARAMETERS))
    differences = {}
    for key in keys:
        values = [run.parameters.get(key) for run in runs]
        if any(value != values[0] for value in values[1:]):
            differences[key] = values
    return differences


def check_comparable(runs):
    """Raise :class:`RunFolderError` unless the runs are one model, seeds distinct per simulator.

    Two runs of one simulator with one seed would put a seed-to-seed distance of
    (near) zero into the baseline wherever the simulator is deterministic, a band
    that no other simulator can pass.
    """
    if not runs:
        raise RunFolderError("no run folders given")
    differences = parameter_differences(runs)
    if differences:
        shown = "; ".join(f"{key}: {', '.join(_short(v) for v in values)}"
                          for key, values in list(differences.items())[:5])
        raise RunFolderError(
            f"the runs simulate different models ({shown}); compare runs that differ "
            f"only in simulator and seed")
    models = [_without_varying(run.model) for run in runs]
    differing = sorted({key for model in models[1:] for key in set(model) | set(models[0])
                        if model.get(key) != models[0].get(key)})
    if differing:
        raise RunFolderError(
            f"the runs simulate different multi-area models (their {', '.join(differing)} "
            f"differ: {runs[0].path!r} and others); compare runs that differ only in "
            f"simulator and seed")
    for simulator, group in group_by_simulator(runs).items():
        seeds = [run.seed for run in group]
        repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
        if repeated:
            raise RunFolderError(
                f"{simulator} has more than one run with seed {repeated}; a seed-to-seed "
                f"baseline needs runs with different seeds")
