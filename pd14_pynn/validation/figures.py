"""Figures of the validation report.

* :func:`simulator_colours` -- one fixed colour per simulator.
* :func:`raster_snippet` -- a small raster of one run.
* :func:`rate_boxplots` -- per-neuron rates, one box per run, one panel per population.
* :func:`ecdf_grid` -- empirical CDFs of one statistic, one line per run, one panel per
  population.
* :func:`response_psths` -- PSTHs around the thalamic pulse, trials thin, means bold.
* :func:`linestyles` -- line styles that tell apart the runs of one simulator.
* :func:`area_maps` -- runs with areas: area x population maps of distance / band
  per simulator pair, and of the seed-to-seed band (the report's tables do not
  read at 254 populations); :func:`map_matrices` -- the data they are drawn from.

Every function writes PNGs and returns their paths. Matplotlib runs with the Agg
backend, so the report can be built on machines without a display. With
:mod:`pd14_pynn.plotting` (whose heat map the area maps draw), the only modules
of the package that import matplotlib.
"""

import math
import os
import re

import numpy as np

_KNOWN_COLOURS = {"nest": "#1f77b4", "neuron": "#2ca02c", "brian2": "#d62728"}
_OTHER_COLOURS = ("#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f")
_LINESTYLES = ("-", "--", ":", "-.")
_DPI = 100


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def simulator_colours(simulators):
    """``{simulator: colour}``: fixed colours for nest, neuron and brian2, others in turn."""
    others = iter(_OTHER_COLOURS * (1 + len(simulators) // len(_OTHER_COLOURS)))
    return {sim: _KNOWN_COLOURS.get(sim) or next(others) for sim in simulators}


def _panel_grid(plt, n_panels, width=3.0, height=2.4):
    n_cols = min(4, n_panels)
    n_rows = math.ceil(n_panels / n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(width * n_cols, height * n_rows),
                             squeeze=False)
    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    return fig, axes.flat


def _save(plt, fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


def raster_snippet(spikes, path, t_start, t_stop, colour="k", title=""):
    """Raster of ``spikes`` (``{population: [spike times, ms]}``) in ``[t_start, t_stop)`` (ms).

    Populations are drawn top to bottom in the given order, every given train
    on its own row; pass only the few neurons per population to show.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.0, 3.4))
    row, ticks = 0, []
    for name, trains in reversed(list(spikes.items())):
        for i, times in enumerate(trains):
            times = np.asarray(times, dtype=float)
            shown = times[(times >= t_start) & (times < t_stop)]
            ax.plot(shown, np.full(shown.size, row + i), "|", ms=2.5, color=colour)
        ticks.append((row + len(trains) / 2, name))
        row += len(trains) + 3
    ax.set_yticks([position for position, _ in ticks], [name for _, name in ticks],
                  fontsize=7)
    ax.set_xlim(t_start, t_stop)
    ax.set_ylim(-2, row)
    ax.set_xlabel("time (ms)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(title, fontsize=9)
    return _save(plt, fig, path)


def rate_boxplots(rates, run_names, run_colours, path):
    """Box plots of per-neuron rates (1/s): one panel per population, one box per run.

    ``rates``: ``{population: [array per run]}``, runs in the order of
    ``run_names`` and ``run_colours``.
    """
    plt = _pyplot()
    fig, axes = _panel_grid(plt, len(rates), height=2.6)
    for ax, (name, per_run) in zip(axes, rates.items()):
        box = ax.boxplot(list(per_run), patch_artist=True, showmeans=True,
                         flierprops={"markersize": 1.5},
                         meanprops={"markersize": 4, "markerfacecolor": "white"})
        for patch, colour in zip(box["boxes"], run_colours):
            patch.set_facecolor(colour)
            patch.set_alpha(0.55)
        ax.set_xticks(range(1, len(run_names) + 1), run_names, rotation=35, ha="right",
                      fontsize=6)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("rate (1/s)", fontsize=7)
    fig.suptitle("time-averaged rate per neuron (box: quartiles, triangle: mean)", fontsize=10)
    return _save(plt, fig, path)


def ecdf_grid(samples, run_names, run_colours, run_linestyles, xlabel, path, title=""):
    """Empirical CDFs of one statistic: one panel per population, one step line per run.

    ``samples``: ``{population: [array per run]}``. ``run_linestyles`` tell apart
    runs of one simulator (which share a colour). A run with an empty sample
    draws no line and is named in its panel, so a missing line is not mistaken
    for one hidden under another.
    """
    from matplotlib.lines import Line2D
    plt = _pyplot()
    fig, axes = _panel_grid(plt, len(samples))
    for ax, (name, per_run) in zip(axes, samples.items()):
        empty = []
        for sample, run_name, colour, style in zip(per_run, run_names, run_colours,
                                                   run_linestyles):
            values = np.sort(np.asarray(sample, dtype=float))
            if values.size == 0:
                empty.append(run_name)
                continue
            fraction = np.arange(1, values.size + 1) / values.size
            ax.step(np.concatenate([[values[0]], values]), np.concatenate([[0.0], fraction]),
                    where="post", color=colour, ls=style, lw=1.1)
        if empty:
            ax.text(0.02, 0.97, "no values:\n" + "\n".join(empty), transform=ax.transAxes,
                    va="top", fontsize=6, color="0.35")
        ax.set_title(name, fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.tick_params(labelsize=7)
        ax.set_xlabel(xlabel, fontsize=7)
    handles = [Line2D([], [], color=colour, ls=style, lw=1.1)
               for colour, style in zip(run_colours, run_linestyles)]
    fig.legend(handles, list(run_names), loc="lower center", ncol=min(6, len(run_names)),
               fontsize=7, frameon=False)
    fig.suptitle(title or f"empirical CDF: {xlabel}", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


def linestyles(run_simulators):
    """A line style per run that tells apart the runs of one simulator (same colour)."""
    seen, styles = {}, []
    for simulator in run_simulators:
        count = seen.get(simulator, 0)
        styles.append(_LINESTYLES[count % len(_LINESTYLES)])
        seen[simulator] = count + 1
    return styles


def response_psths(trials, pulse_start_ms, pulse_stop_ms, path, title="", zoom_ms=(-20.0, 50.0)):
    """PSTHs around the thalamic pulse: one panel per population, one colour per
    simulator, each trial a thin line and the trial mean bold; the pulse shaded.
    The axis shows ``zoom_ms`` around the onset (the response lasts ~10 ms; the
    statistics use the whole PSTH window).

    ``trials``: ``{simulator: [population_responses of one run, ...]}`` as
    returned by :func:`pd14_pynn.validation.response.population_responses`.
    """
    from matplotlib.lines import Line2D
    plt = _pyplot()
    colours = simulator_colours(list(trials))
    populations = [key for key in next(iter(trials.values()))[0]]
    fig, axes = _panel_grid(plt, len(populations), width=3.2, height=2.4)
    for ax, key in zip(axes, populations):
        for simulator, runs in trials.items():
            rates = np.array([run[key]["rate_hz"] for run in runs])
            edges = np.asarray(runs[0][key]["edges_ms"])
            for rate in rates:
                ax.step(edges[:-1], rate, where="post", color=colours[simulator], lw=0.3,
                        alpha=0.4)
            ax.step(edges[:-1], rates.mean(axis=0), where="post", color=colours[simulator],
                    lw=1.4)
        ax.axvspan(pulse_start_ms, pulse_stop_ms, color="0.85", zorder=0)
        if zoom_ms is not None:
            ax.set_xlim(pulse_start_ms + zoom_ms[0], pulse_start_ms + zoom_ms[1])
        ax.set_title(key, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("time (ms)", fontsize=7)
        ax.set_ylabel("rate (1/s per neuron)", fontsize=7)
    handles = [Line2D([], [], color=colours[sim], lw=1.4) for sim in trials]
    labels = [f"{sim} ({len(runs)} trials)" for sim, runs in trials.items()]
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=7, frameon=False)
    fig.suptitle(title or "PSTH around the thalamic pulse (1 ms bins; thin: trials, "
                 "bold: mean; pulse shaded)", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


#: the statistics of an area map's panels, in order (those of the report)
_MAP_STATISTICS = ("rate", "cv", "cc")
#: distance / band at which the map's colour scale ends (larger values: its end colour)
_MAP_RATIO_MAX = 3.0


def has_areas(populations):
    """True if the report's populations are keyed "area/population"."""
    return any("/" in name for name in populations)


def map_matrices(cells, populations, value):
    """The data of an area map: ``{statistic: (areas, populations, matrix, absent,
    failing)}`` with ``matrix`` the value of each cell (``value(cell)``; NaN where
    there is none), ``absent`` True where an area lacks the population (see
    :func:`pd14_pynn.summary.area_population_matrix`) and ``failing`` True where
    the cell's verdict is "fail". ``cells``: ``{"area/population": {statistic:
    cell}}`` as in the report's summary; ``populations``: the report's."""
    from pd14_pynn.summary import area_population_matrix
    data = {}
    for statistic in _MAP_STATISTICS:
        values, fails = {}, {}
        for name in populations:
            cell = cells.get(name, {}).get(statistic)
            values[name] = float("nan") if cell is None else value(cell)
            fails[name] = float(cell is not None and cell.get("verdict") == "fail")
        areas, columns, matrix, absent = area_population_matrix(values)
        failing = area_population_matrix(fails)[2] == 1.0
        data[statistic] = (areas, columns, matrix, absent, failing)
    return data


def _map_figure(plt, n_areas):
    n_columns = len(_MAP_STATISTICS)
    fig, axes = plt.subplots(1, n_columns, figsize=(1.5 + 5.2 * n_columns,
                                                    max(3.2, 1.8 + 0.3 * n_areas)),
                             squeeze=False, layout="constrained")
    return fig, list(axes[0])


def _ratio(cell):
    distance, band = cell.get("ks"), cell.get("band_ks")
    if distance is None or band is None or not band > 0:
        return float("nan")
    return distance / band


def area_maps(summary, out_dir):
    """Area x population maps of a report whose populations have areas.

    One PNG per pair of simulators, ``area_map_<b>_vs_<a>.png``: per statistic, the
    mean cross-simulator KS distance over the seed-to-seed band (> 1: fail, framed;
    averaged over neuron samples for the CC); and ``area_map_band.png``: the band
    (KS) of the baseline simulator. Missing populations (TH without L4) are
    hatched, undecided cells grey. Returns ``{"area_maps": [(path, caption), ...],
    "band_map": (path, caption)}``, or ``{}`` where the populations have no areas.
    """
    from pd14_pynn import plotting
    populations = summary["populations"]
    if not has_areas(populations):
        return {}
    plt = _pyplot()
    n_areas = len({name.rpartition("/")[0] for name in populations})
    made = {"area_maps": []}
    for comparison in summary["comparisons"]:
        a, b = comparison["simulators"]
        fig, axes = _map_figure(plt, n_areas)
        data = map_matrices(comparison["cells"], populations, _ratio)
        for ax, (statistic, (names, columns, matrix, absent, failing)) in zip(axes,
                                                                             data.items()):
            image = plotting.draw_area_matrix(
                ax, matrix, names, columns, absent=absent, centre=1.0, vmin=0.0,
                vmax=_MAP_RATIO_MAX, cmap="RdBu_r", outline=failing,
                value_format="{:.2f}".format)  # 2 decimals: 1.00 passes, 1.01 fails
            ax.set_title(f"{statistic}: KS / band", fontsize=10)
        fig.colorbar(image, ax=axes, extend="max", fraction=0.03, pad=0.02,
                     label="KS distance / band (> 1: fail)")
        fig.suptitle(f"{b} vs {a} (band: {comparison['baseline_simulator']} seeds); "
                     f"framed: fail, hatched: no such population, grey: undecided")
        # "nest[numpy-net]" -> "nest-numpy-net": brackets break Markdown image links
        safe = re.sub(r"[^A-Za-z0-9_.]+", "-", f"{b}_vs_{a}").strip("-")
        path = os.path.join(out_dir, f"area_map_{safe}.png")
        fig.savefig(path, dpi=_DPI)
        plt.close(fig)
        made["area_maps"].append((path, f"{b} vs {a}: KS distance / band per area and "
                                        f"population"))
    reference_sim = summary["settings"]["reference_sim"]
    band_cells = summary["baselines"].get(reference_sim, {})
    fig, axes = _map_figure(plt, n_areas)
    data = map_matrices(band_cells, populations, lambda cell: _none_as_nan(cell.get("ks_max")))
    for ax, (statistic, (names, columns, matrix, absent, _)) in zip(axes, data.items()):
        image = plotting.draw_area_matrix(ax, matrix, names, columns, absent=absent,
                                          vmin=0.0, vmax=1.0, cmap="viridis",
                                          value_format="{:.2f}".format)
        ax.set_title(f"{statistic}: band (KS)", fontsize=10)
    fig.colorbar(image, ax=axes, fraction=0.03, pad=0.02, label="band: KS, 0 to 1")
    fig.suptitle(f"seed-to-seed band of {reference_sim}; hatched: no such population, "
                 f"grey: undecided")
    path = os.path.join(out_dir, "area_map_band.png")
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    made["band_map"] = (path, f"seed-to-seed band of {reference_sim} per area and population")
    return made


def _none_as_nan(value):
    return float("nan") if value is None else float(value)
