/**
 * Whether a request could ever run on the instance's resources, checked before
 * submitting. Flux accepts an impossible request and fails it moments later with an
 * "alloc" exception (submit-gpu-none.txt, then job-info-unsatisfiable-gpu-eventlog.txt);
 * the API promises an InvalidArgument instead, so the scheduler's feasibility rules
 * (flux-core sched-simple, Rv1Pool._check_feasibility) are applied here to the whole
 * instance, with its messages.
 */
import { InvalidJobRequestError } from "../backend-errors.js";
import type { JobRequest } from "../backend.js";

export interface RankCapacity {
  cores: number;
  gpus: number;
}

/** Throws InvalidJobRequestError, carrying the scheduler's words, when the request can never be satisfied. */
export function checkFeasible(request: JobRequest, ranks: readonly RankCapacity[]): void {
  const slotSize = request.coresPerTask;
  const gpuPerSlot = request.gpusPerTask;
  if (request.numNodes !== undefined) {
    const nnodes = request.numNodes;
    const nslots = Math.ceil(request.numTasks / nnodes) * nnodes;
    if (request.exclusive) {
      const eligible = ranks.filter((r) => r.cores >= slotSize && (gpuPerSlot === 0 || r.gpus >= gpuPerSlot)).length;
      if (eligible < nnodes) {
        throw new InvalidJobRequestError("num_nodes", `unsatisfiable request: need ${nnodes} exclusive node(s), only ${eligible} eligible`);
      }
      return;
    }
    const slotsPerNode = Math.floor(nslots / nnodes);
    const coresPerNode = slotsPerNode * slotSize;
    const gpusPerNode = slotsPerNode * gpuPerSlot;
    const eligible = ranks.filter((r) => r.cores >= coresPerNode && r.gpus >= gpusPerNode).length;
    if (eligible < nnodes) {
      const gpus = gpusPerNode ? ` and ${gpusPerNode} GPUs` : "";
      throw new InvalidJobRequestError(
        "num_nodes",
        `unsatisfiable request: need ${nnodes} node(s) with ${coresPerNode} cores${gpus} each, only ${eligible} eligible`,
      );
    }
    return;
  }
  const nslots = request.numTasks;
  // A slot must fit within one rank.
  const slots = ranks.reduce((n, r) => n + Math.floor(r.cores / slotSize), 0);
  if (slots < nslots) {
    const totalCores = ranks.reduce((n, r) => n + r.cores, 0);
    throw new InvalidJobRequestError(
      "num_tasks",
      `unsatisfiable request: need ${nslots} slot(s) of ${slotSize} core(s), only ${slots} such slot(s) available (total cores: ${totalCores})`,
    );
  }
  if (gpuPerSlot > 0) {
    const gpuSlots = ranks.reduce((n, r) => n + Math.min(Math.floor(r.cores / slotSize), Math.floor(r.gpus / gpuPerSlot)), 0);
    if (gpuSlots < nslots) {
      const totalGpus = ranks.reduce((n, r) => n + r.gpus, 0);
      throw new InvalidJobRequestError(
        "gpus_per_task",
        `unsatisfiable request: need ${nslots} slot(s) with ${gpuPerSlot} GPU(s) each, only ${gpuSlots} available (total GPUs: ${totalGpus})`,
      );
    }
  }
}
