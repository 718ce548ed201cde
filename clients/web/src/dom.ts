/**
 * The one way this UI makes elements. Text always goes in as text nodes (textContent),
 * never as markup: a job named `<img src=x onerror=alert(1)>` shows those characters and
 * nothing runs. No file of the UI uses innerHTML, outerHTML, insertAdjacentHTML or
 * document.write (a test checks).
 */

/** A child: text (shown verbatim), a node, or nothing. */
export type Child = string | number | Node | null | undefined | false;

export interface Props {
  /** Space-separated class names. */
  class?: string;
  /** Attributes, set with setAttribute (values are text); false or undefined leaves one out. */
  attrs?: Record<string, string | number | boolean | undefined>;
  /** Event listeners. */
  on?: Partial<{ [K in keyof HTMLElementEventMap]: (event: HTMLElementEventMap[K]) => void }>;
}

/** Creates an element with props and children, e.g. `h("a", { attrs: { href } }, job.name)`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props?.class) el.className = props.class;
  for (const [name, value] of Object.entries(props?.attrs ?? {})) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const [type, listener] of Object.entries(props?.on ?? {})) {
    el.addEventListener(type, listener as EventListener);
  }
  append(el, ...children);
  return el;
}

/** Appends children to a node; strings become text nodes. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces all children of a node. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** Sets an element's text if it changed (so a live refresh does not disturb a selection). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}
