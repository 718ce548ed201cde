/**
 * A modal confirmation (<dialog>): focus moves into it, Escape or the safe button says no,
 * and focus returns to what opened it. The safe choice has the initial focus, so a stray
 * Enter does not confirm.
 */
import { h } from "./dom.js";

export interface ConfirmOptions {
  title: string;
  body: string;
  confirmText: string;
  cancelText: string;
  /** Styles the confirm button as destructive. Defaults to true. */
  danger?: boolean;
}

export function confirmDialog(options: ConfirmOptions): Promise<boolean> {
  const opener = document.activeElement as HTMLElement | null;
  const titleId = `dialog-title-${Date.now()}`;
  const yes = h("button", { class: `button${options.danger === false ? "" : " danger"}`, attrs: { type: "button", value: "yes" } }, options.confirmText);
  const no = h("button", { class: "button secondary", attrs: { type: "button", value: "no", autofocus: true } }, options.cancelText);
  const dialog = h(
    "dialog",
    { class: "dialog", attrs: { "aria-labelledby": titleId } },
    h("h2", { attrs: { id: titleId } }, options.title),
    h("p", null, options.body),
    h("div", { class: "actions" }, no, yes),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    let answer = false;
    yes.addEventListener("click", () => {
      answer = true;
      dialog.close();
    });
    no.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      opener?.focus();
      resolve(answer);
    });
    dialog.showModal();
    no.focus();
  });
}
