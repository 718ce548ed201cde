/**
 * RFC 31 constraints for job-list.list, so filters run in the broker instead of after
 * fetching every job. Operators as job-list's match.c knows them: userid, name, queue,
 * states and results (bitmasks), and t_submit..t_inactive comparisons (">=T").
 */
import { USERID_UNKNOWN } from "./wire-constants.js";

export type Rfc31Constraint = { [op: string]: Array<Rfc31Constraint | string | number> };

export interface JobListFilter {
  /** Jobs of this user; "all" for every user. */
  userid: number | "all";
  /** RFC 21 state bits; defaults to every state (active and inactive). */
  states?: number;
  /** Result bits (COMPLETED 1, FAILED 2, CANCELED 4, TIMEOUT 8); inactive jobs only. */
  results?: number;
  name?: string;
  queue?: string;
  /** Submitted at or after this epoch time (seconds). */
  submittedSince?: number;
}

/** `{"and": [...]}` for a filter, in the shape `flux job list` sends. */
export function jobListConstraint(filter: JobListFilter): Rfc31Constraint {
  // FLUX_USERID_UNKNOWN is job-list's wildcard (match.c match_userid); flux job list -A sends it.
  const and: Rfc31Constraint[] = [{ userid: [filter.userid === "all" ? USERID_UNKNOWN : filter.userid] }, { states: [filter.states ?? 126] }];
  if (filter.results !== undefined) and.push({ results: [filter.results] });
  if (filter.name !== undefined) and.push({ name: [filter.name] });
  if (filter.queue !== undefined) and.push({ queue: [filter.queue] });
  if (filter.submittedSince !== undefined) and.push({ t_submit: [`>=${filter.submittedSince}`] });
  return { and };
}
