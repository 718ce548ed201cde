/**
 * A job's eventlog (RFC 18) as a timeline: each event's time since submission, its name and
 * its context, verbatim, as text.
 */
import type { JobEvent } from "../../../sdk/index.js";
import { h } from "../dom.js";
import { formatTime } from "../format.js";

export interface EventsView {
  readonly element: HTMLElement;
  add(event: JobEvent): void;
  /** Says the eventlog ended (after "clean"), or why following it stopped. */
  done(text: string): void;
}

export function createEventsView(): EventsView {
  const list = h("ol", { class: "timeline", attrs: { "data-testid": "timeline" } });
  const state = h("p", { class: "status", attrs: { "data-testid": "events-state" } }, "Following the eventlog…");
  let t0: number | undefined;
  const element = h(
    "section",
    { attrs: { "aria-labelledby": "events-heading" } },
    h("h2", { attrs: { id: "events-heading" } }, "Eventlog"),
    list,
    state,
  );
  return {
    element,
    add(event) {
      t0 ??= event.timestamp;
      const context = event.context && Object.keys(event.context).length ? JSON.stringify(event.context) : "";
      list.append(
        h(
          "li",
          { attrs: { "data-event": event.name } },
          h("time", { attrs: { datetime: new Date(event.timestamp * 1000).toISOString(), title: formatTime(event.timestamp) } }, `+${(event.timestamp - t0).toFixed(3)}s`),
          " ",
          h("strong", { class: "event-name" }, event.name),
          context ? h("code", { class: "event-context" }, context) : null,
        ),
      );
    },
    done(text) {
      state.textContent = text;
    },
  };
}
