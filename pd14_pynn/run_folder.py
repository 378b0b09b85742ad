"""The run folder: checking the output folder, status.json, run.log, and the files of a rerun.

A run folder holds:

* ``parameters.json`` -- the fully resolved parameters;
* ``metadata.json`` -- simulator, settings, versions of every package, derived
  counts, command line;
* ``spikes.pkl`` (or ``.nix``) -- one Neo ``Block`` with one ``Segment`` whose
  spike trains are one columnar ``SpikeTrainList`` (arrays of channel and
  time); channel ranges per population are the block annotation
  ``populations``, and each train, when a reader iterates them, is annotated
  with ``population``, ``index`` (in the population) and ``area``; membrane
  potentials (if recorded) as ``AnalogSignal``\\ s annotated likewise;
* or ``spikes.h5`` (``--format sonata``) -- the spikes as a SONATA spike report
  (:mod:`pd14_pynn.spike_report`), which :func:`pd14_pynn.storage.read_block`
  reads as the same Neo block (spikes only);
* ``timings.json`` -- seconds per phase and peak memory;
* ``rates.json`` -- mean rate per population over the analysis window;
* ``raster.png``, ``rates_boxplot.png``;
* ``status.json`` -- ``running``, ``complete``, ``interrupted`` or ``failed``,
  with the phase, the simulated time reached and, if it stopped early, why
  (:func:`write_status`, :func:`read_status`);
* ``run.log`` -- everything the run printed to the console (:func:`console_log`).

Here: whether a folder can take a run (:func:`check_output_folder`,
:func:`describe_folder` of a used one), creating it and removing an earlier
run's files (:func:`prepare_run_folder`, :func:`remove_run_files`), the status
file and the console log. The files themselves are written and read by
:mod:`pd14_pynn.storage`. Nothing here imports a simulator.
"""

import contextlib
import datetime
import json
import os
import sys
import tempfile

from .storage import SPIKE_FILES, read_json, write_json

RESULT_FILES = ("parameters.json", "metadata.json", "timings.json", "rates.json")
STATUS_FILE = "status.json"
LOG_FILE = "run.log"
#: values of ``status`` in ``status.json``
STATES = ("running", "complete", "interrupted", "failed")


class OutputFolderError(ValueError):
    """The output folder cannot be used: not creatable, not writable, not a folder."""


class OutputExistsError(OutputFolderError, FileExistsError):
    """The output folder already holds results."""


def check_output_folder(path, overwrite=False):
    """Raise :class:`OutputExistsError` if ``path`` holds files (unless ``overwrite``),
    :class:`OutputFolderError` if it is not a folder or cannot be created or written.

    Leaves nothing behind (writability is probed with an empty folder that is
    removed at once), so it can run before anything is built.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputExistsError(f"output path {path!r} exists and is not a folder; "
                                f"choose another --out")
    if os.path.isdir(path) and os.listdir(path) and not overwrite:
        raise OutputExistsError(
            f"output folder {path!r} already holds {describe_folder(path)}; choose another "
            f"--out or pass --overwrite to replace them")
    _check_writable(path)


def _check_writable(path):
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    where = "" if existing == os.path.abspath(path) else f" (in {existing!r})"
    if not os.path.isdir(existing):
        raise OutputFolderError(f"output folder {path!r} cannot be created: {existing!r} is "
                                f"not a folder; choose another --out")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".pd14-write-test-", dir=existing))
    except OSError as err:
        raise OutputFolderError(
            f"output folder {path!r} cannot be {'written' if not where else 'created'}"
            f"{where}: {err.strerror or err}; choose --out in a folder you can write to") \
            from None


def describe_folder(path):
    """What a used output folder holds, for messages: which run and how it ended."""
    status = read_status(path)
    if status is None:
        return "results"
    state = status.get("status")
    where = f"in {status.get('phase')} at {status.get('simulated_ms', 0.0):g} ms simulated"
    if state == "complete":
        return "the results of a complete run"
    if state == "interrupted":
        return f"an interrupted run (stopped {where}; partial results)"
    if state == "failed":
        return f"a failed run (failed {where}: {status.get('error')})"
    # NEST, NEURON and Brian2's runtime device rewrite the status after every
    # progress step, so its time helps tell a live run from a killed one (a Brian2
    # standalone program and the build phases write it only when a phase begins)
    updated = f", written {status['updated']}" if status.get("updated") else ""
    return (f"a run that has not finished (status {state!r}, last {where}{updated}; "
            f"still running, or killed)")


def write_status(run_dir, status, phase, simulated_ms=0.0, **details):
    """Write ``status.json``: ``status`` (one of :data:`STATES`), ``phase`` (e.g.
    ``simulate``), ``simulated_ms`` (model time reached), the time of writing,
    and ``details`` (e.g. ``error``, ``signal``, ``rerun``)."""
    if status not in STATES:
        raise ValueError(f"status must be one of {STATES}, got {status!r}")
    data = {"status": status, "phase": phase, "simulated_ms": float(simulated_ms),
            "updated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            **details}
    # written to a temporary file and renamed, so a reader never sees half a file
    target = os.path.join(run_dir, STATUS_FILE)
    write_json(target + ".tmp", data)
    os.replace(target + ".tmp", target)
    return data


def read_status(run_dir):
    """The ``status.json`` of a run folder as a dict, or None if there is none."""
    try:
        return read_json(os.path.join(run_dir, STATUS_FILE))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except json.JSONDecodeError as err:
        return {"status": "unreadable", "phase": None, "error": f"{STATUS_FILE}: {err}"}


class _Tee:
    """A text stream that writes to the console stream and to a log file."""

    def __init__(self, stream, log):
        self._stream, self._log = stream, log

    def write(self, text):
        self._log.write(text)
        self._log.flush()
        return self._stream.write(text)

    def flush(self):
        self._log.flush()
        self._stream.flush()

    def __getattr__(self, name):  # isatty, fileno, encoding, ... of the console
        return getattr(self._stream, name)


@contextlib.contextmanager
def console_log(path, enabled=True):
    """While active, everything printed to ``sys.stdout``/``sys.stderr`` is also
    appended to ``path`` (the run's ``run.log``). Output of the simulators' C++
    code, which bypasses Python's streams, is not captured."""
    if not enabled:
        yield None
        return
    with open(path, "a", buffering=1) as log:
        stdout, stderr = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Tee(stdout, log), _Tee(stderr, log)
        try:
            yield log
        finally:
            sys.stdout, sys.stderr = stdout, stderr


def prepare_run_folder(path, overwrite=False):
    """Create ``path``; refuse if it already holds files, unless ``overwrite``."""
    check_output_folder(path, overwrite)
    os.makedirs(path, exist_ok=True)
    return path


def remove_run_files(run_dir):
    """Delete the files a previous run wrote into ``run_dir`` (for ``--overwrite``),
    so that an interrupted rerun cannot leave an older run's results beside its own."""
    names = (*RESULT_FILES, STATUS_FILE, LOG_FILE, "raster.png", "rates_boxplot.png",
             "rates_by_area.png",
             *SPIKE_FILES.values())
    for name in names:
        path = os.path.join(run_dir, name)
        if os.path.isfile(path):
            os.remove(path)
