/**
 * The home page: what this service is, how the server is set up (mode, backend, version,
 * auth), who you are, and a summary of the nodes (cores and gpus free and used).
 */
import { ACTIVE, NodeState, type Node } from "../../../sdk/index.js";
import { h } from "../dom.js";
import { errorBox, isAbort } from "../errors.js";
import type { PageContext } from "../router.js";

const NODE_STATES: Record<number, string> = { [NodeState.UP]: "up", [NodeState.DOWN]: "down", [NodeState.DRAINED]: "drained" };

function definitionList(rows: [string, string | Node | HTMLElement][], testid: string): HTMLElement {
  const dl = h("dl", { class: "facts", attrs: { "data-testid": testid } });
  for (const [term, value] of rows) dl.append(h("dt", null, term), h("dd", null, value as string | HTMLElement));
  return dl;
}

function nodesSummary(nodes: Node[]): HTMLElement {
  const sum = (pick: (n: Node) => number) => nodes.reduce((total, n) => total + pick(n), 0);
  const cores = sum((n) => n.cores);
  const coresUsed = sum((n) => n.coresAllocated);
  const gpus = sum((n) => n.gpus);
  const gpusUsed = sum((n) => n.gpusAllocated);
  const up = nodes.filter((n) => n.state === NodeState.UP).length;
  const table = h(
    "table",
    { class: "table", attrs: { "data-testid": "nodes" } },
    h("caption", null, "Nodes"),
    h(
      "thead",
      null,
      h("tr", null, ...["Rank", "Host", "State", "Cores free", "Cores used", "GPUs free", "GPUs used"].map((t) => h("th", { attrs: { scope: "col" } }, t))),
    ),
    h(
      "tbody",
      null,
      ...nodes.map((n) =>
        h(
          "tr",
          null,
          h("td", null, n.rank),
          h("td", null, n.hostname),
          h("td", null, NODE_STATES[n.state] ?? "unknown"),
          h("td", { class: "num" }, n.cores - n.coresAllocated),
          h("td", { class: "num" }, n.coresAllocated),
          h("td", { class: "num" }, n.gpus - n.gpusAllocated),
          h("td", { class: "num" }, n.gpusAllocated),
        ),
      ),
    ),
  );
  return h(
    "section",
    { attrs: { "aria-labelledby": "nodes-heading" } },
    h("h2", { attrs: { id: "nodes-heading" } }, "Resources"),
    h(
      "p",
      { attrs: { "data-testid": "nodes-summary" } },
      `${nodes.length} node${nodes.length === 1 ? "" : "s"} (${up} up): ${cores - coresUsed} of ${cores} cores free, ${coresUsed} used; ` +
        `${gpus - gpusUsed} of ${gpus} GPUs free, ${gpusUsed} used.`,
    ),
    h("div", { class: "table-scroll" }, table),
  );
}

export async function renderHome(ctx: PageContext): Promise<void> {
  const { main, session, signal } = ctx;
  ctx.setTitle("Home");
  const who = session.whoami ?? (await session.refresh());
  const server = who.server;
  main.append(
    h("h1", null, "Flux RESTful"),
    h(
      "p",
      { class: "lead" },
      "A web interface to the Flux job scheduler: submit jobs, follow their state and output live, and cancel them. " +
        "The same server answers the API (Connect, gRPC, gRPC-Web and the flux-restful-api REST paths) on this port.",
    ),
    h(
      "section",
      { attrs: { "aria-labelledby": "server-heading" } },
      h("h2", { attrs: { id: "server-heading" } }, "Server"),
      definitionList(
        [
          ["Mode", server?.serverMode ?? ""],
          ["Backend", server?.backend ?? ""],
          ["Version", server?.version ?? ""],
          ["Authentication", server?.authRequired ? "required" : "off"],
          ["You", who.authenticated || !server?.authRequired ? `${who.username}${who.superuser ? " (superuser)" : ""}` : "not logged in"],
        ],
        "server-info",
      ),
    ),
  );
  const activeJobs = h("p", { attrs: { "data-testid": "active-jobs" } }, "Counting active jobs…");
  main.append(
    h(
      "section",
      { attrs: { "aria-labelledby": "jobs-heading" } },
      h("h2", { attrs: { id: "jobs-heading" } }, "Jobs"),
      activeJobs,
      h("p", null, h("a", { class: "button", attrs: { href: "/jobs/submit" } }, "Submit a job"), " ", h("a", { class: "button secondary", attrs: { href: "/jobs" } }, "See all jobs")),
    ),
  );
  const nodesSlot = h("div", null, h("p", null, "Loading resources…"));
  main.append(nodesSlot);

  const [nodes, active] = await Promise.allSettled([
    session.client.nodes({ signal }),
    session.client.jobs.listJobs({ stateMask: ACTIVE, pageSize: 1 }, { signal }),
  ]);
  if (signal.aborted) return;
  if (nodes.status === "fulfilled") nodesSlot.replaceChildren(nodesSummary(nodes.value));
  else if (!isAbort(nodes.reason, signal)) nodesSlot.replaceChildren(errorBox(nodes.reason, "Cannot list nodes"));
  if (active.status === "fulfilled") {
    const n = active.value.totalSize;
    activeJobs.textContent = `${n} active job${n === 1 ? "" : "s"} (pending or running)${who.superuser ? "" : " of yours"}.`;
  } else {
    activeJobs.replaceChildren(errorBox(active.reason, "Cannot count jobs"));
  }
}
