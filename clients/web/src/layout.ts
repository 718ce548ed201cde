/**
 * The frame around every page: a skip link, the nav (Home, Jobs, Submit, Users for
 * superusers), who is logged in and the Log out button.
 */
import { h, replaceChildren } from "./dom.js";
import type { Session } from "./session.js";

export interface Layout {
  /** The element pages draw into. */
  readonly main: HTMLElement;
  /** Redraws the nav for the current page and session. */
  update(pageName: string): void;
}

export interface LayoutOptions {
  /** Its change listeners take the reader to the login page after Log out. */
  session: Session;
}

const LINKS: { name: string; href: string; text: string; superuser?: boolean }[] = [
  { name: "home", href: "/", text: "Home" },
  { name: "jobs", href: "/jobs", text: "Jobs" },
  { name: "submit", href: "/jobs/submit", text: "Submit" },
  { name: "users", href: "/users", text: "Users", superuser: true },
];

export function createLayout(options: LayoutOptions): Layout {
  const { session } = options;
  const nav = h("ul", { class: "nav-links" });
  const account = h("div", { class: "account" });
  const main = h("main", { attrs: { id: "main", tabindex: "-1" } });
  const header = h(
    "header",
    { class: "site-header" },
    h(
      "nav",
      { attrs: { "aria-label": "Main" } },
      h("a", { class: "brand", attrs: { href: "/" } }, "Flux RESTful"),
      nav,
    ),
    account,
  );
  document.body.replaceChildren(h("a", { class: "skip-link", attrs: { href: "#main" } }, "Skip to content"), header, main);

  return {
    main,
    update(pageName) {
      const who = session.whoami;
      const showUsers = who?.superuser === true;
      // Before a required login, the links would only lead back to the login page.
      const mustLogIn = who?.server?.authRequired === true && !who.authenticated;
      replaceChildren(
        nav,
        ...LINKS.filter((l) => !mustLogIn && (!l.superuser || showUsers)).map((l) =>
          h("li", null, h("a", { attrs: { href: l.href, "aria-current": l.name === pageName ? "page" : undefined } }, l.text)),
        ),
      );
      if (!who) {
        replaceChildren(account);
      } else if (who.authenticated) {
        replaceChildren(
          account,
          h("span", { class: "who" }, "Logged in as ", h("strong", { attrs: { "data-testid": "username" } }, who.username), who.superuser ? " (superuser)" : ""),
          h(
            "button",
            {
              class: "button secondary",
              attrs: { type: "button" },
              on: { click: () => session.logout() },
            },
            "Log out",
          ),
        );
      } else if (who.server?.authRequired) {
        replaceChildren(account, h("a", { attrs: { href: "/login" } }, "Log in"));
      } else {
        replaceChildren(account, h("span", { class: "who" }, "Authentication is off; jobs run as ", h("strong", null, who.username)));
      }
    },
  };
}
