"""Stopping a run early on SIGINT (Ctrl-C) or SIGTERM (what batch schedulers send
before the kill at the time limit), so that the run folder keeps what was done.

* :class:`StopSignals` -- a context manager that installs handlers for SIGINT and
  SIGTERM. The first signal sets a flag and prints one line; while the network
  is being built (``raise_now``), it raises :class:`RunInterrupted` at once,
  since nothing of a half-built network is worth keeping. A second SIGINT exits
  at once, without saving.
* While a simulator runs a step in C++ (NEST, NEURON hold Python's lock), Python
  handlers run only when the step ends; so SIGINT is installed with the
  kernel flag ``SA_RESETHAND`` (:func:`_reset_after_first_delivery`): the first
  Ctrl-C is noted at once and the second, at any moment, ends the process.
* :meth:`StopSignals.check` -- called after each progress step of the
  simulation, on every MPI rank: true when any rank got a signal, so that all
  ranks stop after the same step (a rank that stopped alone would leave the
  others waiting in the spike exchange).
"""

import os
import contextlib
import signal
import sys
import threading

from . import parallel

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RunInterrupted(Exception):
    """A run stopped early by a signal; ``signal_name`` is e.g. ``"SIGINT"``."""

    def __init__(self, signal_name, message=""):
        super().__init__(message or f"interrupted by {signal_name}")
        self.signal_name = signal_name
        self.reported = False  # True once the run folder and the console say so

    @property
    def exit_code(self):
        """128 + the signal number, as a shell reports a process ended by it."""
        return 128 + int(getattr(signal, self.signal_name, signal.SIGINT))


class StopSignals:
    """Handlers for SIGINT and SIGTERM while a run is active (see the module doc)."""

    def __init__(self):
        self.signal_name = None   # the first signal received on this rank
        self.stopped = False      # agreed by all ranks (set by check())
        self.raise_now = False    # True while building: raise RunInterrupted at once
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self  # Python delivers signals to the main thread only
        for number in SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)
        _reset_after_first_delivery(signal.SIGINT)
        return self

    def __exit__(self, *exc):
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        return False

    def _handle(self, number, frame):
        name = signal.Signals(number).name
        if self.signal_name is not None:
            if number == signal.SIGINT and self.signal_name == "SIGINT":
                # the user insists: leave now, the folder keeps status "running"
                _say(f"{name} again: exiting now, without saving\n")
                os._exit(128 + number)
            return
        self.signal_name = name
        if parallel.launcher_rank() == 0:
            _say(f"{name} received: stopping after the current step and saving what was "
                 f"simulated (Ctrl-C again to exit at once)\n")
        if self.raise_now:
            raise RunInterrupted(name)

    def check(self):
        """True if this or any other MPI rank got a signal; call it on every rank."""
        self.stopped = parallel.any_rank(self.signal_name is not None)
        return self.stopped

    def stopped_in_child(self):
        """A program this process waits for stopped on a signal sent to it alone
        (e.g. ``kill`` on Brian2's standalone program): count the run as stopped
        by SIGTERM, unless this process got a signal of its own."""
        if self.signal_name is None:
            self.signal_name = "SIGTERM"

    def agreed_signal(self):
        """The signal to report: this rank's, or SIGTERM/SIGINT of another rank."""
        return self.signal_name or "SIGTERM"


@contextlib.contextmanager
def passed_to_children():
    """While inside, SIGINT and SIGTERM that reach this process are sent on to its
    child processes (a simulation program it waits for, e.g. Brian2's standalone
    program), then handled as before. A signal sent to this process alone (``kill``,
    a batch system) would otherwise never reach the program. Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    import psutil
    previous = {number: signal.getsignal(number) for number in SIGNALS}

    def forward(number, frame):
        for child in psutil.Process().children():
            try:
                child.send_signal(number)
            except psutil.Error:
                pass  # ended meanwhile
        handler = previous[number]
        if callable(handler):
            handler(number, frame)
        elif handler == signal.SIG_DFL:
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)

    for number in SIGNALS:
        signal.signal(number, forward)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if callable(previous[signal.SIGINT]):
            _reset_after_first_delivery(signal.SIGINT)


def _reset_after_first_delivery(number):
    """Add ``SA_RESETHAND`` to the installed handler of signal ``number`` (Linux, glibc).

    The kernel then restores the default action (end the process) as it delivers
    the signal once, so a second one ends the process even while a simulator
    step runs in C++. Returns False (and changes nothing) where the layout of
    ``struct sigaction`` is not known.
    """
    import ctypes
    import ctypes.util
    import platform
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "aarch64"):
        return False

    class Sigaction(ctypes.Structure):  # glibc's struct sigaction on 64-bit Linux
        _fields_ = [("handler", ctypes.c_void_p), ("mask", ctypes.c_ubyte * 128),
                    ("flags", ctypes.c_int), ("restorer", ctypes.c_void_p)]

    SA_RESETHAND = 0x80000000
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        action = Sigaction()
        if libc.sigaction(int(number), None, ctypes.byref(action)) != 0:
            return False
        action.flags = ctypes.c_int(action.flags | SA_RESETHAND).value  # wraps to int32
        return libc.sigaction(int(number), ctypes.byref(action), None) == 0
    except (OSError, AttributeError, TypeError):
        return False


def _say(text):
    # os.write, not print: a signal handler may interrupt a print in progress, and
    # Python's buffered streams refuse to be re-entered
    try:
        os.write(sys.stderr.fileno(), text.encode())
    except (OSError, ValueError, AttributeError):
        pass
