"""MPI facts a run needs: am I under mpirun, which rank, can this simulator do it.

* :func:`launcher_size`, :func:`launcher_rank` -- read from the MPI launcher's
  environment, so they work before any simulator (or mpi4py) is imported.
* :func:`check_launch` -- a clear error for launches that the simulator cannot
  run (each backend says what it needs: ``Backend.check_launch``).
* :func:`barrier`, :func:`gather`, :func:`any_rank` -- thin wrappers around mpi4py's COMM_WORLD
  that do nothing in a single process.
"""

import os

_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE",
                   "MPI_LOCALNRANKS")
_RANK_VARIABLES = ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "MV2_COMM_WORLD_RANK")


def _launcher_value(names, default):
    if under_launcher():
        for name in names:
            if os.environ.get(name, "").isdigit():
                return int(os.environ[name])
    return default


def launcher_size():
    """Number of processes the MPI launcher started (1 without a launcher)."""
    return _launcher_value(_SIZE_VARIABLES, 1)


def launcher_rank():
    """This process's rank according to the MPI launcher (0 without a launcher)."""
    return _launcher_value(_RANK_VARIABLES, 0)


def under_launcher():
    """True if an MPI launcher (mpirun, mpiexec, srun with PMI) started this process.

    A process that merely initialised MPI on its own (Open MPI "singleton", e.g.
    any process that imported mpi4py, which Elephant does) leaves PMIX_RANK in the
    environment of its children; that is not a launch.
    """
    if os.environ.get("OMPI_MCA_ess") == "singleton":
        return any(name in os.environ for name in _RANK_VARIABLES if name != "PMIX_RANK")
    return any(name in os.environ for name in _RANK_VARIABLES)


def check_launch(backend):
    """Raise :class:`~pd14_pynn.backends.BackendError` for an MPI launch that
    ``backend`` cannot run (nothing to check without a launcher)."""
    if under_launcher():
        backend.check_launch(launcher_size())


def _comm():
    if launcher_size() == 1:
        return None
    from mpi4py import MPI
    return MPI.COMM_WORLD


def barrier():
    """Wait for all ranks (no-op in a single process)."""
    comm = _comm()
    if comm is not None:
        comm.Barrier()


def gather(value):
    """List of ``value`` from every rank on rank 0 (``[value]`` in a single process)."""
    comm = _comm()
    return [value] if comm is None else comm.gather(value, root=0)


def any_rank(flag):
    """True if ``flag`` is true on any rank (the flag itself in a single process)."""
    comm = _comm()
    if comm is None:
        return bool(flag)
    from mpi4py import MPI
    return bool(comm.allreduce(bool(flag), op=MPI.LOR))
