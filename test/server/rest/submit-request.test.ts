import { describe, expect, it } from "vitest";
import type { ParsedBody } from "../../../server/rest/http-io.js";
import { isRestInputError } from "../../../server/rest/legacy-errors.js";
import { parsePythonDict } from "../../../server/rest/python-dict.js";
import { parseOptionFlags, toSubmitRequest } from "../../../server/rest/submit-request.js";

const none: ParsedBody = { kind: "empty" };
const q = (init: Record<string, string>) => new URLSearchParams(init);
const errorsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    if (isRestInputError(e)) return e.errors;
    throw e;
  }
  throw new Error("expected bad input");
};

describe("toSubmitRequest", () => {
  it("reads 0.2's query string: shlex-split command, integers, booleans, option_flags, runtime", () => {
    const r = toSubmitRequest(
      q({
        command: `echo "pancakes 🥞" 'a b' c\\ d`,
        num_tasks: "4",
        cores_per_task: "2",
        gpus_per_task: "0",
        num_nodes: "1",
        exclusive: "true",
        option_flags: "ompi=openmpi@5,cpu-affinity=per-task",
        workdir: "/tmp",
        runtime: "90",
        is_launcher: "false",
      }),
      none,
    );
    expect(r).toEqual({
      command: ["echo", "pancakes 🥞", "a b", "c d"],
      numTasks: 4,
      coresPerTask: 2,
      gpusPerTask: 0,
      numNodes: 1,
      exclusive: true,
      isLauncher: false,
      workdir: "/tmp",
      timeLimitSeconds: 90,
      shellOptions: { ompi: "openmpi@5", "cpu-affinity": "per-task" },
      environment: {},
    });
  });

  it("treats empty values (httpx sends None as \"\") as unset", () => {
    const r = toSubmitRequest(q({ command: "true", num_tasks: "", exclusive: "", workdir: "", option_flags: "" }), none);
    expect(r.numTasks).toBeUndefined();
    expect(r.exclusive).toBe(false);
    expect(r.shellOptions).toEqual({});
  });

  it("reads a JSON body with command as the fields, keeping a list as argv", () => {
    const body: ParsedBody = {
      kind: "json",
      value: { command: ["printf", "%s\\n", "a b", 3], num_tasks: 2, exclusive: null, option_flags: { pty: "true" }, envars: { FOO: "bar" } },
    };
    const r = toSubmitRequest(new URLSearchParams(), body);
    expect(r.command).toEqual(["printf", "%s\\n", "a b", "3"]);
    expect(r.numTasks).toBe(2);
    expect(r.shellOptions).toEqual({ pty: "true" });
    expect(r.environment).toEqual({ FOO: "bar" });
  });

  it("reads a JSON body without command as the environment, as 0.2 did", () => {
    const r = toSubmitRequest(q({ command: "env" }), { kind: "json", value: { FOO: "bar", N: 3 } });
    expect(r.command).toEqual(["env"]);
    expect(r.environment).toEqual({ FOO: "bar", N: "3" });
  });

  it("reads form fields (httpx data=), with envars as the text of a Python dict", () => {
    const body: ParsedBody = {
      kind: "form",
      fields: new URLSearchParams({ command: "sleep 1", num_tasks: "1", envars: `{'FOO': 'it\\'s', "BAR": 'x y'}`, exclusive: "False" }),
    };
    const r = toSubmitRequest(new URLSearchParams(), body);
    expect(r.command).toEqual(["sleep", "1"]);
    expect(r.environment).toEqual({ FOO: "it's", BAR: "x y" });
    expect(r.exclusive).toBe(false);
  });

  it("leaves command empty when none is given (the route answers 0.2's message)", () => {
    expect(toSubmitRequest(new URLSearchParams(), none).command).toEqual([]);
    expect(toSubmitRequest(q({ command: "   " }), none).command).toEqual([]);
  });

  it("collects every bad field with its name", () => {
    const errors = errorsOf(() => toSubmitRequest(q({ command: "echo 'unbalanced", num_tasks: "two", exclusive: "maybe", runtime: "soon" }), none));
    expect(errors).toEqual([
      expect.stringMatching(/^command: cannot be split like a shell command/),
      'num_tasks: must be an integer (got "two")',
      'exclusive: must be true or false (got "maybe")',
      'runtime: must be a number of seconds (got "soon")',
    ]);
  });

  it("refuses unknown fields, a field given twice, and a body that is not an object", () => {
    expect(errorsOf(() => toSubmitRequest(q({ command: "true", num_task: "2" }), none))).toEqual([
      expect.stringMatching(/^num_task: unknown parameter/),
    ]);
    expect(errorsOf(() => toSubmitRequest(q({ command: "true" }), { kind: "json", value: { command: "false" } }))).toEqual([
      "command: given more than once",
    ]);
    expect(errorsOf(() => toSubmitRequest(q({ command: "true" }), { kind: "json", value: ["a"] }))).toEqual([
      expect.stringMatching(/^body: must be a JSON object/),
    ]);
    expect(errorsOf(() => toSubmitRequest(q({ command: "true", envars: '{"A":"1"}' }), { kind: "json", value: { B: "2" } }))).toEqual([
      "envars: given both in the body and as a field",
    ]);
  });
});

describe("parseOptionFlags", () => {
  it("refuses keys that still carry -o, as the 0.2 client's test expects", () => {
    const errors = errorsOf(() => parseOptionFlags("-ompi=noodles"));
    expect(errors[0]).toContain("keys without -o");
    expect(errorsOf(() => parseOptionFlags({ "-ompi": "noodles" }))[0]).toContain("keys without -o");
  });

  it("refuses a flag that is not KEY=VALUE instead of skipping it", () => {
    expect(errorsOf(() => parseOptionFlags("a=1,verbose"))).toEqual(['option_flags: "verbose" is not KEY=VALUE (write "k=v,k2=v2")']);
  });

  it("keeps everything after the first = as the value", () => {
    expect(parseOptionFlags("env=A=B, x=1,")).toEqual({ env: "A=B", x: "1" });
  });
});

describe("parsePythonDict", () => {
  it("reads str() of a flat dict of strings", () => {
    expect(parsePythonDict(`{'A': 'x', "B": "it's", 'C': 'tab\\there', 'D': 3, 'E': None, 'F': '\\u00e9\\x41'}`)).toEqual({
      A: "x",
      B: "it's",
      C: "tab\there",
      D: "3",
      E: "None",
      F: "éA",
    });
    expect(parsePythonDict("{}")).toEqual({});
  });

  it("refuses anything else", () => {
    for (const bad of ["", "{'a': 'b'", "{'a': ['b']}", "{a: 'b'}", "{'a': 'b'} extra", "['a']"]) {
      expect(() => parsePythonDict(bad), bad).toThrow();
    }
  });
});
