"""A PyNN connector for the model's fixed-total-number projections.

:class:`FixedTotalNumberNormal` is an ordinary ``pyNN.connectors.Connector``:
the model creates ``sim.Projection(pre, post, FixedTotalNumberNormal(spec), ...)``
and never touches a simulator. How the connections are made is decided when
the projection connects:

* a backend (``pd14_pynn.backends.<name>``) may have a *fast path* for its
  simulator (``FastPaths.connect``); it builds exactly the network that
  :class:`~pd14_pynn.connectivity.ProjectionSpec` describes, with the
  simulator's native bulk operations;
* otherwise (``pyNN.mock``, or ``fast=False``) the *generic path* draws the
  arrays with numpy and hands them to PyNN's ``_convergent_connect`` target by
  target, as PyNN's own connectors do.

:func:`projection` is the one place where the model's projections are made
(recurrent, thalamic and inter-area alike), so every projection follows the
same ``connectivity_rng`` and the same saved network.
"""

import numpy as np
from pyNN.connectors import Connector
from pyNN.parameters import ParameterSpace

from .backends import FastPaths, choose_fast_path, resolve_fast_paths
from .connectivity import draw_connections


class FixedTotalNumberNormal(Connector):
    """Exactly ``spec.n_synapses`` connections, sources and targets drawn with replacement.

    Weights (pA in the spec; PyNN's nA on the projection) and delays (ms) are
    normal, redrawn outside their allowed range, delays on the time grid.
    ``fast=False`` forces the generic PyNN path (for comparisons and tests).
    ``rng="numpy"`` asks fast paths that would draw with the simulator's own RNG
    (NEST) to build the numpy-drawn network instead, the one every other path
    builds for the same spec. ``callback`` is called with the fraction done, as
    for PyNN connectors.

    ``fast``: True (the fast path of the projection's backend, if any), False
    (PyNN's generic path) or the fast path itself, ``connect(connector, projection)``.
    """
    parameter_names = ("spec",)

    def __init__(self, spec, fast=True, callback=None, rng="native"):
        super().__init__(safe=False, callback=callback)
        if rng not in ("native", "numpy"):
            raise ValueError(f"rng must be 'native' or 'numpy', got {rng!r}")
        self.spec = spec
        self.fast = fast
        self.rng = rng

    def connect(self, projection):
        fast = choose_fast_path(self.fast, projection._simulator, "connect")
        if fast is not None:
            fast(self, projection)
        else:
            self.connect_generic(projection)

    def draw(self, projection, local_only=True):
        """The projection's connections as numpy arrays (indices, pA, ms)."""
        mask = projection.post._mask_local if local_only else None
        return draw_connections(self.spec, projection.pre.size, projection.post.size, mask)

    def connect_generic(self, projection):
        """PyNN's per-target path: slow, but works on any backend."""
        sources, targets, weights_pA, delays = self.draw(projection)
        order = np.argsort(targets, kind="stable")
        sources, targets = sources[order], targets[order]
        native = _native_parameters(projection, weights_pA[order] * 1e-3, delays[order])
        bounds = np.searchsorted(targets, np.arange(projection.post.size + 1))
        n_targets = projection.post.size
        for post_index in range(n_targets):
            lo, hi = bounds[post_index], bounds[post_index + 1]
            if hi > lo:
                projection._convergent_connect(
                    sources[lo:hi].astype(int), post_index,
                    **{name: value[lo:hi] for name, value in native.items()})
            if self.callback is not None and post_index % 1000 == 0:
                self.callback(post_index / n_targets)


class GivenConnections(FixedTotalNumberNormal):
    """Exactly the given connections (population indices, weights in pA, delays in ms).

    ``spec`` still gives the receptor type (sign of the weights) and the time
    grid; its counts and distributions are not used. Built with ``rng="numpy"``
    so that fast paths that would draw natively (NEST) connect the arrays of
    :meth:`draw` instead.
    """

    def __init__(self, spec, sources, targets, weights_pA, delays_ms, fast=True, callback=None):
        super().__init__(spec, fast=fast, callback=callback, rng="numpy")
        self.arrays = (np.asarray(sources), np.asarray(targets),
                       np.asarray(weights_pA, dtype=float), np.asarray(delays_ms, dtype=float))
        weights = self.arrays[2]
        wrong_sign = weights < 0 if spec.receptor_type == "excitatory" else weights > 0
        if wrong_sign.any():
            raise ValueError(f"{int(wrong_sign.sum())} given weights have the wrong sign for "
                             f"{spec.receptor_type} synapses")
        if (self.arrays[3] < spec.resolution_ms - 1e-9).any():
            raise ValueError(f"given delays below one time step ({spec.resolution_ms} ms)")

    def draw(self, projection, local_only=True):
        sources, targets, weights, delays = self.arrays
        for name, index, size in (("source", sources, projection.pre.size),
                                  ("target", targets, projection.post.size)):
            if index.size and (index.min() < 0 or index.max() >= size):
                raise ValueError(f"{projection.label}: given {name} indices outside "
                                 f"0..{size - 1}")
        if local_only:
            keep = np.asarray(projection.post._mask_local)[targets]
            return sources[keep], targets[keep], weights[keep], delays[keep]
        return sources, targets, weights, delays


def _native_parameters(projection, weights_nA, delays_ms):
    """Translate PyNN weight/delay arrays to the backend's native names and units."""
    space = ParameterSpace({"weight": weights_nA, "delay": delays_ms},
                           projection.synapse_type.get_schema(), shape=(len(weights_nA),))
    space = projection.synapse_type.translate(space)
    space.evaluate()
    # PyNN collapses length-1 arrays to scalars; multiplying (not np.broadcast_to)
    # keeps the units of Brian2 quantities
    return {name: value if np.ndim(value) else value * np.ones(len(weights_nA))
            for name, value in space.items()}


def projection(sim, pre, post, spec, label, rng="native", fast=True, given=None):
    """A ``sim.Projection`` of ``pre`` -> ``post`` with the connections of ``spec``.

    ``rng``: ``connectivity_rng`` ("native" or "numpy"); ``fast``: True (the
    backend's fast paths), False (PyNN's generic code), a
    :class:`~pd14_pynn.backends.FastPaths` (its ``projection`` and ``connect``),
    or a connect function as for :class:`FixedTotalNumberNormal`; ``given``:
    ``(sources, targets, weights_pA, delays_ms)`` to connect instead of drawing
    (a saved network). The synapse's weight (nA) and delay (ms) are the spec's
    means; the connector sets each connection's own.
    """
    if callable(fast):
        paths = FastPaths(connect=fast)
    else:
        paths = resolve_fast_paths(fast, sim)
    connect = paths.connect or False
    if given is not None:
        connector = GivenConnections(spec, *given, fast=connect)
    else:
        connector = FixedTotalNumberNormal(spec, fast=connect, rng=rng)
    synapse = sim.StaticSynapse(weight=spec.weight_mean_pA * 1e-3, delay=spec.delay_mean_ms)
    if paths.projection is not None:
        return paths.projection(sim, pre, post, connector, synapse, spec.receptor_type, label)
    return sim.Projection(pre, post, connector, synapse, receptor_type=spec.receptor_type,
                          label=label)
