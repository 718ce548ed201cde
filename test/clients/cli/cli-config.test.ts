/**
 * `config` and the settings precedence, with real files in a temporary HOME. Which host the
 * CLI chose shows in its "cannot reach the server at <host>" error (nothing listens on the
 * low ports used; the default port is held by the test itself), so no server is needed here; credentials precedence is in cli-auth.test.ts.
 */
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import YAML from "yaml";
import { describe, expect, test, vi } from "vitest";
import { createCliHome, runCli, type CliHome } from "./cli-harness.js";

// Each CLI run is a Node process (about half a CPU second); on a loaded 2-core machine they queue.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

/** Each test gets its own HOME, so the tests can run concurrently. */
const it = test.extend<{ home: CliHome }>({
  // eslint-disable-next-line no-empty-pattern
  home: async ({}, use) => {
    const home = await createCliHome();
    await use(home);
    await home.cleanup();
  },
});

const hostChosen = async (args: string[], env: Record<string, string>) => {
  const res = await runCli([...args, "list-nodes"], { env });
  expect(res.code).toBe(1);
  return /cannot reach the server at (\S+):/.exec(res.stderr)?.[1];
};

/**
 * Whether a CLI run with no host configured contacts the default, 127.0.0.1:5000. The test
 * holds that port itself meanwhile (dropping every connection): it is the service's default
 * port, so a server someone runs on this machine may be answering there, and then the run
 * would not fail with "cannot reach". "port taken" when something else holds it.
 */
async function contactsDefaultHost(env: Record<string, string>): Promise<boolean | "port taken"> {
  let contacted = false;
  const holder = net.createServer((socket) => {
    contacted = true;
    socket.destroy();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      holder.once("error", reject);
      holder.listen(5000, "127.0.0.1", resolve);
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EADDRINUSE") return "port taken";
    throw e;
  }
  try {
    const res = await runCli(["list-nodes"], { env });
    expect(res.code).toBe(1);
    return contacted;
  } finally {
    await new Promise((r) => holder.close(r));
  }
}

async function writeYaml(file: string, data: Record<string, unknown>) {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, YAML.stringify(data));
}

describe.concurrent("settings precedence: flag > environment > user settings > central > defaults", () => {
  it("picks the host from each layer in turn", async ({ home, expect }) => {
    const env = home.env;
    const defaultUsed = await contactsDefaultHost(env);
    if (defaultUsed === "port taken") {
      // Something else answers on the default port: the setting is all that can be checked.
      const get = await runCli(["config", "get", "host"], { env });
      expect(get.stdout).toBe(`${"host".padEnd(30)} http://127.0.0.1:5000\n`);
    } else {
      expect(defaultUsed).toBe(true);
    }

    await writeYaml(home.central, { host: "http://127.0.0.1:2" });
    expect(await hostChosen([], env)).toBe("http://127.0.0.1:2");

    await writeYaml(home.userSettings, { host: "http://127.0.0.1:3" });
    expect(await hostChosen([], env)).toBe("http://127.0.0.1:3");

    const withEnv = { ...env, FLUX_RESTFUL_HOST: "http://127.0.0.1:4" };
    expect(await hostChosen([], withEnv)).toBe("http://127.0.0.1:4");

    const [byFlag, byC] = await Promise.all([
      hostChosen(["--host", "http://127.0.0.1:5"], withEnv),
      hostChosen(["-c", "set:host:http://127.0.0.1:6"], withEnv),
    ]);
    expect([byFlag, byC]).toEqual(["http://127.0.0.1:5", "http://127.0.0.1:6"]);
  });

  it("--settings-file replaces the user's file for every command", async ({ home, expect }) => {
    await writeYaml(home.userSettings, { host: "http://127.0.0.1:3" });
    const other = path.join(home.home, "other.yml");
    await writeYaml(other, { host: "http://127.0.0.1:7", workdir: "/from-other" });

    expect(await hostChosen(["--settings-file", other], home.env)).toBe("http://127.0.0.1:7");
    const get = await runCli(["config", "get", "workdir", "--settings-file", other], { env: home.env });
    expect(get.stdout).toBe(`${"workdir".padEnd(30)} /from-other\n`);
  });

  it("refuses a missing --settings-file, and broken settings files, naming them", async ({ home, expect }) => {
    const missing = path.join(home.home, "nope.yml");
    const res = await runCli(["--settings-file", missing, "list-nodes"], { env: home.env });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`flux-restful-cli: settings file "${missing}" does not exist\n`);

    await writeYaml(home.userSettings, { host: "http://127.0.0.1:3", colour: "blue" });
    const unknown = await runCli(["list-nodes"], { env: home.env });
    expect(unknown.stderr).toBe(
      `flux-restful-cli: settings file "${home.userSettings}": unknown key "colour" (known: host, flux_user, flux_token, config_editor, workdir)\n`,
    );

    await fs.writeFile(home.userSettings, "host: [unclosed\n");
    const invalid = await runCli(["list-nodes"], { env: home.env });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^flux-restful-cli: settings file ".*" is not valid YAML: .+\n$/);

    await writeYaml(home.userSettings, { host: "127.0.0.1:5000" });
    const badHost = await runCli(["list-nodes"], { env: home.env });
    expect(badHost.stderr).toContain('host must be an http:// or https:// URL (got "127.0.0.1:5000")');
  });

  it("refuses bad -c and --host values before doing anything", async ({ home, expect }) => {
    const [c, key, host] = await Promise.all([
      runCli(["-c", "add:host:x", "list-nodes"], { env: home.env }),
      runCli(["-c", "set:colour:blue", "list-nodes"], { env: home.env }),
      runCli(["--host", "ftp://x", "list-nodes"], { env: home.env }),
    ]);
    expect([c.code, c.stderr]).toEqual([2, 'flux-restful-cli: -c takes set:KEY:VALUE (got "add:host:x")\n']);
    expect(key.stderr).toContain('unknown setting "colour"');
    expect(host.stderr).toContain('host must be an http:// or https:// URL (got "ftp://x")');
  });
});

describe.concurrent("config", () => {
  it("get shows the files' values, hides the token in a full listing and shows it by name", async ({ home, expect }) => {
    await writeYaml(home.central, { config_editor: "nano" });
    await writeYaml(home.userSettings, { flux_user: "alice", flux_token: "s3cret" });

    const all = await runCli(["config", "get"], { env: home.env });
    const token = await runCli(["config", "get", "flux_token", "host"], { env: home.env });
    const json = await runCli(["config", "get", "--json"], { env: home.env });

    expect(all.stdout).toBe(
      [
        `${"host".padEnd(30)} http://127.0.0.1:5000`,
        `${"flux_user".padEnd(30)} alice`,
        `${"flux_token".padEnd(30)} (set)`,
        `${"config_editor".padEnd(30)} nano`,
        `${"workdir".padEnd(30)} is unset`,
        "",
      ].join("\n"),
    );
    expect(token.stdout).toBe(`${"flux_token".padEnd(30)} s3cret\n${"host".padEnd(30)} http://127.0.0.1:5000\n`);
    expect(JSON.parse(json.stdout)).toEqual({
      host: "http://127.0.0.1:5000",
      flux_user: "alice",
      flux_token: "s3cret",
      config_editor: "nano",
      workdir: null,
    });
  });

  it("set writes the user's file (mode 600), keeps its comments, takes KEY:VALUE and unsets with none", async ({ home, expect }) => {
    await fs.mkdir(path.dirname(home.userSettings), { recursive: true });
    await fs.writeFile(home.userSettings, "# my notes\nflux_user: alice # me\n");

    const a = await runCli(["config", "set", "host", "http://node1:5000"], { env: home.env });
    const b = await runCli(["config", "set", "workdir:/scratch/a:b"], { env: home.env });
    const c = await runCli(["config", "set", "flux_user", "none"], { env: home.env });

    expect([a.code, b.code, c.code]).toEqual([0, 0, 0]);
    expect(a.stderr).toBe(`flux-restful-cli: host set in ${home.userSettings}\n`);
    const text = await fs.readFile(home.userSettings, "utf8");
    expect(text).toContain("# my notes");
    expect(YAML.parse(text)).toEqual({ flux_user: null, host: "http://node1:5000", workdir: "/scratch/a:b" });
    expect((await fs.stat(home.userSettings)).mode & 0o777).toBe(0o600);
    await expect(fs.access(home.central)).rejects.toThrow(); // the central file was not touched
  });

  it("set --central writes the central file only", async ({ home, expect }) => {
    const res = await runCli(["config", "--central", "set", "host", "http://central:5000"], { env: home.env });
    expect(res.code).toBe(0);
    expect(YAML.parse(await fs.readFile(home.central, "utf8"))).toEqual({ host: "http://central:5000" });
    await expect(fs.access(home.userSettings)).rejects.toThrow();
    const get = await runCli(["config", "get", "host", "--central"], { env: home.env });
    expect(get.stdout).toBe(`${"host".padEnd(30)} http://central:5000\n`);
  });

  it.for<[string[], number, string]>([
    [["config"], 2, "config needs a subcommand: get, set, edit or inituser"],
    [["config", "frob"], 2, '"frob" is not a config subcommand'],
    [["config", "set", "host"], 2, "config set needs KEY VALUE (or KEY:VALUE)"],
    [["config", "set", "colour", "blue"], 2, 'unknown setting "colour"'],
    [["config", "set", "host", "nonsense"], 1, 'config set: host must be an http:// or https:// URL (got "nonsense")'],
    [["config", "get", "colour"], 2, 'unknown setting "colour"'],
  ])("%j fails with one line", async ([args, code, message], { home, expect }) => {
    const res = await runCli(args, { env: home.env });
    expect(res.code).toBe(code);
    expect(res.stderr).toContain(`flux-restful-cli: ${message}`);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("inituser copies the central file once, then refuses", async ({ home, expect }) => {
    await fs.writeFile(home.central, "# site defaults\nhost: http://site:5000\n");

    const first = await runCli(["config", "inituser"], { env: home.env });
    const second = await runCli(["config", "inituser"], { env: home.env });

    expect(first.code).toBe(0);
    expect(await fs.readFile(home.userSettings, "utf8")).toBe("# site defaults\nhost: http://site:5000\n");
    expect((await fs.stat(home.userSettings)).mode & 0o777).toBe(0o600);
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(`flux-restful-cli: "${home.userSettings}" already exists; remove it first to re-create it\n`);
  });

  it("edit opens the user's file in $EDITOR, then VISUAL, then config_editor, and checks the result", async ({ home, expect }) => {
    const editor = path.join(home.home, "fake-editor.sh");
    // A scripted editor: appends the line given in its first argument to the file.
    await fs.writeFile(editor, '#!/bin/sh\nprintf "%s\\n" "$1" >> "$2"\n', { mode: 0o755 });

    const viaEditor = await runCli(["config", "edit"], { env: { ...home.env, EDITOR: `${editor} 'workdir: /w1'`, VISUAL: `${editor} 'ignored: 1'` } });
    expect(viaEditor.code).toBe(0);
    expect(YAML.parse(await fs.readFile(home.userSettings, "utf8"))).toEqual({ workdir: "/w1" });

    await fs.rm(home.userSettings);
    const viaVisual = await runCli(["config", "edit"], { env: { ...home.env, VISUAL: `${editor} 'workdir: /w2'` } });
    expect(viaVisual.code).toBe(0);
    expect(YAML.parse(await fs.readFile(home.userSettings, "utf8"))).toEqual({ workdir: "/w2" });

    await writeYaml(home.central, { config_editor: `${editor} 'host: not a url'` });
    const broken = await runCli(["config", "edit"], { env: home.env });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('host must be an http:// or https:// URL (got "not a url")');
  });

  it("edit reports a missing editor", async ({ home, expect }) => {
    const res = await runCli(["config", "edit"], { env: { ...home.env, EDITOR: "no-such-editor-anywhere" } });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      'flux-restful-cli: editor "no-such-editor-anywhere" not found; set EDITOR, or run flux-restful-cli config set config_editor NAME\n',
    );
  });

  it("ships a central file with 0.2's defaults", async ({ home, expect }) => {
    const env = { ...home.env };
    delete (env as Record<string, string | undefined>).FLUX_RESTFUL_CLI_CENTRAL_SETTINGS;
    // Through the installed entry point: the central file is found next to the real modules.
    const res = await runCli(["config", "get", "--central", "--json"], { env, viaBin: true });
    expect(JSON.parse(res.stdout)).toEqual({
      host: "http://127.0.0.1:5000",
      flux_user: null,
      flux_token: null,
      config_editor: "vim",
      workdir: null,
    });
  });
});
