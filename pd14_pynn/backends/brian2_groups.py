"""Brian2 neuron groups for populations whose neurons share their parameters.

PyNN's Brian2 ``IF_curr_exp`` declares ``tau_m``, ``c_m``, ``v_rest``,
``tau_syn_e/i``, ``i_offset``, ``v_thresh`` and ``v_reset`` as one value per
neuron. Brian2's exact integrator then evaluates about a dozen ``exp()`` per
neuron and time step (the propagators depend on the per-neuron taus), and
solves the same linear system symbolically (sympy, ~1 s) once per population.
In this model every population is homogeneous, so :class:`SharedParameterGroup`
declares each parameter whose values are all equal as ``(constant, shared)``:
Brian2 then computes the propagators once per step, outside the neuron loop
(its loop-invariant optimisation), and :func:`exact_once` solves each distinct
system once per process.

To PyNN the group looks as before: ``population.get("tau_m")`` gives one value
per neuron; ``population.set(tau_m=...)`` accepts one value for all neurons and
refuses different values for different neurons with an error that says why.

Several populations with the same shared parameters live in one group
(:mod:`pd14_pynn.backends.brian2_network`); each is a :class:`MemberGroup`, a
Brian2 ``Subgroup`` that PyNN sees as its own group. ``i_offset`` (each
population's DC) stays one value per neuron there (``per_neuron``): the
generated update is ``A - (tau_m*i_inj + tau_m*i_offset)`` instead of
``(A - tau_m*i_offset) - tau_m*i_inj`` with the first part computed once, the
same number because ``i_inj`` is 0 in this model.
"""

import hashlib
import json
import os

import brian2
import numpy as np
from brian2.equations.equations import PARAMETER, SingleEquation
from brian2.groups.subgroup import Subgroup
from brian2.stateupdaters.exact import LinearStateUpdater
from pyNN.brian2.cells import BaseNeuronGroup

from . import BackendError
from .brian2_cache import cache_root

# PyNN's native names of the IF_curr_exp parameters that may be shared
SHAREABLE = ("c_m", "tau_m", "v_rest", "i_offset", "tau_syn_e", "tau_syn_i",
             "v_thresh", "v_reset")

_LINEAR = LinearStateUpdater()
_SOLVED = {}


def exact_once(equations, variables, method_options=None):
    """Brian2's exact (linear) integration, solved once per distinct system.

    The key is the equation text plus whether each name is shared or constant,
    which is all the solution depends on (the group's own names do not enter).
    Solutions are also kept on disk (:func:`solution_file`): sympy's Jordan form
    of IF_curr_exp's 3 x 3 system takes ~3 s, the largest part of a warm
    standalone run at N = K = 0.1; the text read back is the text sympy gave,
    so the generated code, and the spikes, are the same."""
    kinds = tuple(sorted((name, bool(getattr(var, "scalar", False)),
                          bool(getattr(var, "constant", False)))
                         for name, var in (variables or {}).items() if name in equations.names))
    key = (str(equations), kinds, repr(method_options))
    if key not in _SOLVED:
        _SOLVED[key] = _stored_solution(key, lambda: _LINEAR(equations, variables,
                                                             method_options))
    return _SOLVED[key]


def solution_file(key):
    """Disk file of the exact solution for ``key``, under the Brian2 cache folder.

    Brian2's and sympy's versions are part of the name: another sympy may
    write the same solution as other text."""
    import sympy
    text = repr((key, brian2.__version__, sympy.__version__))
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    return os.path.join(cache_root(), "exact_solutions", f"{digest}.json"), text


def _stored_solution(key, solve):
    """The stored solution for ``key``, or ``solve()``'s, then stored; a cache
    that cannot be read or written is skipped (the solution is computed)."""
    path, text = solution_file(key)
    try:
        with open(path) as handle:
            stored = json.load(handle)
        if stored.get("key") == text:
            return stored["code"]
    except (OSError, ValueError, AttributeError, KeyError):
        pass
    code = solve()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        partial = f"{path}.{os.getpid()}.tmp"
        with open(partial, "w") as handle:
            json.dump({"key": text, "code": code}, handle)
        os.replace(partial, path)  # whole or absent for a concurrent reader
    except OSError:
        pass
    return code


def homogeneous(values):
    """True when every element of ``values`` (array or Quantity) is the same."""
    array = np.asarray(values)
    return array.size > 0 and bool(np.all(array == array.flat[0]))


def shared_equations(equations, shared):
    """``equations`` (Brian2 ``Equations``) with each parameter in ``shared``
    declared ``(constant, shared)``."""
    rewritten = []
    for eq in equations.ordered:
        if eq.varname in shared and eq.type == PARAMETER:
            eq = SingleEquation(eq.type, eq.varname, eq.dim, var_type=eq.var_type,
                                flags=sorted(set(eq.flags) | {"constant", "shared"}))
        rewritten.append(eq)
    return brian2.Equations(rewritten)


class SharedReads:
    """Reads of a shared parameter (names in ``_pd14_shared``) give one value per
    neuron, as PyNN expects: for a whole group and for one population's part alike."""

    def __getattr__(self, name):
        value = super().__getattr__(name)
        if name in self.__dict__.get("_pd14_shared", ()):
            return SharedView(self, name, value)
        return value


class SharedParameterGroup(SharedReads, BaseNeuronGroup):
    """PyNN's threshold neuron group, with homogeneous parameters shared."""

    def __init__(self, n, equations, per_neuron=(), **parameters):
        equations = equations + ("v_thresh : volt (constant)\n"
                                 "v_reset : volt (constant)")
        shared = {name for name in SHAREABLE if name in parameters and name not in per_neuron
                  and homogeneous(parameters[name])}
        values = {name: (parameters[name][0] if name in shared else value)
                  for name, value in parameters.items()}
        self._pd14_shared = frozenset(shared)
        BaseNeuronGroup.__init__(self, n, shared_equations(equations, shared),
                                 "v > v_thresh", reset="v = v_reset",
                                 method=exact_once, **values)

    def __setattr__(self, name, value, level=0):
        if name in self.__dict__.get("_pd14_shared", ()) and np.ndim(value) > 0:
            value = one_value(self, name, value)
        super().__setattr__(name, value, level=level + 1)


def one_value(group, name, values):
    """The single value of ``values`` for shared parameter ``name``; refuse others."""
    if not homogeneous(values):
        raise BackendError(
            f"{name} of the Brian2 group {group.name} is one value shared by all its "
            f"neurons (this makes the simulation several times faster); got different "
            f"values. Set one value for the whole population, or build it with "
            f"pd14_pynn.populations.create(..., fast=False) for per-neuron values")
    return values[0]


class SharedView:
    """What PyNN sees of a shared parameter: one value per neuron."""

    def __init__(self, group, name, view):
        self._group, self._name, self._view = group, name, view

    @property
    def shape(self):
        return (len(self._group),)

    def _value(self):
        return self._view[:].reshape(-1)[0]

    def _all(self):
        return self._value() * np.ones(len(self._group))

    def __getitem__(self, index):
        return self._all()[index]

    def __setitem__(self, index, values):
        value = values if np.ndim(values) == 0 else one_value(self._group, self._name, values)
        if len(np.arange(len(self._group))[index]) < len(self._group):
            # the neurons not selected keep the current value: the new one must equal it
            one_value(self._group, self._name, [self._value(), value])
        setattr(self._group, self._name, value)

    def __len__(self):
        return len(self._group)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._all(), dtype=dtype)

    def __repr__(self):
        return f"<shared {self._name} of {self._group.name}: {self._value()!r}>"


class MemberGroup(SharedReads, Subgroup):
    """One population's neurons in a group shared with other populations.

    A Brian2 ``Subgroup`` that PyNN uses as the population's own group: shared
    parameters read as one value per neuron, and a new value for them is refused
    unless it is the value every population of the group has (it would change
    the others too)."""

    def __init__(self, parent, start, stop):
        self._pd14_shared = parent._pd14_shared
        self._pd14_parent = parent  # Subgroup keeps only a weak reference
        Subgroup.__init__(self, parent, start, stop)

    @property
    def tau_refrac(self):
        return self._pd14_parent.tau_refrac

    @tau_refrac.setter
    def tau_refrac(self, value):
        if not np.all(np.asarray(value) == np.asarray(self._pd14_parent.tau_refrac)):
            raise BackendError(_shared_message(self, "tau_refrac"))

    def __setattr__(self, name, value, level=0):
        if name in self.__dict__.get("_pd14_shared", ()):
            value = value if np.ndim(value) == 0 else one_value(self, name, value)
            current = getattr(self._pd14_parent, name)
            if len(self) < len(self._pd14_parent) and not np.all(
                    np.asarray(value) == np.asarray(current._value())):
                raise BackendError(_shared_message(self, name))
        super().__setattr__(name, value, level=level + 1)


def _shared_message(group, name):
    return (f"{name} is one value shared by every population in the Brian2 group "
            f"{group._pd14_parent.name} (populations with equal neuron parameters share "
            f"one group); a new value for one population would change the others. Create "
            f"the population with its own value of {name}, or build it with "
            f"pd14_pynn.populations.create(..., fast=False)")
