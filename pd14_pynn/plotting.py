"""Figures of a run: spike raster and per-population rate box plot.

The only module of the package that imports matplotlib (with the non-interactive
Agg backend, so it works on machines without a display).
"""

import numpy as np

from .parameters import POPULATIONS

_COLOURS = {"E": "#595289", "I": "#af143c"}


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def raster(spikes, path, t_start_ms, t_stop_ms, max_neurons=200, title=""):
    """Raster of up to ``max_neurons`` per population (population-size ordered, L23 on top).

    ``spikes``: dict population -> :class:`pd14_pynn.spike_tables.PopulationSpikes`.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 6))
    names = [n for n in POPULATIONS if n in spikes] + [n for n in spikes if n not in POPULATIONS]
    offset, ticks = 0, []
    for name in reversed(names):
        population = spikes[name]
        shown = min(max_neurons, population.size)
        keep = ((population.index < shown) & (population.times_ms >= t_start_ms)
                & (population.times_ms < t_stop_ms))
        ax.plot(population.times_ms[keep], offset + population.index[keep], ".", ms=1,
                color=_COLOURS.get(name[-1], "k"))
        ticks.append((offset + shown / 2, name))
        offset += shown + 10
    ax.set_yticks([t for t, _ in ticks], [n for _, n in ticks])
    ax.set_xlim(t_start_ms, t_stop_ms)
    ax.set_ylim(-5, offset)
    ax.set_xlabel("time (ms)")
    ax.set_title(title or f"spikes of up to {max_neurons} neurons per population")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def rate_boxplot(rates, path, title=""):
    """Box plot of per-neuron rates (1/s) per population; ``rates``: dict name -> array."""
    plt = _pyplot()
    names = [n for n in POPULATIONS if n in rates] + [n for n in rates if n not in POPULATIONS]
    fig, ax = plt.subplots(figsize=(6, 5))
    box = ax.boxplot([rates[n] for n in reversed(names)], vert=False, patch_artist=True,
                     showmeans=True, flierprops={"markersize": 2})
    for patch, name in zip(box["boxes"], reversed(names)):
        patch.set_facecolor(_COLOURS.get(name[-1], "grey"))
        patch.set_alpha(0.6)
    ax.set_yticks(range(1, len(names) + 1), list(reversed(names)))
    ax.set_xlabel("firing rate (1/s)")
    ax.set_title(title or "time-averaged rates per neuron (triangle: mean)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def area_rate_bars(rates, path, reference=None, title=""):
    """Grouped bar chart of mean rates (1/s): one group per population, one bar per area.

    ``rates``: dict area -> dict population -> mean rate (1/s); ``reference``
    (optional): dict population -> rate (1/s), drawn as a black tick over each
    group (e.g. the full-scale reference rates).
    """
    plt = _pyplot()
    areas = list(rates)
    names = [n for n in POPULATIONS if any(n in rates[a] for a in areas)]
    x = np.arange(len(names))
    width = 0.8 / max(len(areas), 1)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colours = plt.get_cmap("tab10")
    for k, area in enumerate(areas):
        values = [rates[area].get(n, np.nan) for n in names]
        ax.bar(x - 0.4 + (k + 0.5) * width, values, width, label=area, color=colours(k % 10))
    if reference:
        ref = [reference.get(n, np.nan) for n in names]
        ax.hlines(ref, x - 0.45, x + 0.45, colors="k", linewidth=1.5,
                  label="reference (full scale)")
    ax.set_xticks(x, names)
    ax.set_ylabel("mean firing rate (1/s)")
    # below the axes, so the legend never hides a bar
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.08),
              ncol=len(areas) + bool(reference))
    ax.set_title(title or "mean rate per area and population")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
