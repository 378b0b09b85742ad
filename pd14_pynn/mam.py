"""Import the multi-area model of macaque visual cortex (MAM) into a description file.

    python -m pd14_pynn.mam PATH --out mam.json [--state ground|metastable]

PATH is a local clone of INM-6/multi-area-model (Schmidt et al. 2018). Its
numbers are computed by MAM's own code, in a separate process with MAM's
requirements (numpy, scipy, pandas, matplotlib, dicthash, nested_dict; not
dependencies of pd14-pynn): :mod:`pd14_pynn.mam_export` runs there on a
temporary copy of the clone (MAM writes files next to its code; the clone is
not touched) and writes MAM's quantities to JSON; :func:`description_from_export`
maps them to a :class:`~pd14_pynn.multi_area_description.MultiAreaDescription`
and checks the mapping against MAM's own totals and every weight.

MAM's code and data are licensed CC BY-NC-SA 4.0: the file written here holds
MAM's numbers and carries that licence; none of them are part of pd14-pynn.

* :func:`run_export` -- MAM's numbers (a dict in MAM's terms) from a clone.
* :func:`description_from_export` -- those numbers as a description.
* :func:`main` -- the command line; every error is one ``error:`` line.

Which MAM quantity becomes which key: docs/multi_area.md, "Importing MAM".
"""

import argparse
import contextlib
import json
import math
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

from . import multi_area_description as mad
from .parameters import ParameterError
from .population_names import POPULATIONS

#: the cortico-cortical weight factors (chi, chi_I) of MAM's two states (Schmidt et al. 2018)
STATES = {
    "ground": {"cc_weights_factor": 1.0, "cc_weights_I_factor": 1.0},
    "metastable": {"cc_weights_factor": 1.9, "cc_weights_I_factor": 2.0},
}
#: MAM connects its Poisson generators without a delay: NEST's default, 1 ms
NEST_DEFAULT_DELAY_MS = 1.0
#: what the numbers need from the clone: MAM's package and its stabilised in-degree matrix
CLONE_PARTS = ("multiarea_model", "figures/SchueckerSchmidt2017/K_prime_original.npy")
RATES_IN_CLONE = "tests/fullscale_rates.json"
CLONE_HINT = "git clone https://github.com/INM-6/multi-area-model PATH"
REQUIREMENTS_HINT = ("the Python given by --python needs MAM's requirements: "
                     "pip install numpy scipy pandas matplotlib dicthash nested_dict")
# MAM's NEST model is the one behind PyNN's IF_curr_exp
NEURON_MODELS = {"iaf_psc_exp": "IF_curr_exp"}


def mam_name(population):
    """MAM's name of a population: ``"L23E"`` -> ``"23E"``."""
    return population[1:]


def check_clone(path):
    """Stop with one line unless ``path`` holds what the numbers need."""
    for part in CLONE_PARTS:
        if not (pathlib.Path(path) / part).exists():
            raise ParameterError(f"{path} is not a clone of INM-6/multi-area-model: it has no "
                                 f"{part} (get one with: {CLONE_HINT})")


@contextlib.contextmanager
def working_copy(path):
    """A temporary copy of what MAM's code needs from the clone at ``path``, with a
    ``config.py``; yields ``(folder, env)``, ``env`` the environment of a Python
    process that imports MAM's modules from the copy. Removed afterwards."""
    check_clone(path)
    with tempfile.TemporaryDirectory(prefix="pd14_mam_") as tmp:
        for part in CLONE_PARTS:
            source, target = pathlib.Path(path) / part, pathlib.Path(tmp) / part
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(source, target)
        (pathlib.Path(tmp) / "config_files").mkdir()
        # MAM reads base_path and data_path from a module named config
        (pathlib.Path(tmp) / "config.py").write_text(
            f"base_path = {tmp!r}\ndata_path = {os.path.join(tmp, 'simulations')!r}\n")
        yield tmp, {**os.environ, "PYTHONPATH": tmp, "MPLBACKEND": "Agg"}


def run_export(path, state="metastable", rates=None, python=None, timeout_s=1800):
    """MAM's numbers for ``state`` from the clone at ``path`` (a dict in MAM's terms).

    ``rates``: MAM's JSON file of full-scale rates per area and population
    (default: the clone's tests/fullscale_rates.json, if there); ``python``: the
    interpreter with MAM's requirements (default: this one).
    """
    check_clone(path)
    if state not in STATES:
        raise ParameterError(f"state = {state!r} is not allowed: it must be one of "
                             f"{', '.join(STATES)}")
    if rates is None and (pathlib.Path(path) / RATES_IN_CLONE).is_file():
        rates = pathlib.Path(path) / RATES_IN_CLONE
    if rates is not None and not pathlib.Path(rates).is_file():
        raise ParameterError(f"--rates {rates}: no such file")
    script = (pathlib.Path(__file__).parent / "mam_export.py").read_text()
    with working_copy(path) as (tmp, env):
        out = os.path.join(tmp, "export.json")
        network_params = {"connection_params": STATES[state]}
        command = [python or sys.executable, "-W", "ignore", "-c", script,
                   json.dumps(network_params), str(os.path.abspath(rates)) if rates else "-",
                   out]
        try:
            proc = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True,
                                  timeout=timeout_s)
        except FileNotFoundError as err:
            raise ParameterError(f"--python {python}: {err.strerror}") from err
        except subprocess.TimeoutExpired as err:
            raise ParameterError(f"MAM's code did not finish within {timeout_s} s") from err
        if proc.returncode != 0:
            lines = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()
            raise ParameterError(f"MAM's code failed ({lines[-1]}); {REQUIREMENTS_HINT}")
        with open(out) as f:
            return json.load(f)


def _close(a, b, rel=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def _population_numbers(export, area, name, rates, rate_ext):
    m = mam_name(name)
    if rates is None:
        raise ParameterError("no full-scale rates: give MAM's rates file with --rates FILE "
                             f"(a clone has {RATES_IN_CLONE})")
    try:
        rate = rates[area][m]
    except KeyError as err:
        raise ParameterError(f"the rates file has no rate for {area} {m}") from err
    return mad.Population(
        num_neurons=export["neuron_numbers"][area][m],
        external_indegree=export["indegrees"][area][m]["external"]["external"],
        external_rate_hz=rate_ext, full_mean_rate_hz=rate)


def _weights(export, areas):
    """The description's weights: the means read from MAM's weight dictionary (at
    an area with all eight populations), the factors from MAM's parameters;
    :func:`_check_weights` then checks every weight against them."""
    w = export["synapse_weights_mean"]
    conn = export["network_params"]["connection_params"]
    a = next(area for area in areas if len(export["structure"][area]) == 8)
    exc = w[a]["23E"][a]["5E"]
    return mad.Weights(
        excitatory_pA=exc, inhibitory_pA=w[a]["23E"][a]["23I"],
        L23E_from_L4E_factor=w[a]["23E"][a]["4E"] / exc,
        rel_sd=conn["PSC_rel_sd_normal"], cortico_cortical_factor=conn["cc_weights_factor"],
        cortico_cortical_inhibitory_target_factor=conn["cc_weights_I_factor"])


def _check_weights(export, description):
    """Every weight of MAM (mean and sd, each pair of populations) follows the description."""
    w, w_sd = export["synapse_weights_mean"], export["synapse_weights_sd"]
    rel_sd = description.weights.rel_sd
    for ta, target_area in description.areas.items():
        for tp in target_area.populations:
            for sa, source_area in description.areas.items():
                for sp in source_area.populations:
                    expected = description.weight_pA(ta, tp, sa, sp)
                    mean = w[ta][mam_name(tp)][sa][mam_name(sp)]
                    sd = w_sd[ta][mam_name(tp)][sa][mam_name(sp)]
                    if not (_close(mean, expected) and _close(sd, rel_sd * abs(expected))):
                        raise ParameterError(
                            f"MAM's weight {ta} {tp} <- {sa} {sp} (mean {mean!r} pA, sd {sd!r} "
                            f"pA) does not follow the description's rule ({expected!r} pA, sd "
                            f"{rel_sd} x mean); this clone's weights cannot be described")


def description_from_export(export, simulated_areas=None,
                            non_simulated_areas="poisson_full_mean_rates", state=None,
                            source=""):
    """A validated description of MAM's numbers (``export``, from :func:`run_export`).

    Raises :class:`ParameterError` if MAM's numbers do not fit the description
    (another neuron model, unequal synaptic time constants, weights that follow
    another rule, in-degrees of populations an area lacks) or if the
    description's totals differ from MAM's own.
    """
    areas = export["area_list"]
    params = export["network_params"]
    neuron_params, delays = params["neuron_params"], params["delay_params"]
    single = neuron_params["single_neuron_dict"]
    if neuron_params["neuron_model"] not in NEURON_MODELS:
        raise ParameterError(f"MAM's neuron model {neuron_params['neuron_model']!r} is not "
                             f"one of {', '.join(NEURON_MODELS)}")
    if single["tau_syn_ex"] != single["tau_syn_in"]:
        raise ParameterError(f"MAM's tau_syn_ex = {single['tau_syn_ex']!r} and tau_syn_in = "
                             f"{single['tau_syn_in']!r} differ; a description has one tau_syn_ms")
    rate_ext = params["input_params"]["rate_ext"]
    k = export["indegrees"]
    structure = {area: [name for name in POPULATIONS if mam_name(name) in export["structure"][area]]
                 for area in areas}
    description_areas = {}
    inter = {}
    for ta in areas:
        pops = {name: _population_numbers(export, ta, name, export["fullscale_rates"], rate_ext)
                for name in structure[ta]}
        intra = {}
        for tp in POPULATIONS:
            for sa in areas:
                for sp in POPULATIONS:
                    value = k[ta][mam_name(tp)][sa][mam_name(sp)]
                    if not value:
                        continue
                    if tp not in structure[ta] or sp not in structure[sa]:
                        raise ParameterError(f"MAM's in-degree {ta} {tp} <- {sa} {sp} is "
                                             f"{value!r}, but the population does not exist")
                    if sa == ta:
                        intra.setdefault(tp, {})[sp] = value
                    else:
                        inter.setdefault(ta, {}).setdefault(tp, {}).setdefault(sa, {})[sp] = value
        description_areas[ta] = mad.Area(populations=pops, indegrees=intra)
    state_text = f", {state} state" if state else ""
    description = mad.MultiAreaDescription(
        name=f"multi-area model of macaque visual cortex (Schmidt et al. 2018){state_text}",
        source=source or "INM-6/multi-area-model (CC BY-NC-SA 4.0), numbers from its own code",
        areas=description_areas,
        inter_area=mad.InterArea(indegrees=inter, distances_mm=export["distances"]),
        weights=_weights(export, areas),
        delays=mad.Delays(excitatory_mean_ms=delays["delay_e"],
                          inhibitory_mean_ms=delays["delay_i"], rel_sd=delays["delay_rel"],
                          inter_area_speed_mm_per_ms=delays["interarea_speed"],
                          inter_area_rel_sd=delays["delay_rel"]),
        neuron=mad.Neuron(model=NEURON_MODELS[neuron_params["neuron_model"]],
                          C_m_pF=single["C_m"], tau_m_ms=single["tau_m"],
                          tau_syn_ms=single["tau_syn_ex"], E_L_mV=single["E_L"],
                          V_reset_mV=single["V_reset"], V_th_mV=single["V_th"],
                          t_ref_ms=single["t_ref"], V0_mean_mV=neuron_params["V0_mean"],
                          V0_sd_mV=neuron_params["V0_sd"]),
        external_input=mad.ExternalInput(
            kind="poisson" if params["input_params"]["poisson_input"] else "dc",
            weight_pA=export["synapse_weights_mean"][areas[0]]["23E"]["external"]["external"],
            delay_ms=NEST_DEFAULT_DELAY_MS),
        scaling=mad.Scaling(N_scaling=params["N_scaling"], K_scaling=params["K_scaling"],
                            count_rounding="truncate", external_indegree_rounding="none",
                            weight_sd_scales_with_K=False),
        simulation=mad.Simulation(simulated_areas=list(simulated_areas or areas),
                                  non_simulated_areas=non_simulated_areas, t_presim_ms=0.0,
                                  resolution_ms=export["dt"]))
    mad.validate(description)
    _check_weights(export, description)
    for what, ours, theirs in (("neurons", description.total_neurons(), export["total_neurons"]),
                               ("synapses", description.total_synapses(),
                                export["total_synapses"])):
        if not _close(ours, theirs):
            raise ParameterError(f"the description has {ours!r} {what} at full scale, MAM "
                                 f"{theirs!r}: the mapping is incomplete")
    return description


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m pd14_pynn.mam",
        description="Write the description file of the multi-area model (Schmidt et al. "
                    "2018) from a local clone of INM-6/multi-area-model, with the numbers "
                    "its own code computes.")
    parser.add_argument("path", help=f"the clone ({CLONE_HINT})")
    parser.add_argument("--out", required=True, help="the description file to write (JSON)")
    parser.add_argument("--state", choices=tuple(STATES), default="metastable",
                        help="cortico-cortical weight factors: ground (1.0, 1.0) or "
                             "metastable (1.9, 2.0 onto inhibitory targets; default)")
    parser.add_argument("--rates", help=f"MAM's full-scale rates (JSON; default: the clone's "
                                        f"{RATES_IN_CLONE})")
    parser.add_argument("--areas", nargs="+", metavar="AREA",
                        help="the areas to simulate (default: all 32)")
    parser.add_argument("--replace", choices=mad.NON_SIMULATED, default=mad.NON_SIMULATED[0],
                        help="what replaces the other areas: Poisson input at their full-scale "
                             "rates (default) or at the external rate")
    parser.add_argument("--n-scaling", type=float, help="scaling.N_scaling of the file (default 1)")
    parser.add_argument("--k-scaling", type=float, help="scaling.K_scaling of the file (default 1)")
    parser.add_argument("--python", help="the Python with MAM's requirements (default: this one)")
    return parser


def _clone_commit(path):
    try:
        proc = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def main(argv=None):
    """Write the description file; returns the exit code (2 and one ``error:`` line on error)."""
    args = build_parser().parse_args(argv)
    try:
        export = run_export(args.path, args.state, args.rates, args.python)
        commit = _clone_commit(args.path)
        source = (f"INM-6/multi-area-model{' at ' + commit if commit else ''} (CC BY-NC-SA 4.0): "
                  f"numbers from its own code (MultiAreaModel, label {export['label']}), "
                  f"imported by python -m pd14_pynn.mam --state {args.state}")
        description = description_from_export(export, args.areas, args.replace, args.state,
                                              source)
        if args.n_scaling is not None:
            description.scaling.N_scaling = args.n_scaling
        if args.k_scaling is not None:
            description.scaling.K_scaling = args.k_scaling
        mad.save(description, args.out)
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    n_pops = sum(len(a.populations) for a in description.areas.values())
    print(f"{args.out}: {len(description.areas)} areas, {n_pops} populations, "
          f"{description.total_neurons():,.0f} neurons and {description.total_synapses():.4g} "
          f"synapses at full scale ({args.state} state)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
