/**
 * 0.2's settings as config reads them: FLUX_OPTION_FLAGS, FLUX_NUMBER_NODES, FLUX_HAS_GPUS.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../server/config.js";

const load = (env: Record<string, string>) => loadConfig({ FLUX_RESTFUL_DATA_DIR: "/tmp/unused", ...env });

describe("FLUX_OPTION_FLAGS", () => {
  it("parses as 0.2 did: shell words, -o stripped, KEY=VALUE", () => {
    expect(load({ FLUX_OPTION_FLAGS: "-ompi=openmpi@5 -okey=value" }).optionFlags).toEqual({ mpi: "openmpi@5", key: "value" });
    expect(load({ FLUX_OPTION_FLAGS: `cpu-affinity=per-task '-oenv=A B' -o pty=true` }).optionFlags).toEqual({
      "cpu-affinity": "per-task",
      env: "A B",
      pty: "true",
    });
    expect(load({}).optionFlags).toEqual({});
    expect(load({ FLUX_OPTION_FLAGS: "  " }).optionFlags).toEqual({});
  });

  it("stops startup on a word that is not KEY=VALUE, naming it (0.2 skipped it with a warning)", () => {
    expect(() => load({ FLUX_OPTION_FLAGS: "-ompi=openmpi@5 -overbose" })).toThrow(ConfigError);
    expect(() => load({ FLUX_OPTION_FLAGS: "-ompi=openmpi@5 -overbose" })).toThrow('FLUX_OPTION_FLAGS: "-overbose" is not -oKEY=VALUE');
    expect(() => load({ FLUX_OPTION_FLAGS: "-o=x" })).toThrow(ConfigError);
    expect(() => load({ FLUX_OPTION_FLAGS: "-o" })).toThrow('"-o" must be followed by KEY=VALUE');
    expect(() => load({ FLUX_OPTION_FLAGS: "-oa='unbalanced" })).toThrow(/cannot be split into shell words/);
  });
});

describe("FLUX_NUMBER_NODES and FLUX_HAS_GPUS", () => {
  it("are unset by default: no cap on what the backend discovers", () => {
    const config = load({});
    expect(config.numberNodes).toBeUndefined();
    expect(config.hasGpus).toBeUndefined();
  });

  it("parse strictly", () => {
    expect(load({ FLUX_NUMBER_NODES: "4", FLUX_HAS_GPUS: "false" })).toMatchObject({ numberNodes: 4, hasGpus: false });
    expect(load({ FLUX_HAS_GPUS: "yes" }).hasGpus).toBe(true);
    expect(() => load({ FLUX_NUMBER_NODES: "0" })).toThrow(ConfigError);
    expect(() => load({ FLUX_NUMBER_NODES: "many" })).toThrow(ConfigError);
    // 0.2 took any non-empty value, "false" included, as true.
    expect(() => load({ FLUX_HAS_GPUS: "sure" })).toThrow(ConfigError);
  });
});
