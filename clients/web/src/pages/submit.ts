/**
 * The submit form: every SubmitJob field. Problems, the server's or our own, are shown next
 * to the field they name and that field gets the focus; the values typed stay. A job that is
 * accepted opens on its own page. A submit is never repeated by itself (it could run twice).
 */
import { Code, NodeState } from "../../../sdk/index.js";
import { h, replaceChildren } from "../dom.js";
import { errorBox, errorCode, errorMessage, fieldOfMessage, isAbort } from "../errors.js";
import type { PageContext } from "../router.js";
import { jobPath } from "./jobs-table.js";
import { FieldError, toSubmitRequest } from "./submit-fields.js";

type Control = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

interface FieldSpec {
  /** The request field (and the element id suffix). */
  field: string;
  label: string;
  help?: string;
  control: Control;
}

const input = (field: string, attrs: Record<string, string | number | boolean | undefined> = {}) =>
  h("input", { attrs: { id: `f-${field}`, name: field, autocomplete: "off", ...attrs } });
const numberInput = (field: string, min: number, placeholder: string, max?: number) =>
  input(field, { type: "number", min, max, step: 1, inputmode: "numeric", placeholder });
const textarea = (field: string, rows: number, placeholder = "") =>
  h("textarea", { attrs: { id: `f-${field}`, name: field, rows, spellcheck: "false", placeholder } });

export function renderSubmit(ctx: PageContext): void {
  const { main, session, signal } = ctx;
  ctx.setTitle("Submit a job");

  const c = {
    command: textarea("command", 3, "hostname"),
    useShell: input("use_shell", { type: "checkbox" }),
    name: input("name", { placeholder: "defaults to the program name" }),
    numTasks: numberInput("num_tasks", 1, "1"),
    coresPerTask: numberInput("cores_per_task", 1, "1"),
    gpusPerTask: numberInput("gpus_per_task", 0, "0"),
    numNodes: numberInput("num_nodes", 1, "any"),
    exclusive: input("exclusive", { type: "checkbox" }),
    workdir: input("workdir", { placeholder: "/absolute/path (defaults to the server's)" }),
    timeLimit: input("time_limit_seconds", { type: "number", min: 0, step: "any", inputmode: "decimal", placeholder: "0 = no limit" }),
    timeLimitUnit: h("select", { attrs: { id: "f-time_limit_unit", name: "time_limit_unit", "aria-label": "Time limit unit" } }, h("option", { attrs: { value: "s" } }, "seconds"), h("option", { attrs: { value: "m", selected: true } }, "minutes"), h("option", { attrs: { value: "h" } }, "hours")),
    urgency: numberInput("urgency", 0, "16", 31),
    queue: input("queue", { placeholder: "default queue" }),
    environment: textarea("environment", 3, "NAME=value, one per line"),
    shellOptions: textarea("shell_options", 2, "option=value, one per line (as flux submit -o)"),
    isLauncher: input("is_launcher", { type: "checkbox" }),
  };
  const specs: FieldSpec[] = [
    { field: "command", label: "Command", help: "The program and its arguments, split like a shell would (quotes work).", control: c.command },
    { field: "use_shell", label: "Run the command with sh -c (for pipes, loops, redirections and variables)", control: c.useShell },
    { field: "name", label: "Job name", control: c.name },
    { field: "num_tasks", label: "Tasks", help: "flux submit -n. Defaults to 1.", control: c.numTasks },
    { field: "cores_per_task", label: "Cores per task", help: "-c. Defaults to 1.", control: c.coresPerTask },
    { field: "gpus_per_task", label: "GPUs per task", help: "-g. Defaults to 0.", control: c.gpusPerTask },
    { field: "num_nodes", label: "Nodes", help: "-N. At most the number of tasks.", control: c.numNodes },
    { field: "exclusive", label: "Exclusive: whole nodes only (needs Nodes)", control: c.exclusive },
    { field: "workdir", label: "Working directory", control: c.workdir },
    { field: "time_limit_seconds", label: "Time limit", help: "-t. A job still running at its limit ends with TIMEOUT. Empty or 0: none.", control: c.timeLimit },
    { field: "urgency", label: "Urgency", help: "0 (hold) to 31 (expedite). Defaults to 16.", control: c.urgency },
    { field: "queue", label: "Queue", control: c.queue },
    { field: "environment", label: "Environment variables", help: "NAME=value, one per line, added to a small default set. The server's own environment is never passed on.", control: c.environment },
    { field: "shell_options", label: "Shell options", help: "key=value, one per line, as flux submit -o (a key alone means key=1).", control: c.shellOptions },
    { field: "is_launcher", label: "The command is a workflow launcher (e.g. nextflow, snakemake) that submits jobs itself", control: c.isLauncher },
  ];

  const errors = new Map<string, HTMLElement>();
  const helps = new Map<string, HTMLElement>();
  const rows = new Map<string, HTMLElement>();
  for (const spec of specs) {
    const error = h("p", { class: "field-error", attrs: { id: `err-${spec.field}`, hidden: true } });
    errors.set(spec.field, error);
    const help = spec.help ? h("p", { class: "help", attrs: { id: `help-${spec.field}` } }, spec.help) : null;
    if (help) helps.set(spec.field, help);
    spec.control.setAttribute("aria-describedby", [help ? `help-${spec.field}` : "", `err-${spec.field}`].filter(Boolean).join(" "));
    const label = h("label", { attrs: { for: spec.control.id } }, spec.label);
    const isCheck = spec.control instanceof HTMLInputElement && spec.control.type === "checkbox";
    const body = spec.field === "time_limit_seconds" ? h("div", { class: "with-unit" }, spec.control, c.timeLimitUnit) : spec.control;
    rows.set(
      spec.field,
      h(
        "div",
        { class: `field${isCheck ? " check-field" : ""}`, attrs: { "data-field": spec.field } },
        ...(isCheck ? [h("div", { class: "check" }, body, label)] : [label, body]),
        help,
        error,
      ),
    );
  }
  const group = (legend: string, fields: string[], cls?: string) =>
    h("fieldset", { class: cls }, h("legend", null, legend), ...fields.map((f) => rows.get(f)!));

  const summary = h("div", { attrs: { "aria-live": "assertive", "data-testid": "submit-summary" } });
  const submit = h("button", { class: "button", attrs: { type: "submit" } }, "Submit");
  const form = h(
    "form",
    { class: "form", attrs: { novalidate: true, "aria-label": "Submit a job" } },
    group("What to run", ["command", "use_shell", "name", "is_launcher"]),
    group("Resources", ["num_tasks", "cores_per_task", "gpus_per_task", "num_nodes", "exclusive"], "grid"),
    group("Where and when", ["workdir", "time_limit_seconds", "urgency", "queue"], "grid"),
    group("Environment and options", ["environment", "shell_options"]),
    h("div", { class: "actions" }, submit, h("a", { class: "button secondary", attrs: { href: "/jobs" } }, "View jobs")),
  );

  function clearErrors(): void {
    replaceChildren(summary);
    for (const [field, el] of errors) {
      el.hidden = true;
      el.textContent = "";
      document.getElementById(`f-${field}`)?.removeAttribute("aria-invalid");
    }
  }

  function showError(e: unknown): void {
    const message = e instanceof FieldError ? e.message : errorMessage(e);
    const field = e instanceof FieldError || errorCode(e) === Code.InvalidArgument ? fieldOfMessage(message) : undefined;
    const slot = field ? errors.get(field) : undefined;
    if (!slot) {
      summary.replaceChildren(errorBox(e, "The job was not submitted"));
      return;
    }
    slot.textContent = message;
    slot.hidden = false;
    const control = document.getElementById(`f-${field}`) as Control | null;
    control?.setAttribute("aria-invalid", "true");
    summary.replaceChildren(h("p", { class: "alert error", attrs: { role: "alert" } }, "The job was not submitted: see the field marked below."));
    control?.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors();
    let request;
    try {
      request = toSubmitRequest({
        command: c.command.value,
        useShell: c.useShell.checked,
        name: c.name.value,
        numTasks: c.numTasks.value,
        coresPerTask: c.coresPerTask.value,
        gpusPerTask: c.gpusPerTask.value,
        numNodes: c.numNodes.value,
        exclusive: c.exclusive.checked,
        workdir: c.workdir.value,
        timeLimit: c.timeLimit.value,
        timeLimitUnit: c.timeLimitUnit.value as "s" | "m" | "h",
        urgency: c.urgency.value,
        queue: c.queue.value,
        environment: c.environment.value,
        shellOptions: c.shellOptions.value,
        isLauncher: c.isLauncher.checked,
        unreadable: [c.numTasks, c.coresPerTask, c.gpusPerTask, c.numNodes, c.urgency, c.timeLimit].filter((el) => el.validity.badInput).map((el) => el.name),
      });
    } catch (e) {
      showError(e);
      return;
    }
    submit.disabled = true;
    submit.textContent = "Submitting…";
    session.client.submit(request, { signal }).then(
      (id) => ctx.navigate(jobPath(id)),
      (e: unknown) => {
        if (isAbort(e, signal)) return;
        session.noteError(e);
        submit.disabled = false;
        submit.textContent = "Submit";
        showError(e);
      },
    );
  });

  main.append(h("h1", null, "Submit a job"), summary, form);

  // What the machine has, next to the boxes that ask for it.
  session.client.nodes({ signal }).then(
    (nodes) => {
      const up = nodes.filter((n) => n.state === NodeState.UP);
      const cores = up.reduce((t, n) => t + n.cores, 0);
      const gpus = up.reduce((t, n) => t + n.gpus, 0);
      helps.get("cores_per_task")?.append(` ${cores} cores on ${up.length} node${up.length === 1 ? "" : "s"} up.`);
      helps.get("gpus_per_task")?.append(gpus ? ` ${gpus} GPUs in all.` : " This server has no GPUs.");
      helps.get("num_nodes")?.append(` ${up.length} node${up.length === 1 ? "" : "s"} up.`);
    },
    () => {},
  );
}
