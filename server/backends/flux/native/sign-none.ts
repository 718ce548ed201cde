/**
 * The signed-jobspec envelope J with mechanism "none", as libjob/sign_none.c builds it:
 *
 *   base64(HEADER) "." base64(jobspec) ".none"
 *
 * HEADER is NUL-separated key/value pairs with typed values, "version\0i1\0userid\0i<uid>
 * \0mechanism\0snone\0"; standard base64 with padding. job-ingest accepts mechanism none
 * only from the instance owner and only when the signer uid is the connection's uid, so
 * this is how an owner-run server submits; other users need a real (munge) signature,
 * which is why multi-user submissions keep the CLI run as that user.
 */

/** Wraps a jobspec (JSON text) for job-ingest.submit, signed "none" by `userid`. */
export function signNone(jobspec: string, userid: number): string {
  if (!Number.isInteger(userid) || userid < 0 || userid > 0xffffffff) throw new RangeError(`invalid signer uid "${userid}"`);
  const header = Buffer.from(`version\0i1\0userid\0i${userid}\0mechanism\0snone\0`, "utf8").toString("base64");
  const payload = Buffer.from(jobspec, "utf8").toString("base64");
  return `${header}.${payload}.none`;
}

/** The signer uid and jobspec text of a "none" envelope (what job-ingest checks); undefined when malformed. */
export function unwrapNone(J: string): { userid: number; jobspec: string } | undefined {
  const parts = J.split(".");
  if (parts.length !== 3 || parts[2] !== "none") return undefined;
  const fields = Buffer.from(parts[0]!, "base64").toString("utf8").split("\0");
  if (fields[fields.length - 1] === "") fields.pop();
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  const uid = map.get("userid");
  if (map.get("version") !== "i1" || map.get("mechanism") !== "snone" || uid === undefined || !/^i\d+$/.test(uid)) return undefined;
  return { userid: Number(uid.slice(1)), jobspec: Buffer.from(parts[1]!, "base64").toString("utf8") };
}
