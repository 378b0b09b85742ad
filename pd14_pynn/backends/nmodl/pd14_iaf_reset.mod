COMMENT
Threshold, spike and refractory clamp of the model's integrate-and-fire neuron,
for NEURON and CoreNEURON (pd14_pynn.backends.neuron_coreneuron).

When v rises above vthresh the mechanism emits a spike at that time and
switches on a clamp conductance gclamp towards vreset for trefrac ms; the
first time step under the clamp brings v to vreset. v is never assigned
here: CoreNEURON does not write a point process's v back from NET_RECEIVE.
Written for pd14-pynn; the same spikes as PyNN's IF_curr_exp on NEURON's
fixed-step method (tests/test_neuron_engines.py).
ENDCOMMENT

NEURON {
    THREADSAFE
    POINT_PROCESS Pd14IafReset
    RANGE vthresh, vreset, trefrac, gclamp
    NONSPECIFIC_CURRENT i
}

UNITS {
    (mV) = (millivolt)
    (nA) = (nanoamp)
    (uS) = (microsiemens)
}

PARAMETER {
    vthresh = -50 (mV)
    vreset = -65 (mV)
    trefrac = 2 (ms)
    gclamp = 1e12 (uS)
}

ASSIGNED {
    v (mV)
    i (nA)
    g (uS)
}

INITIAL {
    g = 0
    : arm the threshold watch once the run starts (flag 3)
    net_send(0, 3)
}

BREAKPOINT {
    i = g * (v - vreset)
}

NET_RECEIVE (w) {
    if (flag == 1) {
        : threshold crossed: spike now, clamp to vreset until the end of trefrac
        net_event(t)
        g = gclamp
        net_send(trefrac, 2)
    } else if (flag == 2) {
        g = 0
    } else if (flag == 3) {
        WATCH (v > vthresh) 1
    }
}
