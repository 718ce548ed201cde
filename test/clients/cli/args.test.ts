import { describe, expect, it } from "vitest";
import { intOption, parseArgs } from "../../../clients/cli/args.js";
import { UsageError } from "../../../clients/cli/cli-error.js";

const specs = { workdir: { type: "string" }, exclusive: { type: "boolean" }, env: { type: "string", multiple: true }, c: { type: "string", short: "c", multiple: true } } as const;

describe("parseArgs", () => {
  it("reads --name value, --name=value, booleans, repeats and short aliases", () => {
    const { options, positionals } = parseArgs(["--workdir", "/a b", "--env=X=1", "-c", "set:host:http://h:1", "--env", "Y", "--exclusive", "p"], specs);
    expect(options).toEqual({ workdir: "/a b", env: ["X=1", "Y"], c: ["set:host:http://h:1"], exclusive: true });
    expect(positionals).toEqual(["p"]);
  });

  it("treats - and _ alike in option names", () => {
    expect(parseArgs(["--work-dir", "x"], { work_dir: { type: "string" } }).options).toEqual({ work_dir: "x" });
  });

  it("leaves everything from the first positional to the command when asked", () => {
    const { options, positionals } = parseArgs(["--exclusive", "sh", "-c", "echo --workdir", "--exclusive"], specs, { stopAtFirstPositional: true });
    expect(options).toEqual({ exclusive: true });
    expect(positionals).toEqual(["sh", "-c", "echo --workdir", "--exclusive"]);
  });

  it("stops at --", () => {
    expect(parseArgs(["--", "--exclusive"], specs).positionals).toEqual(["--exclusive"]);
  });

  it.each([
    [["--bogus"], 'unknown option "--bogus"'],
    [["-z"], 'unknown option "-z"'],
    [["--workdir"], "option --workdir needs a value"],
    [["--exclusive=yes"], 'option --exclusive takes no value (got "--exclusive=yes")'],
  ])("rejects %j", (argv, message) => {
    expect(() => parseArgs(argv, specs)).toThrow(new UsageError(message));
  });

  it("checks whole numbers and their range", () => {
    expect(intOption({ n: "4" }, "n", 1)).toBe(4);
    expect(intOption({}, "n", 1)).toBeUndefined();
    expect(() => intOption({ n: "0" }, "n", 1)).toThrow('--n must be a whole number from 1 to 2147483647 (got "0")');
    expect(() => intOption({ n: "2.5" }, "n", 1)).toThrow(UsageError);
  });
});
