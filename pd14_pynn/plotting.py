"""Figures of a run: spike raster and per-population rate box plot; for several
areas, the area x population rate matrix, a raster of chosen areas and rate bars.

* :func:`raster`, :func:`rate_boxplot` -- one circuit.
* :func:`area_matrix` -- a heat map of one value per area and population (rates,
  or the validation's distance / band), missing populations hatched.
* :func:`area_raster` -- one raster panel per chosen area, its populations stacked.
* :func:`area_rate_bars` -- grouped bars of mean rates, for a few areas.

With :mod:`pd14_pynn.validation.figures`, the only modules of the package that
import matplotlib (with the non-interactive Agg backend, so they work on machines
without a display).
"""

import numpy as np

from .parameters import POPULATIONS

_COLOURS = {"E": "#595289", "I": "#af143c"}


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _ordered(names):
    """Population names in PD14 order (L23E first), unknown names after them."""
    return [n for n in POPULATIONS if n in names] + [n for n in names if n not in POPULATIONS]


def _raster_panel(ax, spikes, t_start_ms, t_stop_ms, max_neurons):
    """Draw the first ``max_neurons`` neurons (by index) of each population in
    ``spikes`` (name -> PopulationSpikes) on ``ax``, L23E on top."""
    offset, ticks = 0, []
    for name in reversed(_ordered(list(spikes))):
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


def raster(spikes, path, t_start_ms, t_stop_ms, max_neurons=200, title=""):
    """Raster of up to ``max_neurons`` per population (population-size ordered, L23 on top).

    ``spikes``: dict population -> :class:`pd14_pynn.spike_tables.PopulationSpikes`.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 6))
    _raster_panel(ax, spikes, t_start_ms, t_stop_ms, max_neurons)
    ax.set_title(title or f"spikes of up to {max_neurons} neurons per population")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def area_raster(spikes_by_area, path, t_start_ms, t_stop_ms, max_neurons=100, title=""):
    """One raster panel per area (side by side, in the given order), each with the
    first ``max_neurons`` neurons (by index) of its populations, L23E on top, over
    ``[t_start_ms, t_stop_ms)`` (ms).

    ``spikes_by_area``: dict area -> dict population -> PopulationSpikes (an area
    may lack populations, e.g. TH without L4).
    """
    plt = _pyplot()
    n = len(spikes_by_area)
    fig, axes = plt.subplots(1, n, figsize=(1.5 + 3.6 * n, 6), squeeze=False)
    for ax, (area, spikes) in zip(axes[0], spikes_by_area.items()):
        _raster_panel(ax, spikes, t_start_ms, t_stop_ms, max_neurons)
        ax.set_title(area)
    fig.suptitle(title or f"spikes of up to {max_neurons} neurons per population")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def rate_boxplot(rates, path, title=""):
    """Box plot of per-neuron rates (1/s) per population; ``rates``: dict name -> array."""
    plt = _pyplot()
    names = _ordered(list(rates))
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


def _matrix_norm(values, scale, vmin, vmax, centre):
    """The colour normalisation of a matrix figure (see :func:`draw_area_matrix`)."""
    from matplotlib import colors
    finite = values[np.isfinite(values)]
    if scale == "log":
        positive = finite[finite > 0]
        low = vmin if vmin is not None else (positive.min() if positive.size else 0.01)
        high = vmax if vmax is not None else (positive.max() if positive.size else 1.0)
        return colors.LogNorm(low, max(high, low * 10))
    if scale != "linear":
        raise ValueError(f"scale must be 'linear' or 'log', got {scale!r}")
    low = vmin if vmin is not None else (finite.min() if finite.size else 0.0)
    high = vmax if vmax is not None else (finite.max() if finite.size else 1.0)
    if centre is not None:
        # a diverging scale around ``centre`` (e.g. distance / band = 1)
        low, high = min(low, centre - 1e-9), max(high, centre + 1e-9)
        return colors.TwoSlopeNorm(centre, low, high)
    return colors.Normalize(low, high if high > low else low + 1.0)


def _short(value):
    """A value for a small matrix cell: 2 significant digits, no exponent below 1e5."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2g}"


def draw_area_matrix(ax, matrix, areas, populations, *, absent=None, scale="linear",
                     vmin=None, vmax=None, centre=None, cmap="viridis", outline=None,
                     annotate=True, value_format=None):
    """Draw a heat map of ``matrix`` (rows ``areas`` top to bottom, columns
    ``populations``) on ``ax``; returns the image, for a colour bar.

    ``absent`` (bool matrix): populations an area does not have (e.g. TH's L4),
    drawn hatched, never coloured; other NaN cells (no value, e.g. an undecided
    verdict) are light grey with "n/a". ``scale``: "linear" or "log" (values at
    or below zero, or below ``vmin``, take the colour bar's lowest colour: the
    bar shows an arrow). ``centre``: a diverging colour scale around this value.
    ``outline`` (bool matrix): cells framed in black (e.g. failing verdicts).
    ``annotate``: each value written in its cell, with ``value_format`` (a
    function of the value; default two significant digits, whole numbers from 100).
    """
    from matplotlib import colormaps
    from matplotlib.patches import Rectangle
    values = np.asarray(matrix, dtype=float)
    absent = np.zeros(values.shape, bool) if absent is None else np.asarray(absent, bool)
    norm = _matrix_norm(np.where(absent, np.nan, values), scale, vmin, vmax, centre)
    base = colormaps[cmap]
    # NaN cells transparent (hatched or grey patches below them); below the scale: its end
    colour_map = base.with_extremes(bad=(0, 0, 0, 0), under=base(0.0))
    shown = np.ma.masked_invalid(np.where(absent, np.nan, values))
    if scale == "log":
        # LogNorm masks values <= 0; a silent population is "below the scale", not missing
        shown = np.ma.masked_where(shown.mask, np.maximum(shown.filled(1.0), norm.vmin * 1e-3))
    image = ax.imshow(shown, cmap=colour_map, norm=norm, aspect="auto",
                      interpolation="nearest")
    small = 7 if len(areas) <= 16 else 6
    for (row, column), value in np.ndenumerate(values):
        if absent[row, column]:
            ax.add_patch(Rectangle((column - 0.5, row - 0.5), 1, 1, facecolor="white",
                                   edgecolor="0.6", hatch="////", linewidth=0, zorder=0))
        elif not np.isfinite(value):
            ax.add_patch(Rectangle((column - 0.5, row - 0.5), 1, 1, facecolor="0.88",
                                   zorder=0))
            if annotate:
                ax.text(column, row, "n/a", ha="center", va="center", fontsize=small - 1,
                        color="0.35")
        elif annotate:
            red, green, blue, _ = colour_map(norm(max(value, norm.vmin)))
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
            ax.text(column, row, (value_format or _short)(value), ha="center", va="center",
                    fontsize=small, color="white" if dark else "black")
        if outline is not None and outline[row][column]:
            ax.add_patch(Rectangle((column - 0.47, row - 0.47), 0.94, 0.94, fill=False,
                                   edgecolor="black", linewidth=1.4))
    ax.set_xticks(range(len(populations)), populations, fontsize=8, rotation=45, ha="right")
    ax.set_yticks(range(len(areas)), areas, fontsize=small + 1)
    ax.set_xlim(-0.5, len(populations) - 0.5)
    ax.set_ylim(len(areas) - 0.5, -0.5)
    return image


def area_matrix(matrix, areas, populations, path, label, title="", **options):
    """Heat map of one value per area and population, written to ``path`` (PNG).

    ``matrix``: ``len(areas) x len(populations)`` (NaN where no value); ``label``:
    the colour bar's label, with its unit (e.g. "mean firing rate (1/s)");
    ``options``: those of :func:`draw_area_matrix` (``absent``, ``scale``,
    ``vmin``, ``vmax``, ``centre``, ``cmap``, ``outline``, ``annotate``,
    ``value_format``). Sized to stay readable at 32 areas x 8 populations.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(2.2 + 0.75 * len(populations),
                                    max(3.0, 1.4 + 0.3 * len(areas))))
    image = draw_area_matrix(ax, matrix, areas, populations, **options)
    extend = "min" if options.get("scale") == "log" or options.get("vmin") is not None \
        else "neither"
    fig.colorbar(image, ax=ax, label=label, extend=extend, fraction=0.08, pad=0.03)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


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
