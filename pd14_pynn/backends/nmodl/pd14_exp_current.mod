COMMENT
Current-based synapse with an exponentially decaying current (tau, ms): each
event of weight w (nA) adds w to the injected current, which then decays with
time constant tau. THREADSAFE, and compiled for CoreNEURON alike
(pd14_pynn.backends.neuron_coreneuron). The sign convention follows NEURON's
NONSPECIFIC_CURRENT (outward positive), so a positive weight depolarises.
ENDCOMMENT

NEURON {
    THREADSAFE
    POINT_PROCESS Pd14ExpCurrent
    RANGE tau, i
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
}

PARAMETER {
    tau = 0.5 (ms) <1e-9, 1e9>
}

STATE {
    i (nA)
}

INITIAL {
    i = 0
}

BREAKPOINT {
    SOLVE decay METHOD cnexp
}

DERIVATIVE decay {
    i' = -i / tau
}

NET_RECEIVE (w (nA)) {
    i = i - w
}
