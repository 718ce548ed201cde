import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { signNone, unwrapNone } from "../../../../../server/backends/flux/native/index.js";
import { FLUX_REFERENCE_DIR } from "../../../../support/reference-dir.js";

/** stdout of a transcript (flux-reference/README.md format). */
function stdoutOf(name: string): string {
  const text = fs.readFileSync(path.join(FLUX_REFERENCE_DIR, name), "utf8");
  return /# ----- stdout \(\d+ bytes\) -----\n([\s\S]*?)# ----- stderr/.exec(text)![1]!;
}

describe("none signing", () => {
  it("builds exactly the J that flux job submit sent (job-info-completed-J.txt)", () => {
    const recorded = stdoutOf("job-info-completed-J.txt").trim();
    const jobspec = Buffer.from(recorded.split(".")[1]!, "base64").toString("utf8");
    expect(signNone(jobspec, 0)).toBe(recorded);
  });

  it("puts the signer uid in the header and round-trips", () => {
    const J = signNone('{"version":1}', 1000);
    expect(Buffer.from(J.split(".")[0]!, "base64").toString("utf8")).toBe("version\0i1\0userid\0i1000\0mechanism\0snone\0");
    expect(unwrapNone(J)).toEqual({ userid: 1000, jobspec: '{"version":1}' });
    expect(unwrapNone(J.replace(/\.none$/, ".munge"))).toBeUndefined();
    expect(() => signNone("{}", -1)).toThrow(/invalid signer uid/);
  });
});
