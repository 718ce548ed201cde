/**
 * How the submit form's text becomes a SubmitJobRequest, and how a server message finds its field.
 */
import { describe, expect, it } from "vitest";
import { fieldOfMessage } from "../../../clients/web/src/errors.js";
import { formatDuration, shellQuote } from "../../../clients/web/src/format.js";
import { commandArgv, FieldError, parsePairs, toSubmitRequest, type SubmitFormValues } from "../../../clients/web/src/pages/submit-fields.js";

const blank: SubmitFormValues = {
  command: "hostname",
  useShell: false,
  name: "",
  numTasks: "",
  coresPerTask: "",
  gpusPerTask: "",
  numNodes: "",
  exclusive: false,
  workdir: "",
  timeLimit: "",
  timeLimitUnit: "m",
  urgency: "",
  queue: "",
  environment: "",
  shellOptions: "",
  isLauncher: false,
  unreadable: [],
};

const fieldOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof FieldError) return { field: e.field, message: e.message };
    throw e;
  }
  throw new Error("expected a FieldError");
};

describe("the submit form's values", () => {
  it("splits the command like a shell, or hands it to sh -c whole", () => {
    expect(commandArgv(`echo "a b" 'c'`, false)).toEqual(["echo", "a b", "c"]);
    expect(commandArgv("for i in 1 2; do echo $i; done", true)).toEqual(["sh", "-c", "for i in 1 2; do echo $i; done"]);
    expect(fieldOf(() => commandArgv("  ", false))).toEqual({ field: "command", message: "command: is required" });
    expect(fieldOf(() => commandArgv(`echo "open`, false)).field).toBe("command");
  });

  it("leaves empty number boxes to the server's defaults and converts the time limit to seconds", () => {
    const req = toSubmitRequest({ ...blank, timeLimit: "1.5", timeLimitUnit: "m", numTasks: "4", urgency: "0" });
    expect(req).toMatchObject({ command: ["hostname"], numTasks: 4, urgency: 0, timeLimitSeconds: 90 });
    expect(req.coresPerTask).toBeUndefined();
    expect(req.numNodes).toBeUndefined();
    expect(toSubmitRequest({ ...blank, timeLimit: "2", timeLimitUnit: "h" }).timeLimitSeconds).toBe(7200);
    expect(toSubmitRequest(blank).timeLimitSeconds).toBe(0);
  });

  it("names the field of what it cannot read", () => {
    expect(fieldOf(() => toSubmitRequest({ ...blank, numNodes: "1.5" }))).toEqual({ field: "num_nodes", message: 'num_nodes: must be a whole number (got "1.5")' });
    expect(fieldOf(() => toSubmitRequest({ ...blank, unreadable: ["cores_per_task"] })).field).toBe("cores_per_task");
    expect(fieldOf(() => toSubmitRequest({ ...blank, environment: "A=1\nnot a pair" }))).toEqual({
      field: "environment",
      message: 'environment: line 2: expected NAME=value (got "not a pair")',
    });
  });

  it("reads NAME=value lines, keeping '=' in values, and shell options without a value as 1", () => {
    expect(parsePairs("environment", "A=1\n\n# note\nB=x=y\r\nC=\n")).toEqual({ A: "1", B: "x=y", C: "" });
    expect(toSubmitRequest({ ...blank, shellOptions: "pty\ncpu-affinity=off" }).shellOptions).toEqual({ pty: "1", "cpu-affinity": "off" });
  });
});

describe("server messages", () => {
  it.each([
    ["num_nodes: must not be greater than num_tasks (3 > 1)", "num_nodes"],
    ['environment["1X"]: invalid name', "environment"],
    ["command[0]: must not contain NUL characters", "command"],
    ['workdir: must be an absolute path (got "a")', "workdir"],
    ["incorrect user name or password", undefined],
    ["Num: x", undefined],
  ])("finds the field of %j", (message, field) => {
    expect(fieldOfMessage(message)).toBe(field);
  });
});

describe("formatting", () => {
  it("writes durations short and argv as it would be typed", () => {
    expect([formatDuration(0.5), formatDuration(12.34), formatDuration(65), formatDuration(7260), formatDuration(90000)]).toEqual(["0.50s", "12.3s", "1m 05s", "2h 01m", "1d 01h"]);
    expect(shellQuote(["sh", "-c", "echo it's"])).toBe(`sh -c 'echo it'"'"'s'`);
  });
});
