"""Brian2 standalone devices (``cpp_standalone``, ``cuda_standalone``) under PyNN.

In standalone mode Brian2 turns the whole network into one C++ (or CUDA)
program: building the PyNN model in Python only *records* what to do; the
``run()`` calls are queued; :func:`execute` then generates the code, compiles
it (one ``make``, parallel, ``nice``-d) and runs the program, which creates the
synapses, simulates every phase without Python in the loop (OpenMP threads for
``cpp_standalone``) and writes the recorded data, which PyNN then reads back as
usual (``get_data``).

* Project directory (code, objects, the compiled program): one per network
  *structure* under :func:`cache_root` (``~/.cache/pd14_pynn/brian2_standalone``
  or ``$PD14_BRIAN2_CACHE``), named like a run label but without the seed and the
  run durations. Brian2 rewrites only the source files whose text changed and
  ``make`` recompiles only those: a second run of the same network recompiles
  nothing, a new seed or duration only ``main.cpp``. It is not in the run folder,
  which is new for every run (reuse would be lost). A run that finds the
  directory locked by another process builds in a private copy, removed at exit.
* Data: synapse weights, delays and multapse numbers are written by Python
  straight to files that the program reads into its synapse arrays at start
  (Brian2's ``run_args``), so neither Python nor the program keeps a second copy
  of them; the (i, j) arrays of ``Synapses.connect`` are Brian2 static arrays,
  freed inside the program once the synapses exist. Data files and results are
  deleted when the Python process exits.
* Timings: the program writes monotonic-clock marks (start, network built,
  after each run) and its own peak RSS to ``pd14_marks.txt`` in its results
  folder; :func:`execute` turns them into phase times.

Longer than the package's other modules (~560 lines) on purpose: it is one job,
driving a Brian2 standalone program from PyNN, and its parts (project folder
and lock, queued runs, the C++ fragments for signals and time marks, the
precompiled-header makefile, reading the marks back) change together whenever
Brian2's device changes; split up they would each need the others.
"""

import atexit
import ctypes
import fcntl
import itertools
import os
import shutil
import time

import numpy as np

from . import BackendError
from .brian2_cache import cache_root

STANDALONE_DEVICES = ("cpp_standalone", "cuda_standalone")
MARKS_FILE = "pd14_marks.txt"
# keys that change only data or main.cpp, not the generated code of the network:
# runs that differ only in these share one project directory
_NOT_IN_PROJECT_KEY = ("seed", "t_sim_ms", "t_presim_ms", "brian2_device", "threads",
                       "connectivity_rng")


def project_name(device, params, threads):
    """Readable + unique project folder name, e.g. ``cpp_standalone_N0.1-K0.1_poisson_t1_1a2b3c4d``.

    The thread count is part of it: OpenMP code differs from serial code, and the
    count appears in the generated code.
    """
    from ..parameters import parameter_hash
    structure = {k: v for k, v in params.items() if k not in _NOT_IN_PROJECT_KEY}
    return (f"{device}_N{params['N_scaling']:g}-K{params['K_scaling']:g}_{params['background']}"
            f"_t{threads}_{parameter_hash(structure)}")


class Session:
    """State of one standalone build: project folder, run arguments, marks."""

    def __init__(self, device, project_dir, threads):
        self.device = device
        self.project_dir = project_dir
        self.threads = threads
        self.run_args = []
        self.runs = []           # durations (ms) of the queued phases, in order
        self.built_marked = False
        self.executed = False
        self.private = False     # a per-process copy (the shared one was locked)
        self._lock = None

    # --- project folder --------------------------------------------------
    def claim(self):
        """Lock the project folder for this process (or fall back to a private copy)."""
        os.makedirs(self.project_dir, exist_ok=True)
        handle = open(self.project_dir + ".lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._lock = handle
        except OSError:
            handle.close()
            self.project_dir = f"{self.project_dir}.pid{os.getpid()}"
            self.private = True
            os.makedirs(self.project_dir, exist_ok=True)
        for sub in ("static_arrays", "results"):
            shutil.rmtree(os.path.join(self.project_dir, sub), ignore_errors=True)
        os.makedirs(os.path.join(self.project_dir, "static_arrays"))
        atexit.register(self.cleanup)

    def cleanup(self):
        """Delete data and results (large at full scale); keep code and program."""
        if self.private:
            shutil.rmtree(self.project_dir, ignore_errors=True)
        else:
            for sub in ("static_arrays", "results"):
                shutil.rmtree(os.path.join(self.project_dir, sub), ignore_errors=True)
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # --- data passed to the program ---------------------------------------
    def set_from_file(self, group, name, values):
        """Have the program fill ``group.<name>`` from ``values`` (SI units) at start."""
        variable = getattr(group, name).variable  # e.g. "delay" is the pathway's
        filename = f"pd14_{variable.owner.name}_{variable.name}.dat"
        np.ascontiguousarray(values, dtype=variable.dtype).tofile(
            os.path.join(self.project_dir, "static_arrays", filename))
        self.run_args.append(f"{variable.owner.name}.{variable.name}="
                             f"{os.path.join('static_arrays', filename)}")

    def register_file(self, group, name, path):
        """Have the program fill ``group.<name>`` from the file ``path`` (written
        in the variable's dtype, SI units, under ``static_arrays``) at start."""
        variable = getattr(group, name).variable
        self.run_args.append(f"{variable.owner.name}.{variable.name}="
                             f"{os.path.join('static_arrays', os.path.basename(path))}")

    # --- code inserted into main() ----------------------------------------
    def reserve(self, synapses, n_new):
        """Have the program reserve room for ``n_new`` more synapses before connecting."""
        if self.device != "cpp_standalone":
            return
        import brian2
        reserve_synapses(brian2.get_device(), synapses, n_new)

    def mark(self, label):
        """Append ``label <monotonic seconds>`` to the marks file when main() gets here."""
        import brian2
        brian2.get_device().insert_code("main", _mark_code(label))

    def before_first_run(self):
        """Mark 'built' and free the connect arrays (they are copied into the synapses)."""
        if self.built_marked:
            return
        import brian2
        device = brian2.get_device()
        self.mark("built")
        if self.device == "cpp_standalone":
            # the weights and delays from files (run_args): Brian2 reads them where
            # its run starts by default, *after* the spike queues were prepared with
            # the delays then in the arrays (zeros), so every spike arrived one step
            # after it was sent; read them here, once the synapses exist
            if self.run_args:
                device.apply_run_args()
            # static arrays are loaded when the program starts and kept to the end;
            # those made so far only fed the set-up code above
            free_static_arrays(device)
        self.built_marked = True


def reserve_synapses(device, synapses, n_new):
    """Have the ``cpp_standalone`` program reserve room for ``n_new`` more synapses
    in ``synapses``' (i, j) vectors before connecting: they grow by push_back,
    which over-allocates up to 2x (at full scale, gigabytes)."""
    for name in ("_synaptic_pre", "_synaptic_post"):
        array = device.get_array_name(synapses.variables[name], access_data=False)
        device.insert_code("main", f"{array}.reserve({array}.size() + {int(n_new)});")


def free_static_arrays(device):
    """Have the ``cpp_standalone`` program free, at this point, the static arrays
    queued so far (loaded at start and otherwise kept to the end)."""
    device.insert_code("main", "\n".join(
        f"if ({name} != 0) {{ delete [] {name}; {name} = 0; }}"
        for name in device.static_arrays if name.startswith("_static_array_")))


def release_array_cache(device, min_bytes=1_000_000):
    """Drop Brian2's Python copies of arrays the program now holds (``min_bytes`` or
    more each): e.g. the source and target indices of every connect call, 8 bytes
    per synapse (2.4 GB at full scale), kept while the program ran. Brian2 reads a
    dropped (None) entry from the program's results if it is asked for after the run.
    """
    for var, value in device.array_cache.items():
        if value is not None and getattr(value, "nbytes", 0) >= min_bytes:
            device.array_cache[var] = None
    _return_free_memory()


def _return_free_memory():
    # glibc keeps freed small and mid-sized blocks for reuse; give them back to the
    # system before the program needs its memory (no-op where it is not glibc)
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _write_mark_code(label, value):
    """C++ that appends ``label <value>`` (``value``: a C++ expression) to the marks file."""
    return ("{ std::ofstream _pd14_marks((brian::results_dir + \"" + MARKS_FILE + "\").c_str(), "
            "std::ios::app); _pd14_marks << \"" + label + " \" << " + value + " << std::endl; }")


def _mark_code(label):
    """C++ that appends ``label <monotonic seconds>`` to the marks file."""
    return ("{ struct timespec _pd14_ts; clock_gettime(CLOCK_MONOTONIC, &_pd14_ts); "
            + _write_mark_code(label, "std::fixed << (_pd14_ts.tv_sec + 1e-9 * _pd14_ts.tv_nsec)")
            + " }")


# SIGINT/SIGTERM in the program: stop after the current time step (Brian2's run
# loop checks Network::_globally_stopped every step), then write the results as
# usual, so the spikes up to there are kept. A Ctrl-C at a terminal reaches the
# program and Python (which forwards what it gets) together: repeats within 2 s
# are the same request; a later signal ends the program at once.
_SIGNAL_CODE = """
{
    static volatile sig_atomic_t _pd14_signal = 0;
    static volatile double _pd14_first_signal = 0.0;
    struct sigaction _pd14_action;
    std::memset(&_pd14_action, 0, sizeof(_pd14_action));
    _pd14_action.sa_handler = [](int number) {
        struct timespec _pd14_ts;
        clock_gettime(CLOCK_MONOTONIC, &_pd14_ts);
        const double now = _pd14_ts.tv_sec + 1e-9 * _pd14_ts.tv_nsec;
        if (_pd14_signal == 0) {
            _pd14_signal = number;
            _pd14_first_signal = now;
            Network::_globally_stopped = true;
        } else if (now - _pd14_first_signal > 2.0) {
            _exit(128 + number);
        }
    };
    sigaction(SIGINT, &_pd14_action, 0);
    sigaction(SIGTERM, &_pd14_action, 0);
}
"""

# VmHWM: the program's own peak RSS (getrusage's ru_maxrss would include the
# Python parent's RSS at fork time, which Linux carries across exec)
_PEAK_RSS_CODE = ("{ std::ifstream _pd14_status(\"/proc/self/status\"); std::string _pd14_line; "
                  "while (std::getline(_pd14_status, _pd14_line)) { "
                  "if (_pd14_line.rfind(\"VmHWM:\", 0) == 0) { "
                  "std::ofstream _pd14_marks((brian::results_dir + \"" + MARKS_FILE + "\").c_str(), "
                  "std::ios::app); _pd14_marks << \"peak_rss_kb \" << "
                  "std::atol(_pd14_line.c_str() + 6) << std::endl; } } }")


def report_code(phases_ms):
    """C++ body of Brian2's report function: pd14_pynn's progress line, from the program.

    ``phases_ms``: the durations of presimulation and simulation (one Brian2 run
    may cover both; the line shows the phase the run is in).
    """
    phases = list(phases_ms)[-2:]
    names = ["presimulate", "simulate"][-len(phases):]
    first = phases[0] if len(phases) == 2 else 0.0
    return f"""
    // Brian2 passes CPU time as `elapsed` in serial code; show wall-clock time
    struct timespec _pd14_ts;
    clock_gettime(CLOCK_MONOTONIC, &_pd14_ts);
    const double _pd14_now = _pd14_ts.tv_sec + 1e-9 * _pd14_ts.tv_nsec;
    static const double _pd14_wall0 = _pd14_now;  // the first call, at the run's start
    const double wall = _pd14_now - _pd14_wall0;
    if (completed <= 0.0) return;
    const int width = 30;
    const double t_ms = (start + completed * duration) * 1e3;  // biological time reached
    const bool first = {'true' if len(phases) == 2 else 'false'} && t_ms <= {first!r} + 1e-9;
    const double phase_start = first ? 0.0 : {first!r};
    const double phase_ms = first ? {phases[0]!r} : {phases[-1]!r};
    const double frac = phase_ms > 0 ? (t_ms - phase_start) / phase_ms : 1.0;
    const int filled = (int)(frac * width + 0.5);
    std::string bar = std::string(filled, '#') + std::string(width - filled, '-');
    const double rtf = wall / (completed * duration);
    std::printf("  %-11s [%s] %5.1f%%  %8.1f/%.1f ms  %7.1f s  RTF %6.2f\\n",
                first ? "{names[0]}" : "{names[-1]}", bar.c_str(), 100.0 * frac,
                t_ms - phase_start, phase_ms, wall, rtf);
    std::fflush(stdout);
    """


def activate(device, params, threads, verbose=True):
    """Select and reset the Brian2 device; returns the :class:`Session`."""
    import brian2
    if device == "cuda_standalone":
        import brian2cuda  # noqa: F401  (registers the device)
    project_dir = os.path.join(cache_root(), project_name(device, params, threads))
    session = Session(device, project_dir, threads)
    session.claim()
    from brian2.devices.device import all_devices
    all_devices[device].reinit()  # forget an earlier build in this process
    brian2.set_device(device, build_on_run=False, directory=session.project_dir)
    # nice: a compile must not slow down other work on a shared machine
    brian2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{os.cpu_count() or 1}"]
    if device == "cpp_standalone":
        # 1 thread: plain serial code (OpenMP's per-object barriers cost more than
        # they bring for small networks)
        brian2.prefs.devices.cpp_standalone.openmp_threads = int(threads) if threads > 1 else 0
        brian2.prefs.devices.cpp_standalone.make_cmd_unix = f"nice -n 10 make -f {PCH_MAKEFILE}"
    else:
        brian2.prefs.devices.cpp_standalone.make_cmd_unix = "nice -n 10 make"
        # CUDA 13's Thrust/CUB need C++17 (Brian2's default flags say C++11)
        brian2.prefs.codegen.cpp.extra_compile_args_gcc = [
            "-std=c++17" if arg.startswith("-std=") else arg
            for arg in brian2.prefs.codegen.cpp.extra_compile_args_gcc]
        nvcc_args = brian2.prefs.devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc
        brian2.prefs.devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc = [
            arg for arg in nvcc_args if not arg.startswith("-std=")] + ["-std=c++17"]
    dev = brian2.get_device()
    for header in ("<cstdio>", "<cstdlib>", "<string>", "<fstream>", "<ctime>", "<iomanip>",
                   "<csignal>", "<cstring>", "<unistd.h>", "\"network.h\""):
        if header not in dev.headers:
            dev.headers.append(header)
    dev.insert_code("after_start", _mark_code("start"))
    if device == "cpp_standalone":
        dev.insert_code("after_start", _SIGNAL_CODE)
    dev.insert_code("before_end", _PEAK_RSS_CODE)
    dev.insert_code("before_end", _mark_code("end"))
    if verbose:
        print(f"Brian2 {device}: project folder {session.project_dir}", flush=True)
    return session


def queue_run(session, state, duration_ms):
    """Record one ``run()`` of ``duration_ms``; :func:`execute` queues and runs them."""
    session.runs.append(float(duration_ms))
    state.running = True


def _queue_brian2_runs(session, state):
    """Queue the recorded runs in Brian2, with marks for the phase times.

    ``cpp_standalone``: one Brian2 run for all phases, since every ``run()`` call
    generates (and the compiler compiles) all ~200 code objects again; a marker
    object writes a mark at each phase boundary. ``cuda_standalone``: one run per
    phase (the marker is host code), marks after each.
    """
    import brian2

    from .brian2_network import network_of
    network_of(state).materialize()
    session.before_first_run()
    # PyNN keeps recorders in a set: finalised in set order, the monitors' names
    # (spikemonitor_1, ...) and so the generated code would change from process
    # to process, and every run would recompile them
    for recorder in sorted(state.recorders, key=lambda r: r.population.label):
        recorder._finalize()
    boundaries = np.cumsum(session.runs)
    report = report_code(session.runs)
    if session.device == "cpp_standalone":
        if len(session.runs) > 1:
            _add_phase_marker(state, session.runs[0])
        state.network.run(float(boundaries[-1]) * brian2.ms, report=report,
                          report_period=5.0 * brian2.second)
        _sort_clock_starts(brian2.get_device().main_queue)
    else:
        for i, duration in enumerate(session.runs):
            state.network.run(duration * brian2.ms, report=report,
                              report_period=5.0 * brian2.second)
            session.mark(f"t{boundaries[i]:.6f}")
    session.mark("done")
    clock_t = brian2.get_device().get_array_name(brian2.defaultclock.variables["t"],
                                                 access_data=False)
    brian2.get_device().insert_code("main", _write_mark_code(
        "reached_ms", f"std::setprecision(17) << brian::{clock_t}[0] * 1e3"))


def _sort_clock_starts(main_queue):
    """Put the start values of the clocks, which a run sets in ``main.cpp`` one
    clock after the other, in name order (in place).

    Brian2 sets them in the order of a set of clock objects (ordered by their
    addresses), so with several clocks (e.g. the state monitors' own) ``main.cpp``
    would differ from process to process and be recompiled every run. Each line
    sets one value of one clock, so the order does not matter to the program."""
    def is_clock_start(entry):
        func, args = entry
        return (func == "set_by_single_value" and isinstance(args[0], str)
                and (args[0].endswith("clock_t") or args[0].endswith("clock_timestep")))

    ordered = []
    for clock_starts, entries in itertools.groupby(main_queue, key=is_clock_start):
        entries = list(entries)
        ordered += sorted(entries, key=lambda entry: entry[1][0]) if clock_starts else entries
    main_queue[:] = ordered


def _add_phase_marker(state, first_phase_ms):
    """A 1-neuron group whose operation writes a mark at the end of the first phase.

    It runs every step on the network's clock (a clock of its own would be a
    second clock, which Brian2 initialises in main.cpp in set order: main.cpp
    would change from process to process and be recompiled every run)."""
    import brian2

    @brian2.implementation("cpp", _MARK_FUNCTION_CODE)
    @brian2.check_units(t=brian2.second, boundary=brian2.second, dt=brian2.second, result=1)
    def pd14_mark_time(t, boundary, dt):
        raise NotImplementedError("pd14_mark_time exists only in standalone C++ code")

    marker = brian2.NeuronGroup(1, "pd14_marker : 1\npd14_boundary : second (constant, shared)",
                                name="pd14_phase_marker",
                                namespace={"pd14_mark_time": pd14_mark_time})
    marker.pd14_boundary = first_phase_ms * brian2.ms
    marker.run_regularly("pd14_marker = pd14_mark_time(t, pd14_boundary, dt)", when="end")
    state.network.add(marker)
    state.pd14_marker = marker


_MARK_FUNCTION_CODE = """
double pd14_mark_time(const double t, const double boundary, const double dt)
{
    if (t < boundary - 0.5 * dt || t >= boundary + 0.5 * dt)
        return 0.0;
    struct timespec _pd14_ts;
    clock_gettime(CLOCK_MONOTONIC, &_pd14_ts);
    std::ofstream _pd14_marks((brian::results_dir + \"""" + MARKS_FILE + """\").c_str(), std::ios::app);
    // t is the start of the time step after the phase: the phase ended with it
    _pd14_marks << "t" << std::fixed << std::setprecision(6) << boundary * 1e3 << " "
                << (_pd14_ts.tv_sec + 1e-9 * _pd14_ts.tv_nsec) << std::endl;
    return 1.0;
}
"""


def execute(session, state, labels=("presimulate", "simulate"), verbose=True,
            should_stop=None, on_phase=None):
    """Generate, compile and run the program; returns phase timings (s), the
    program's peak RSS and ``reached_ms``, the biological time it simulated.

    SIGINT/SIGTERM while the program runs (to the program or to Python, which
    passes them on) stop it after the current step; it then writes what it
    recorded, and ``reached_ms`` is less than the queued duration. If
    ``should_stop()`` is true once the program is compiled, it is not started
    (``reached_ms`` 0). ``on_phase(name)`` is called with the first phase's name
    as the program starts.
    """
    import brian2
    from .. import interrupts
    if session.executed:
        raise BackendError("the Brian2 standalone program has already been run; call "
                           "sim.setup() and build the model again for another run")
    if not session.runs:
        return {}
    device = brian2.get_device()
    t0 = time.perf_counter()
    _queue_brian2_runs(session, state)
    if verbose:
        print(f"Compiling the network into one program ({session.device}, "
              f"{session.threads} thread(s)) in {session.project_dir}", flush=True)
    try:
        device.build(directory=session.project_dir, compile=False, run=False,
                     with_output=True, direct_call=True)
        if session.device == "cpp_standalone":
            write_pch_makefile(session.project_dir)
        device.compile_source(session.project_dir, _compiler_name(), False, False)
    except RuntimeError as err:
        if should_stop is not None and should_stop():
            # a Ctrl-C at a terminal also ends make
            return {"compile": time.perf_counter() - t0, "reached_ms": 0.0}
        raise BackendError(f"Brian2 could not compile the standalone program ({err}); see "
                           f"{session.project_dir}") from err
    compile_s = time.perf_counter() - t0
    make_s = (device.timers.get("compile") or {}).get("make")
    # the written static arrays are no longer needed in Python
    device.static_arrays.clear()
    release_array_cache(device)
    if should_stop is not None and should_stop():
        return {"compile": compile_s, "reached_ms": 0.0}
    if on_phase is not None:
        on_phase(list(labels)[-len(session.runs)])
    started = time.monotonic()
    t0 = time.perf_counter()
    with interrupts.passed_to_children():
        device.run(directory=session.project_dir, with_output=True, run_args=session.run_args)
    program_s = time.perf_counter() - t0
    session.executed = True
    marks, peak_kb = read_marks(os.path.join(device.results_dir, MARKS_FILE))
    timings = {"compile": compile_s, "program": program_s,
               "program_start": marks["start"] - started,
               "connect_in_program": marks["built"] - marks["start"],
               "save_in_program": marks["end"] - marks["done"],
               "peak_rss_program_bytes": peak_kb * 1024,
               "reached_ms": round(marks["reached_ms"], 6)}
    if make_s is not None:
        timings["make"] = make_s
    # phase ends: the marks at the run boundaries; the phase in which the program
    # stopped (the last one, if it was not stopped) ends at "done"
    boundaries = np.cumsum(session.runs)
    previous = marks["built"]
    for name, boundary in zip(list(labels)[-len(session.runs):], boundaries):
        end = marks.get(f"t{boundary:.6f}")
        if end is None or boundary == boundaries[-1]:
            timings[name] = marks["done"] - previous
            break
        timings[name] = end - previous
        previous = end
    return timings


def _compiler_name():
    from brian2.codegen.cpp_prefs import get_compiler_and_args
    return get_compiler_and_args()[0]


PCH_HEADER = "pd14_pch.h"
PCH_MAKEFILE = "pd14_pch.mk"


def write_pch_makefile(project_dir):
    """A makefile around Brian2's that compiles the headers every code object
    includes once (a precompiled header, ~3x faster per file); the rest is Brian2's."""
    header = """#ifndef PD14_PCH_H
#define PD14_PCH_H
#include <iostream>
#include <fstream>
#include <iomanip>
#include <ctime>
#include <cmath>
#include <climits>
#include <string>
#include <cstdio>
#include <cstdlib>
#include "objects.h"
#include "synapses_classes.h"
#include "brianlib/common_math.h"
#include "brianlib/stdint_compat.h"
#endif
"""
    makefile = f"""# written by pd14_pynn: Brian2's makefile + a precompiled header
include makefile
PCH_FLAGS = $(filter-out -c,$(CXXFLAGS))
CXXFLAGS += -include {PCH_HEADER}
{PCH_HEADER}.gch: {PCH_HEADER} objects.h synapses_classes.h brianlib/common_math.h makefile
	$(CXX) $(PCH_FLAGS) -x c++-header {PCH_HEADER} -o {PCH_HEADER}.gch
$(OBJS): {PCH_HEADER}.gch
# Brian2's rule rescans every source when one changed (main.cpp changes with the
# seed): scan only the changed sources and add their lines
make.deps: $(SRCS) $(H_SRCS)
	$(if $(filter %.cpp,$?),$(CXX) $(CXXFLAGS) -MM $(filter %.cpp,$?) >> make.deps,touch make.deps)
"""
    for name, text in ((PCH_HEADER, header), (PCH_MAKEFILE, makefile)):
        path = os.path.join(project_dir, name)
        if not os.path.exists(path) or open(path).read() != text:
            with open(path, "w") as handle:
                handle.write(text)


def read_marks(path):
    """``{label: monotonic seconds}`` and the peak RSS (kB) the program wrote."""
    marks, peak_kb = {}, 0
    with open(path) as handle:
        for line in handle:
            label, value = line.split()
            if label == "peak_rss_kb":
                peak_kb = int(value)
            else:
                marks[label] = float(value)
    return marks, peak_kb


def describe(session):
    """Settings to record in the run's metadata."""
    return {"brian2_device": session.device, "openmp_threads": session.threads,
            "standalone_project": session.project_dir}
