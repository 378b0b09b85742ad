"""Read a small NEST-drawn circuit's connections back two ways and compare them.

``python tests/nest_read_scenario.py``: N = K = 0.02 with thalamic input, 2 threads.
The backend's ``read_connections`` (sources only given to ``GetConnections``, one
source population at a time) against the way it read before: per projection,
``GetConnections(pre, post)`` and one status dict per connection. Prints
``READ <projections> <connections> <same rows> <same order twice>``.
"""

import numpy as np

from pd14_pynn import backends, derive, network_io, parameters
from pd14_pynn.network import Microcircuit


def reference(projection):
    """The previous reader: per projection, pre and post given to GetConnections."""
    import nest
    from nest import nestkernel_api
    connections = nest.GetConnections(projection.pre.node_collection,
                                      projection.post.node_collection,
                                      synapse_model=projection.nest_synapse_model)
    status = nestkernel_api.llapi_get_connection_status(connections._datum)
    table = np.array([(d["source"], d["target"], d["weight"], d["delay"]) for d in status],
                     dtype=float).reshape(-1, 4)
    pre_ids = np.asarray(projection.pre.all_cells, dtype=np.int64)
    post_ids = np.asarray(projection.post.all_cells, dtype=np.int64)
    return (np.searchsorted(pre_ids, table[:, 0].astype(np.int64)),
            np.searchsorted(post_ids, table[:, 1].astype(np.int64)), table[:, 2], table[:, 3])


def rows(arrays):
    table = np.column_stack([np.asarray(a, dtype=float) for a in arrays])
    return table[np.lexsort(table.T[::-1])]


def read(backend, projections):
    pieces = {id(p): [] for p in projections}
    for projection, arrays in backend.read_connections(projections):
        pieces[id(projection)].append(arrays)
    return [[np.concatenate(column) for column in zip(*pieces[id(p)])] for p in projections]


backend = backends.get("nest")
sim = backend.import_simulator()
params = parameters.resolve({"N_scaling": 0.02, "K_scaling": 0.02, "thalamic_input": True,
                             "background": "dc", "threads": 2, "seed": 5})
backend.setup(sim, params, int(derive.derive(params)["num_synapses"].sum()))
circuit = Microcircuit(sim, params, verbose=False).build()
backend.finish_build(sim)
projections = network_io.projections(circuit)
first, second = read(backend, projections), read(backend, projections)
same = all(np.array_equal(rows(new), rows(reference(p))) and new[0].dtype == np.int32
           for p, new in zip(projections, first))
twice = all(np.array_equal(a, b) for x, y in zip(first, second) for a, b in zip(x, y))
print(f"READ {len(projections)} {sum(len(x[0]) for x in first)} {same} {twice}")
