/**
 * The RFC 21 state machine: each main eventlog event moves a job record the way flux-core's
 * job-manager and job-list do, so a record is always the fold of its eventlog.
 */
import { JobStateBit, type JobEvent, type JobRecord } from "../backend.js";
import { deriveResult, returncodeOf } from "./wait-status.js";

const num = (v: unknown): number => (typeof v === "number" ? v : 0);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** Applies one event to the record in place (RFC 21 "State Transitions"). */
export function applyEvent(record: JobRecord, event: JobEvent): void {
  const ts = event.timestamp;
  const ctx = event.context ?? {};
  switch (event.name) {
    case "submit":
      record.state = JobStateBit.NEW;
      record.t_submit = ts;
      record.urgency = num(ctx.urgency);
      record.userid = num(ctx.userid);
      break;
    case "validate":
      record.state = JobStateBit.DEPEND;
      record.t_depend = ts;
      break;
    case "depend":
      record.state = JobStateBit.PRIORITY;
      record.t_priority = ts;
      break;
    case "priority":
      record.priority = num(ctx.priority);
      if (record.state === JobStateBit.PRIORITY) {
        record.state = JobStateBit.SCHED;
        record.t_sched = ts;
      }
      break;
    case "alloc":
      record.state = JobStateBit.RUN;
      record.t_run = ts;
      break;
    case "exception":
      noteException(record, str(ctx.type), num(ctx.severity), str(ctx.note));
      // RFC 21: a severity-0 exception moves any active job to CLEANUP
      if (num(ctx.severity) === 0) enterCleanup(record, ts);
      break;
    case "finish":
      record.waitstatus = num(ctx.status);
      enterCleanup(record, ts);
      break;
    case "clean":
      record.state = JobStateBit.INACTIVE;
      record.t_inactive = ts;
      record.result = deriveResult({
        t_run: record.t_run,
        waitstatus: record.waitstatus,
        exceptionType: record.exception.occurred && record.exception.severity === 0 ? record.exception.type : undefined,
      });
      {
        const rc = returncodeOf(record.waitstatus, record.result);
        if (rc !== undefined) record.returncode = rc;
      }
      break;
    default:
      // start, release, free, and anything informational: no state change
      break;
  }
}

function enterCleanup(record: JobRecord, ts: number): void {
  if (record.state === JobStateBit.CLEANUP || record.state === JobStateBit.INACTIVE) return;
  record.state = JobStateBit.CLEANUP;
  record.t_cleanup = ts;
}

// job-list keeps the most severe exception (lowest severity); the first one wins a tie.
function noteException(record: JobRecord, type: string, severity: number, note: string): void {
  const current = record.exception;
  if (current.occurred && current.severity <= severity) return;
  record.exception = { occurred: true, type, severity, note };
}
