/**
 * Errors as the pages show them: the server's own message, as text, and the form field an
 * InvalidArgument message names ("num_nodes: must not be greater than num_tasks (3 > 1)").
 */
import { Code, ConnectError } from "../../sdk/index.js";
import { h } from "./dom.js";

/** The message of any thrown value, without Connect's "[code]" prefix. */
export function errorMessage(e: unknown): string {
  return ConnectError.from(e).rawMessage;
}

/** The Connect code of any thrown value. */
export function errorCode(e: unknown): Code {
  return ConnectError.from(e).code;
}

/** True for an error caused by leaving the page (its calls were aborted). */
export function isAbort(e: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true || errorCode(e) === Code.Canceled;
}

/**
 * The request field an InvalidArgument message starts with: "num_nodes" for
 * "num_nodes: ...", "environment" for `environment["X"]: ...`, "command" for "command[0]: ...".
 */
export function fieldOfMessage(message: string): string | undefined {
  return /^([a-z][a-z0-9_]*)(?:\[[^\]]*\])*: /.exec(message)?.[1];
}

const CODE_HINTS: Partial<Record<Code, string>> = {
  [Code.Unavailable]: "The server or its job backend cannot be reached.",
  [Code.PermissionDenied]: "You are not allowed to do this.",
  [Code.NotFound]: "Not found.",
  [Code.Unauthenticated]: "Please log in.",
  [Code.ResourceExhausted]: "Too many attempts; wait a little and try again.",
};

/** An alert box with the error's message (as text) and, unless told not to, a hint for the code. */
export function errorBox(e: unknown, what = "Something went wrong", options: { hint?: boolean } = {}): HTMLElement {
  const code = errorCode(e);
  const hint = options.hint === false ? undefined : CODE_HINTS[code];
  return h(
    "div",
    { class: "alert error", attrs: { role: "alert" } },
    h("strong", null, `${what}: `),
    h("span", { class: "error-message" }, errorMessage(e)),
    hint ? h("span", { class: "hint" }, ` ${hint}`) : null,
  );
}
