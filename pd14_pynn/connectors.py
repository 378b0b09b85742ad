"""A PyNN connector for the model's fixed-total-number projections.

:class:`FixedTotalNumberNormal` is an ordinary ``pyNN.connectors.Connector``:
the model creates ``sim.Projection(pre, post, FixedTotalNumberNormal(spec), ...)``
and never touches a simulator. How the connections are made is decided when
the projection connects:

* a backend module (``pd14_pynn.backends.<name>``) may register a *fast path*
  for its simulator with :func:`register_fast_path`; it builds exactly the
  network that :class:`~pd14_pynn.connectivity.ProjectionSpec` describes,
  with the simulator's native bulk operations;
* otherwise (``pyNN.mock``, or ``fast=False``) the *generic path* draws the
  arrays with numpy and hands them to PyNN's ``_convergent_connect`` target by
  target, as PyNN's own connectors do.
"""

import numpy as np
from pyNN.connectors import Connector
from pyNN.parameters import ParameterSpace

from .connectivity import draw_connections

_FAST_PATHS = {}


def register_fast_path(simulator_module_name, function):
    """Use ``function(connector, projection)`` to connect on that simulator.

    ``simulator_module_name`` is the ``__name__`` of the PyNN backend's
    ``simulator`` module, e.g. ``"pyNN.nest.simulator"``.
    """
    _FAST_PATHS[simulator_module_name] = function


def fast_path_for(projection):
    """The registered fast path for the projection's simulator, or None."""
    return _FAST_PATHS.get(projection._simulator.__name__)


class FixedTotalNumberNormal(Connector):
    """Exactly ``spec.n_synapses`` connections, sources and targets drawn with replacement.

    Weights (pA in the spec; PyNN's nA on the projection) and delays (ms) are
    normal, redrawn outside their allowed range, delays on the time grid.
    ``fast=False`` forces the generic PyNN path (for comparisons and tests).
    ``rng="numpy"`` asks fast paths that would draw with the simulator's own RNG
    (NEST) to build the numpy-drawn network instead, the one every other path
    builds for the same spec. ``callback`` is called with the fraction done, as
    for PyNN connectors.
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
        fast = fast_path_for(projection) if self.fast else None
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
