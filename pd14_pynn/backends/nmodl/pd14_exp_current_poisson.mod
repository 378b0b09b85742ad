COMMENT
Pd14ExpCurrent (exponential current synapse, tau in ms, weights in nA) that
also receives a Poisson train without events: the model's Poisson background
onto the excitatory synapse (parameter neuron_poisson = "synapse").

interval (ms) is the mean inter-event interval of the train, weight (nA) its
PSC amplitude and delay (ms) its transmission delay. Each time step, before
the currents are evaluated (where NEURON and CoreNEURON have advanced t to the
middle of the step), every input event whose arrival time (emission + delay) is
at most t is added: the events a NetCon would deliver at the start of this step
(those due by its middle). The next emission follows an exponential interval drawn from
the Random123 stream ranvar (ids set from Python), from the start of the
stream as NEURON's NetStim draws them: the same input train as a NetStim with
noise = 1 and the same ids, without its two queue events per input spike.
Within a time step the background is added after the queued events rather than
in time order among them, so floating-point sums may differ in the last bit.
With the default interval (1e9 ms) nothing arrives: the mechanism is then
Pd14ExpCurrent. THREADSAFE; compiled for CoreNEURON alike.
ENDCOMMENT

NEURON {
    THREADSAFE
    POINT_PROCESS Pd14ExpCurrentPoisson
    RANGE tau, i, interval, weight, delay
    RANDOM ranvar
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
}

PARAMETER {
    tau = 0.5 (ms) <1e-9, 1e9>
    interval = 1e9 (ms)
    weight = 0 (nA)
    delay = 1.5 (ms)
}

ASSIGNED {
    arrival (ms)
}

STATE {
    i (nA)
}

INITIAL {
    i = 0
    : from the start of the stream: CoreNEURON runs INITIAL again after NEURON did
    random_setseq(ranvar, 0)
    arrival = interval * random_negexp(ranvar) + delay
}

BEFORE BREAKPOINT {
    while (arrival <= t) {
        i = i - weight
        arrival = arrival + interval * random_negexp(ranvar)
    }
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
