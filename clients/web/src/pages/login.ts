/**
 * The login page: a name and a password, checked by the server over HTTP Basic. A wrong
 * password gets the server's refusal, as text, and nothing else is shown.
 */
import { h } from "../dom.js";
import { errorBox } from "../errors.js";
import type { PageContext } from "../router.js";

/** A message the login page shows when the session ended (set by main.ts on logout or expiry). */
let notice: string | undefined;
export function setLoginNotice(text: string | undefined): void {
  notice = text;
}

/** Only same-origin paths, so a crafted ?next= cannot send the reader elsewhere. */
function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/login") ? next : "/";
}

export function renderLogin(ctx: PageContext): void {
  const { main, session, url } = ctx;
  ctx.setTitle("Log in");
  const next = safeNext(url.searchParams.get("next"));
  const who = session.whoami;
  if (who && !who.server?.authRequired) {
    main.append(
      h("h1", null, "Log in"),
      h("p", null, "This server does not require a login: authentication is off."),
      h("p", null, h("a", { attrs: { href: next } }, "Continue")),
    );
    return;
  }
  if (who?.authenticated) {
    main.append(h("h1", null, "Log in"), h("p", null, `You are logged in as ${who.username}.`), h("p", null, h("a", { attrs: { href: next } }, "Continue")));
    return;
  }

  const status = h("div", { attrs: { "aria-live": "polite", id: "login-status" } });
  if (notice) status.append(h("p", { class: "alert info" }, notice));
  notice = undefined;
  const user = h("input", { attrs: { id: "login-user", name: "username", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" } });
  const password = h("input", { attrs: { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true } });
  const submit = h("button", { class: "button", attrs: { type: "submit" } }, "Log in");
  const form = h(
    "form",
    { class: "form narrow", attrs: { "aria-describedby": "login-status" } },
    h("div", { class: "field" }, h("label", { attrs: { for: "login-user" } }, "User name"), user),
    h("div", { class: "field" }, h("label", { attrs: { for: "login-password" } }, "Password"), password),
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit.disabled = true;
    status.replaceChildren(h("p", null, "Checking…"));
    session.login(user.value, password.value).then(
      () => ctx.navigate(next, { replace: true }),
      (e: unknown) => {
        submit.disabled = false;
        password.value = "";
        status.replaceChildren(errorBox(e, "Login refused", { hint: false }));
        password.setAttribute("aria-invalid", "true");
        password.focus();
      },
    );
  });
  main.append(
    h("h1", null, "Log in"),
    h("p", null, "This server requires a login. Your credentials are kept in this browser tab only, until you log out or close it."),
    status,
    form,
  );
}
