/**
 * A job's output as it arrives: stdout and stderr told apart (colour, a margin mark, and a
 * filter), Flux's status lines set apart, bytes decoded as UTF-8 per stream so a character
 * split across chunks comes out whole. The view follows new output while the reader is at the
 * bottom and stops following as soon as they scroll up; "Jump to latest" resumes. Everything
 * received is kept for the download buttons, also past what is drawn.
 */
import { OutputStream, type OutputChunk } from "../../../sdk/index.js";
import { h, setText } from "../dom.js";
import { formatBytes } from "../format.js";

/** Characters drawn at most; the rest is only in the download. */
export const MAX_SHOWN_CHARS = 2_000_000;
/** How close to the bottom (in pixels) still counts as "at the bottom". */
const BOTTOM_SLACK_PX = 8;

type StreamName = "stdout" | "stderr";

export interface OutputView {
  readonly element: HTMLElement;
  /** Adds a chunk of output. */
  chunk(chunk: OutputChunk): void;
  /** Adds a line about the job (not from it). */
  status(text: string): void;
  /** Marks the output complete. */
  end(exitCode: number, truncated: boolean): void;
  /** Says why the stream stopped, while it is retried. */
  problem(text: string | undefined): void;
  /** The offset to resume from after a broken stream. */
  readonly nextOffset: bigint;
}

export function createOutputView(jobId: string): OutputView {
  const pre = h("pre", { class: "output", attrs: { tabindex: "0", role: "log", "aria-live": "off", "aria-label": "Job output", "data-testid": "output" } });
  const placeholder = h("span", { class: "out-placeholder" }, "Waiting for output…");
  pre.append(placeholder);
  const state = h("p", { class: "status", attrs: { "data-testid": "output-state", "aria-live": "polite" } }, "Following new output.");
  const note = h("p", { class: "status" });
  const jump = h("button", { class: "button secondary", attrs: { type: "button", hidden: true } }, "Jump to latest");
  const decoders = new Map<string, TextDecoder>();
  const kept: { stream: StreamName; data: Uint8Array }[] = [];
  let keptBytes = 0;
  let shownChars = 0;
  let follow = true;
  let last: { stream: string; text: Text } | undefined;
  let nextOffset = 0n;
  let sawOutput = false;
  let complete = false;

  const atBottom = () => pre.scrollHeight - pre.scrollTop - pre.clientHeight <= BOTTOM_SLACK_PX;
  const setFollow = (on: boolean) => {
    if (follow === on) return;
    follow = on;
    jump.hidden = on;
    if (!complete) setText(state, on ? "Following new output." : "Scrolled up: not following new output.");
  };
  pre.addEventListener("scroll", () => setFollow(atBottom()));
  jump.addEventListener("click", () => {
    pre.scrollTop = pre.scrollHeight;
    setFollow(true);
    pre.focus();
  });

  const stick = () => {
    if (follow) pre.scrollTop = pre.scrollHeight;
  };

  function write(kind: string, text: string): void {
    if (text === "") return;
    if (!sawOutput) {
      sawOutput = true;
      placeholder.remove();
    }
    if (shownChars >= MAX_SHOWN_CHARS) return;
    if (shownChars + text.length > MAX_SHOWN_CHARS) {
      text = text.slice(0, MAX_SHOWN_CHARS - shownChars);
      setText(note, `Only the first ${MAX_SHOWN_CHARS.toLocaleString()} characters are shown; download the output to read all of it.`);
    }
    shownChars += text.length;
    if (last?.stream === kind) {
      last.text.appendData(text);
    } else {
      const node = document.createTextNode(text);
      pre.append(h("span", { class: `out-${kind}`, attrs: { "data-stream": kind } }, node));
      last = { stream: kind, text: node };
    }
    stick();
  }

  function download(which: StreamName | "all"): void {
    const parts = kept.filter((k) => which === "all" || k.stream === which).map((k) => k.data);
    const url = URL.createObjectURL(new Blob(parts as BlobPart[], { type: "text/plain;charset=utf-8" }));
    const a = h("a", { attrs: { href: url, download: `${jobId}${which === "all" ? "" : `.${which}`}.log` } });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  const filter = (stream: StreamName) => {
    const box = h("input", { attrs: { type: "checkbox", checked: true, id: `show-${stream}` } });
    box.addEventListener("change", () => pre.classList.toggle(`hide-${stream}`, !box.checked));
    return h("label", { class: `check legend-${stream}` }, box, ` ${stream}`);
  };
  const size = h("span", { class: "status", attrs: { "data-testid": "output-size" } }, "0 B");
  const element = h(
    "section",
    { class: "output-section", attrs: { "aria-labelledby": "output-heading" } },
    h("div", { class: "section-head" }, h("h2", { attrs: { id: "output-heading" } }, "Output"), size),
    h(
      "div",
      { class: "toolbar" },
      h("fieldset", { class: "inline" }, h("legend", null, "Show"), filter("stdout"), filter("stderr")),
      h(
        "div",
        { class: "button-group", attrs: { role: "group", "aria-label": "Download output" } },
        h("button", { class: "button secondary", attrs: { type: "button" }, on: { click: () => download("all") } }, "Download output"),
        h("button", { class: "button secondary", attrs: { type: "button" }, on: { click: () => download("stdout") } }, "stdout only"),
        h("button", { class: "button secondary", attrs: { type: "button" }, on: { click: () => download("stderr") } }, "stderr only"),
      ),
    ),
    pre,
    h("div", { class: "toolbar" }, state, jump),
    note,
  );

  return {
    element,
    get nextOffset() {
      return nextOffset;
    },
    chunk(chunk) {
      if (chunk.offset < nextOffset) return;
      nextOffset = chunk.offset + 1n;
      const stream: StreamName = chunk.stream === OutputStream.STDERR ? "stderr" : "stdout";
      kept.push({ stream, data: chunk.data });
      keptBytes += chunk.data.length;
      setText(size, formatBytes(keptBytes));
      const key = `${stream}:${chunk.rank}`;
      let decoder = decoders.get(key);
      if (!decoder) decoders.set(key, (decoder = new TextDecoder("utf-8")));
      write(stream, decoder.decode(chunk.data, { stream: true }));
    },
    status(text) {
      write("status", text.endsWith("\n") ? text : `${text}\n`);
    },
    end(exitCode, truncated) {
      for (const [key, decoder] of decoders) write(key.split(":")[0]!, decoder.decode());
      if (!sawOutput) setText(placeholder, "This job wrote no output.");
      const text = `Output complete; exit code ${exitCode}.${truncated ? " The job wrote more than the server keeps: the rest was dropped." : ""}`;
      setText(state, text);
      state.dataset.complete = "true";
      complete = true;
      stick();
    },
    problem(text) {
      setText(note, text ?? "");
    },
  };
}
