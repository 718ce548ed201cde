/**
 * What multi-user mode needs from the instance, checked at startup so a misconfigured
 * site fails with the reason instead of on the first job of another user:
 * - the server is the instance owner (or root with access.allow-root-owner), since only
 *   the owner sees and attaches to every user's jobs;
 * - guests may connect (access.allow-guest-user), or `flux job submit` as a user is refused;
 * - the instance runs jobs through the IMP (exec.imp), or jobs of other users cannot start.
 */
import { isJsonObject, type ExactJson } from "./exact-json.js";

/**
 * Reasons multi-user mode cannot work on this instance; empty when it can. Without the
 * config (a FluxCalls that cannot read it) only ownership is checked.
 */
export function multiUserProblems(config: ExactJson | undefined, ownerUid: number, serverUid: number): string[] {
  const section = (name: string) => (isJsonObject(config) && isJsonObject(config[name]) ? config[name] : {});
  const access = section("access");
  const exec = section("exec");
  const problems: string[] = [];
  const owner = serverUid === ownerUid || (serverUid === 0 && access["allow-root-owner"] === true);
  if (!owner) problems.push(`the server (uid ${serverUid}) is not the instance owner (uid ${ownerUid})`);
  if (config === undefined) return problems;
  if (access["allow-guest-user"] !== true) problems.push("the instance does not allow guest users (access.allow-guest-user)");
  if (typeof exec.imp !== "string" || exec.imp === "") problems.push("the instance has no IMP configured (exec.imp)");
  return problems;
}
