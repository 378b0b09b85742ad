"""The record of one run: where it is (phase, simulated time), what it has timed,
and how it ended, written to ``status.json`` and ``timings.json`` by rank 0.

:class:`RunRecord` is what :mod:`pd14_pynn.simulation` updates as the phases go;
:func:`interrupted` makes the one line a stopped run prints (where it stopped,
how to rerun it); :func:`process_start_time` starts the user's stopwatch.
"""

import os
import sys
import time

from . import interrupts, parallel, resources, run_folder, storage

# while these run, a signal stops the run at once (a half-built network is not kept)
BUILD_PHASES = ("import", "setup", "create", "connect")


class RunRecord:
    """Where a run is (phase, simulated time) and what it has timed; rank 0 writes
    ``status.json`` and ``timings.json`` from it."""

    def __init__(self, out_dir, root, params, command_line):
        self.out_dir, self.root, self.params = out_dir, root, params
        self.command_line = list(command_line)
        self.phase, self.simulated_ms, self.timings = "import", 0.0, {}
        self.process_started = time.time()

    def enter(self, phase, stop=None):
        self.phase = phase
        if stop is not None:
            stop.raise_now = phase in BUILD_PHASES
            if stop.raise_now and stop.signal_name:  # arrived between two phases
                raise interrupts.RunInterrupted(stop.signal_name)
        self.status("running")

    def advance(self, simulated_ms):
        """Model time reached (ms) during a phase, written to ``status.json`` so
        that a run killed without warning says how far it got."""
        self.simulated_ms = simulated_ms
        self.status("running")

    def status(self, state, **details):
        if self.root:
            run_folder.write_status(self.out_dir, state, self.phase, self.simulated_ms,
                                    t_stop_ms=self.params["t_presim_ms"] + self.params["t_sim_ms"],
                                    **details)

    def rerun_command(self):
        """The command line of this run, with ``--overwrite`` to reuse its folder."""
        import shlex
        argv = list(self.command_line)
        if argv and argv[0].endswith(".py"):
            argv = ["python"] + argv
        if "--overwrite" not in argv:
            argv.append("--overwrite")
        if parallel.launcher_size() > 1:
            argv = ["mpirun", "-np", str(parallel.launcher_size())] + argv
        return " ".join(shlex.quote(str(a)) for a in argv)


def interrupted(record, signal_name):
    """The exception, with its one line: where the run stopped and how to rerun it."""
    total = record.params["t_presim_ms"] + record.params["t_sim_ms"]
    message = (f"interrupted by {signal_name} in {record.phase} at "
               f"{record.simulated_ms:g} of {total:g} ms simulated; what was done is in "
               f"{record.out_dir} (status.json); rerun with: {record.rerun_command()}")
    if record.root:
        print(message, file=sys.stderr, flush=True)
    stopped = interrupts.RunInterrupted(signal_name, message)
    stopped.reported = True
    return stopped


def write_timings(record):
    record.timings["peak_rss_bytes"] = resources.peak_rss_bytes()
    record.timings["total"] = time.time() - record.process_started
    if record.root:
        storage.write_json(os.path.join(record.out_dir, "timings.json"),
                           dict(record.timings, simulated_ms=record.simulated_ms,
                                complete=False))


def process_start_time():
    """When this process started (s since the epoch): the user's stopwatch starts there.

    On Linux, from the process's start and the clock since boot, both counted
    from boot (10 ms resolution): psutil's ``create_time`` adds the boot time of
    ``/proc/stat``, which is whole seconds, so it put the start up to 1 s early
    and ``startup`` and ``total`` up to 1 s long (0.97 s on the machine where
    this was seen: the timing line's total above /usr/bin/time's wall time).
    """
    if hasattr(time, "CLOCK_BOOTTIME") and os.path.exists("/proc/self/stat"):
        with open("/proc/self/stat") as handle:
            # fields after "pid (name)"; the name may hold spaces: the 22nd field overall
            start_ticks = int(handle.read().rpartition(")")[2].split()[19])
        age_s = time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")
        return time.time() - age_s
    import psutil
    return psutil.Process().create_time()
