/**
 * FLUX_NUMBER_NODES and FLUX_HAS_GPUS, with the meaning they keep here: they only cap what
 * the backend discovers (0.2 took them as the truth, defaulting to one node and no gpus).
 * The cap wraps the backend, so every API (Connect, REST, web UI) sees the same nodes and
 * refuses the same requests.
 */
import type { JobBackend } from "../backends/backend.js";
import { InvalidJobRequestError } from "../backends/backend-errors.js";

export interface ResourceCaps {
  /** At most this many nodes are reported, and a job may ask for at most this many. */
  maxNodes?: number;
  /** false: gpus are reported as 0 and gpu requests refused; true or undefined: no cap. */
  gpus?: boolean;
}

/** The backend itself when there is nothing to cap. */
export function capBackendResources(backend: JobBackend, caps: ResourceCaps): JobBackend {
  const { maxNodes, gpus } = caps;
  if (maxNodes === undefined && gpus !== false) return backend;
  return {
    get name() {
      return backend.name;
    },
    start: () => backend.start(),
    close: () => backend.close(),
    ready: () => backend.ready(),
    get: (id) => backend.get(id),
    list: (query) => backend.list(query),
    cancel: (id, note) => backend.cancel(id, note),
    output: (id, offset, limit) => backend.output(id, offset, limit),
    followOutput: (id, offset, signal) => backend.followOutput(id, offset, signal),
    followEvents: (id, signal) => backend.followEvents(id, signal),
    async submit(request, owner) {
      if (maxNodes !== undefined && request.numNodes !== undefined && request.numNodes > maxNodes) {
        throw new InvalidJobRequestError("num_nodes", `the server only has ${maxNodes} nodes, you requested ${request.numNodes}`);
      }
      if (gpus === false && request.gpusPerTask > 0) {
        throw new InvalidJobRequestError("gpus_per_task", "this server does not support gpus (FLUX_HAS_GPUS is false)");
      }
      return backend.submit(request, owner);
    },
    async nodes() {
      let nodes = await backend.nodes();
      if (maxNodes !== undefined) nodes = [...nodes].sort((a, b) => a.rank - b.rank).slice(0, maxNodes);
      if (gpus === false) nodes = nodes.map((n) => ({ ...n, gpus: 0, gpusAllocated: 0 }));
      return nodes;
    },
  };
}
