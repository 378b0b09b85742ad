"""Progress of long phases (connecting, simulating), shown with ``tqdm``.

* :class:`SimulationProgress` -- simulated time done, wall time and the real-time
  factor (RTF: wall seconds per simulated second). Called as ``progress(done_ms)``,
  the callback every backend's ``run`` receives.
* :class:`ConnectProgress` -- synapses made so far, with the projection being made.

On a terminal a tqdm bar is redrawn in place. Elsewhere (a log file, a pipe, a
test's captured output) redrawing would leave one line per update, so a plain
line is printed at each tenth of the work instead: a phase adds at most 11
lines to a log. Imports no simulator.
"""

import math
import os
import sys
import time

from tqdm import tqdm

PLAIN_STEPS = 10  # plain lines per phase when the output is not a terminal
# plain lines: a fixed-width ASCII bar, so that successive lines align in a log
PLAIN_FORMAT = "{l_bar}{bar:30}{r_bar}"


def is_terminal(stream):
    """True when ``stream`` is an interactive terminal with a width (where a bar can
    redraw). Open MPI gives its ranks a pseudo-terminal 0 columns wide, on which
    tqdm prints nothing at all: a NEURON run under ``mpirun`` showed no progress."""
    try:
        if not stream.isatty():
            return False
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
    try:
        return os.get_terminal_size(stream.fileno()).columns > 0
    except (AttributeError, ValueError, OSError):  # a terminal without a file descriptor
        return True


class _Progress:
    """A bar of ``total`` units: a tqdm bar on a terminal, a few plain lines elsewhere."""

    unit = ""
    unit_scale = False

    def __init__(self, total, label, stream=None):
        self.total = total
        self.label = label
        self.stream = stream or sys.stdout
        self.started = time.perf_counter()
        self.done = 0
        self.bar = None
        self._next_plain = 1  # next tenth of the work that prints a plain line
        if is_terminal(self.stream):
            self.bar = tqdm(total=total, desc=label, unit=self.unit, unit_scale=self.unit_scale,
                            file=self.stream, dynamic_ncols=True, leave=True)

    def postfix(self):
        return ""

    def update(self, done):
        """Set the amount of work done (absolute, not an increment)."""
        self.done = min(done, self.total)
        if self.bar is not None:
            self.bar.n = self.done
            self.bar.set_postfix_str(self.postfix(), refresh=False)
            self.bar.refresh()
            return
        fraction = self.done / self.total if self.total else 1.0
        if fraction * PLAIN_STEPS + 1e-9 >= self._next_plain:
            self._next_plain = math.floor(fraction * PLAIN_STEPS + 1e-9) + 1
            line = tqdm.format_meter(self.done, self.total, time.perf_counter() - self.started,
                                     prefix=self.label, unit=self.unit,
                                     unit_scale=self.unit_scale, postfix=self.postfix(),
                                     ascii=True, bar_format=PLAIN_FORMAT)
            print(line, file=self.stream, flush=True)

    def close(self):
        """End the bar (on a terminal, leave it on screen with a newline)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class SimulationProgress(_Progress):
    """Progress of advancing the simulation by ``duration_ms``; call with ms done.

    The postfix shows the RTF so far. :meth:`finish` marks the whole duration
    done and closes the bar.
    """

    unit = "ms"

    def __init__(self, duration_ms, label, stream=None):
        super().__init__(float(duration_ms), label, stream)

    def __call__(self, done_ms):
        self.update(float(done_ms))

    def rtf(self):
        """Wall seconds per simulated second so far (nan before any time is done)."""
        if self.done <= 0:
            return math.nan
        return (time.perf_counter() - self.started) / (self.done * 1e-3)

    def postfix(self):
        return f"RTF {self.rtf():.2f}"

    def finish(self):
        self.update(self.total)
        self.close()


class ConnectProgress(_Progress):
    """Progress of making ``total_synapses`` connections, projection by projection."""

    unit = "syn"
    unit_scale = True

    def __init__(self, total_synapses, label="connect", stream=None):
        super().__init__(int(total_synapses), label, stream)
        self.projection = ""

    def add(self, n_synapses, projection=""):
        """Count ``n_synapses`` more as made; ``projection`` names the one just made."""
        self.projection = projection
        self.update(self.done + int(n_synapses))

    def postfix(self):
        return self.projection
