/**
 * The server starts and serves under a uid with no passwd entry, as containers run it
 * (`docker run --user N`, OpenShift's random uids), where os.userInfo() throws.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { processUser } from "../../server/process-user.js";

const BIN = path.resolve("bin/flux-restful-server.js");
// Far above any account this machine has; checked below against /etc/passwd.
const UNNAMED_UID = 54_321;

describe("processUser", () => {
  it("is the passwd entry of the current uid when there is one", () => {
    const { uid, username } = os.userInfo();
    expect(processUser()).toEqual({ uid, username });
  });
});

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)("the server under a uid without a passwd entry (needs root to switch uid)", () => {
  let dir: string | undefined;
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it("starts, answers health and runs a job, naming the operator uid-N", async (ctx) => {
    // The checkout must be readable by another uid (it is not when a parent folder is 0700).
    const probe = spawnSync(process.execPath, ["-e", `require("fs").accessSync(${JSON.stringify(BIN)}, 4)`], { uid: UNNAMED_UID, gid: UNNAMED_UID, cwd: "/" });
    if (probe.status !== 0) {
      process.emitWarning(`skipped: uid ${UNNAMED_UID} cannot read ${BIN} or run ${process.execPath}`, "FLUX_RESTFUL_TEST_SKIPPED");
      ctx.skip();
    }
    const passwd = await fs.readFile("/etc/passwd", "utf8").catch(() => "");
    expect(passwd.split("\n").some((l) => l.split(":")[2] === String(UNNAMED_UID))).toBe(false);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "unnamed-uid-"));
    await fs.chmod(dir, 0o777);
    const child = spawn(process.execPath, [BIN], {
      uid: UNNAMED_UID,
      gid: UNNAMED_UID,
      cwd: process.cwd(),
      env: { PATH: process.env.PATH!, LANG: "C.UTF-8", HOME: dir, PORT: "0", FLUX_RESTFUL_DATA_DIR: path.join(dir, "data"), FLUX_RESTFUL_BACKEND: "local" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    const exited = new Promise((r) => child.once("exit", r));
    stop = async () => {
      // SIGTERM, so the server ends its helper processes the way it does in production.
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    };
    let stderr = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        for (const line of stderr.slice(0, stderr.lastIndexOf("\n") + 1).split("\n")) {
          if (line.startsWith("{") && (JSON.parse(line) as { msg?: string }).msg === "listening") resolve((JSON.parse(line) as { url: string }).url);
        }
      });
      child.once("exit", (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const who = await fetch(`${url}/flux.restful.v1.AuthService/WhoAmI`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(await who.json()).toMatchObject({ username: `uid-${UNNAMED_UID}`, superuser: true });
    const submitted = await fetch(`${url}/v1/jobs/submit?command=${encodeURIComponent("id -u")}`, { method: "POST" });
    expect(submitted.status).toBe(200);
    const { id } = (await submitted.json()) as { id: number };
    await expect
      .poll(async () => ((await (await fetch(`${url}/v1/jobs/${id}/output`)).json()) as { Output: string[] }).Output.join(""), { timeout: 15_000 })
      .toBe(`${UNNAMED_UID}\n`);
  });
});
