"""Summary of a finished run: the rate table, rates.json, figures, console lines.

* :func:`write_summary` -- ``rates.json`` and the figures (:func:`figures`).
* :func:`rate_summary`, :func:`by_area` -- mean rates per population, per area.
* :func:`area_population_matrix` -- values keyed "area/population" as an area x
  population matrix, with the populations an area lacks marked.
* :func:`choose_raster_areas` -- the areas of the multi-area raster, checked.
* :func:`print_summary` -- the console table and timings.

Reads the spikes as arrays (:func:`pd14_pynn.spike_tables.spike_table`) and never
needs a simulator; :func:`write_summary` is the run's ``report`` phase.
"""

import os

import numpy as np

from . import spike_tables, storage
from .parameters import POPULATIONS

#: the timed phases of a run, in order (``timings.json``, the last console line)
PHASES = ("startup", "import", "setup", "create", "connect", "save_connectivity", "compile",
          "presimulate", "simulate", "save", "report")


def rate_summary(spikes, window_ms):
    """``(summary, rates)``: per population key, the mean and SD of the neurons'
    rates (1/s) over ``window_ms`` = (start, stop), the fraction of neurons that
    fired and their number; and the per-neuron rates themselves."""
    rates = {key: spike_tables.population_rates(spikes[key], *window_ms) for key in spikes}
    summary = {key: {"mean_hz": float(r.mean()), "std_hz": float(r.std()),
                     "active_fraction": float(np.mean(r > 0)), "n": int(r.size)}
               for key, r in rates.items()}
    return summary, rates


def write_summary(block, simulator, params, out_dir, raster_areas=None, reference_rates=None):
    """Write ``rates.json`` and the figures of a run's ``block`` into ``out_dir``;
    returns ``(summary, by_area)`` (see :func:`rate_summary`, :func:`by_area`).
    ``raster_areas``, ``reference_rates``: see :func:`figures`."""
    t_presim, t_sim = params["t_presim_ms"], params["t_sim_ms"]
    spikes = spike_tables.spike_table(block)
    window = (t_presim, t_presim + t_sim)
    summary, rates = rate_summary(spikes, window)
    areas = by_area(summary)
    storage.write_json(os.path.join(out_dir, "rates.json"),
                       {"window_ms": window, "populations": summary,
                        **({"areas": areas} if areas else {})})
    figures(simulator, params, spikes, rates, areas, out_dir, raster_areas=raster_areas,
            reference_rates=reference_rates)
    return summary, areas


def by_area(summary):
    """{area: {population: row}} for keys "area/population"; {} for a single circuit."""
    areas = {}
    for key, row in summary.items():
        area, _, name = key.rpartition("/")
        if area:
            areas.setdefault(area, {})[name] = row
    return {area: {n: rows[n] for n in POPULATIONS if n in rows} for area, rows in areas.items()}


def area_population_matrix(values, populations=POPULATIONS):
    """``(areas, populations, matrix, absent)`` of ``values`` keyed "area/population".

    ``areas``: in the order they first appear in ``values`` (the model's order);
    ``matrix``: one row per area, one column per population (float; NaN where
    there is no value); ``absent``: True where the area has no such population
    (e.g. TH without L4), so that a figure shows "missing", not 0.
    """
    areas = list(dict.fromkeys(key.rpartition("/")[0] for key in values))
    matrix = np.full((len(areas), len(populations)), np.nan)
    absent = np.ones(matrix.shape, bool)
    for key, value in values.items():
        area, _, name = key.rpartition("/")
        if name in populations:
            row, column = areas.index(area), populations.index(name)
            absent[row, column] = False
            matrix[row, column] = np.nan if value is None else float(value)
    return areas, list(populations), matrix, absent


#: areas in the raster of a multi-area run when none are asked for: the first ones
DEFAULT_RASTER_AREAS = 3
#: neurons per population in the raster of a multi-area run
RASTER_AREA_NEURONS = 100
#: areas up to which a multi-area run also gets the grouped bar chart of rates
MAX_AREAS_BARS = 4


def choose_raster_areas(model_areas, requested=None):
    """The areas of ``raster_areas.png``: ``requested`` (names, in that order), or the
    first :data:`DEFAULT_RASTER_AREAS` of ``model_areas``; raises ValueError naming
    an area the model does not have."""
    model_areas = list(model_areas)
    if requested is None:
        return model_areas[:DEFAULT_RASTER_AREAS]
    requested = list(dict.fromkeys(requested))
    unknown = [area for area in requested if area not in model_areas]
    if unknown or not requested:
        raise ValueError(
            f"raster areas {', '.join(map(repr, unknown)) or '(none given)'}: not areas of "
            f"this model; choose among {', '.join(model_areas)}")
    return requested


def figures(simulator, params, spikes, rates, areas, out_dir, raster_areas=None,
            reference_rates=None):
    """The run's figures. One circuit: a raster of the last 200 ms and per-neuron rate
    boxplots. Several areas: the area x population rate matrix (``rate_matrix.png``),
    a raster of ``raster_areas`` (names; default the first 3 of the model) over the
    last 200 ms (``raster_areas.png``), and for up to 4 areas rate bars per area and
    population (``rates_by_area.png``) with ``reference_rates`` (``{population:
    1/s}``, e.g. the model's full-scale rates; ``None``: no reference drawn)."""
    from . import plotting
    t_presim, t_sim = params["t_presim_ms"], params["t_sim_ms"]
    window = (max(t_presim, t_presim + t_sim - 200.0), t_presim + t_sim)
    scale = f"{simulator}, N={params['N_scaling']:g}, K={params['K_scaling']:g}"
    if not areas:
        plotting.raster(spikes, os.path.join(out_dir, "raster.png"), *window,
                        title=f"{scale}, {params['background']} background")
        plotting.rate_boxplot(rates, os.path.join(out_dir, "rates_boxplot.png"),
                              title=f"rates per neuron, {simulator}")
        return
    chosen = choose_raster_areas(areas, raster_areas)
    means = {f"{area}/{n}": row["mean_hz"] for area, rows in areas.items()
             for n, row in rows.items()}
    names, columns, matrix, absent = area_population_matrix(means)
    plotting.area_matrix(matrix, names, columns, os.path.join(out_dir, "rate_matrix.png"),
                         "mean firing rate (1/s)", absent=absent, scale="log", vmin=0.01,
                         vmax=max(50.0, float(np.nanmax(matrix, initial=0.0))),
                         title=f"{scale}, {len(areas)} areas: mean rate "
                               f"(hatched: no such population)")
    by_name = {}
    for key, table in spikes.items():
        area, _, name = key.rpartition("/")
        by_name.setdefault(area, {})[name] = table
    plotting.area_raster({area: by_name[area] for area in chosen},
                         os.path.join(out_dir, "raster_areas.png"), *window,
                         max_neurons=RASTER_AREA_NEURONS, title=f"{scale}, {params['background']} "
                         f"background, up to {RASTER_AREA_NEURONS} neurons per population")
    if len(areas) <= MAX_AREAS_BARS:
        plotting.area_rate_bars(
            {area: {n: row["mean_hz"] for n, row in rows.items()}
             for area, rows in areas.items()},
            os.path.join(out_dir, "rates_by_area.png"),
            reference=reference_rates,
            title=f"{scale}, {len(areas)} areas")


def print_summary(summary, timings, background_fractions=None):
    """The per-population rate table and the phase timings.

    Multi-area runs (keys "area/population") get an area column and, where
    ``background_fractions`` (area -> population -> fraction) is given and not
    empty, the background kept.
    """
    areas = any("/" in key for key in summary)
    header = "population   neurons   mean rate (1/s)   active"
    print("\n" + ("area  " if areas else "") + header
          + ("   background kept" if background_fractions else ""))
    for key, row in summary.items():
        area, _, name = key.rpartition("/")
        line = f"{name:<10} {row['n']:>9} {row['mean_hz']:>17.3f} " \
               f"{100 * row['active_fraction']:>7.1f}%"
        if areas:
            line = f"{area:<5} {line}"
        if background_fractions:
            line += f" {background_fractions[area][name]:>17.3f}"
        print(line)
    print("\n" + "  ".join(f"{p} {timings[p]:.1f} s" for p in (*PHASES, "other")
                           if p in timings)
          + f"  = total {timings['total']:.1f} s  (RTF {timings['rtf']:.2f}, "
          f"peak RSS {timings['peak_rss_bytes'] / 1e9:.2f} GB"
          + (f" + program {timings['peak_rss_program_bytes'] / 1e9:.2f} GB"
             if "peak_rss_program_bytes" in timings else "") + ")")
    for rank, row in enumerate(timings.get("ranks", ())):
        print(f"  rank {rank}: connect {row['connect']:.1f} s  simulate {row['simulate']:.1f} s  "
              f"peak RSS {row['peak_rss_bytes'] / 1e9:.2f} GB")
