"""Spike delivery of Brian2's ``cpp_standalone`` program split among OpenMP threads.

Brian2's own code for a ``Synapses`` pathway runs the loop over the spiking
synapses of a time step on one thread whenever the ``on_pre`` code writes the
target neuron's variable, as every current-based synapse does (two synapses may
share a target; brian-team/brian2 issue #539). Spike delivery is most of a step in
this model (80 % of the profiled time at N = K = 0.2), so two threads were barely
faster than one (docs/performance.md, "OpenMP, measured").

With :func:`code_object_class` the synapses of pd14_pynn's merged network use the
template in ``brian2_templates/synapses.cpp``: each thread delivers the spikes of
its own spike queue (Brian2 already splits the synapses among the threads' queues)
into a private copy of the target variable, then the copies are added to it, split
by neuron. This is right only for code that adds to the target (``x += weight``),
so it is used only there; the sum of a neuron's inputs of one step is added in
another order than in Brian2's template, so spikes with several threads are not
bit-identical to those of one thread (they never were: Brian2's threads already
reorder the inputs), but are the same from run to run for one number of threads.

``PD14_BRIAN2_OPENMP_DELIVERY=brian2`` keeps Brian2's template (for comparison).
"""

import os
import re

DELIVERY_ENV = "PD14_BRIAN2_OPENMP_DELIVERY"
_ADDITIVE = re.compile(r"^\s*\w+\s*\+=\s*weight\s*$")
_CLASS = None


def uses_threaded_delivery(session, on_pre):
    """Whether synapses with ``on_pre`` code get the threaded delivery in ``session``."""
    if session is None or session.device != "cpp_standalone" or session.threads <= 1:
        return False
    if os.environ.get(DELIVERY_ENV, "threads") == "brian2":
        return False
    return bool(_ADDITIVE.match(on_pre))


def code_object_class():
    """The standalone code object class whose ``synapses`` template is pd14_pynn's."""
    global _CLASS
    if _CLASS is None:
        from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject

        class ThreadedDeliveryCodeObject(CPPStandaloneCodeObject):
            templater = CPPStandaloneCodeObject.templater.derive(
                "pd14_pynn.backends", templates_dir="brian2_templates")

        _CLASS = ThreadedDeliveryCodeObject
    return _CLASS
