"""Where pd14_pynn keeps what Brian2 generates once and reuses: the standalone
projects (one per network structure, :mod:`.brian2_standalone`) and the exact
solutions of the neuron equations (:mod:`.brian2_groups`)."""

import os


def cache_root():
    """Folder that holds one Brian2 standalone project per network structure."""
    root = os.environ.get("PD14_BRIAN2_CACHE")
    if root:
        return root
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pd14_pynn", "brian2_standalone")
