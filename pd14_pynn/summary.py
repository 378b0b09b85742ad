"""Summary of a finished run: the rate table, rates.json, figures, console lines.

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


def write_summary(block, simulator, params, out_dir):
    """Write ``rates.json`` and the figures of a run's ``block`` into ``out_dir``;
    returns ``(summary, by_area)`` (see :func:`rate_summary`, :func:`by_area`)."""
    t_presim, t_sim = params["t_presim_ms"], params["t_sim_ms"]
    spikes = spike_tables.spike_table(block)
    window = (t_presim, t_presim + t_sim)
    summary, rates = rate_summary(spikes, window)
    areas = by_area(summary)
    storage.write_json(os.path.join(out_dir, "rates.json"),
                       {"window_ms": window, "populations": summary,
                        **({"areas": areas} if areas else {})})
    figures(simulator, params, spikes, rates, areas, out_dir)
    return summary, areas


def by_area(summary):
    """{area: {population: row}} for keys "area/population"; {} for a single circuit."""
    areas = {}
    for key, row in summary.items():
        area, _, name = key.rpartition("/")
        if area:
            areas.setdefault(area, {})[name] = row
    return {area: {n: rows[n] for n in POPULATIONS if n in rows} for area, rows in areas.items()}


def figures(simulator, params, spikes, rates, areas, out_dir):
    """The run's figures: a raster of the last 200 ms and per-neuron rate boxplots
    (one circuit), or rate bars per area and population (several areas)."""
    from . import plotting
    t_presim, t_sim = params["t_presim_ms"], params["t_sim_ms"]
    scale = f"{simulator}, N={params['N_scaling']:g}, K={params['K_scaling']:g}"
    if areas:
        plotting.area_rate_bars(
            {area: {n: row["mean_hz"] for n, row in rows.items()}
             for area, rows in areas.items()},
            os.path.join(out_dir, "rates_by_area.png"),
            reference=dict(zip(POPULATIONS, params["full_mean_rates_hz"])),
            title=f"{scale}, {len(areas)} areas")
        return
    plotting.raster(spikes, os.path.join(out_dir, "raster.png"),
                    max(t_presim, t_presim + t_sim - 200.0), t_presim + t_sim,
                    title=f"{scale}, {params['background']} background")
    plotting.rate_boxplot(rates, os.path.join(out_dir, "rates_boxplot.png"),
                          title=f"rates per neuron, {simulator}")


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
