/**
 * Client-side navigation: one page shell, pages drawn by path. Links are ordinary <a href>
 * (they work with the keyboard, open in a new tab, and reload to the same page); same-tab
 * clicks are turned into history.pushState so the session and open streams are not reloaded.
 * Each page gets an AbortSignal that fires when the reader leaves it, which ends its streams.
 */
import { Code } from "../../sdk/index.js";
import { errorBox, errorCode, isAbort } from "./errors.js";
import type { Session } from "./session.js";

export interface PageContext {
  /** Where the page draws itself. */
  main: HTMLElement;
  session: Session;
  /** Aborted when the reader navigates away. */
  signal: AbortSignal;
  /** Path parameters, decoded (e.g. the job id). */
  params: string[];
  url: URL;
  navigate(path: string, options?: { replace?: boolean }): void;
  /** Sets the document title ("<title> · Flux RESTful"). */
  setTitle(title: string): void;
}

export interface Route {
  pattern: RegExp;
  /** Name for the nav highlight and logs, e.g. "jobs". */
  name: string;
  /** Pages anyone may see (the login page); the rest need a login when the server requires one. */
  public?: boolean;
  render(ctx: PageContext): void | Promise<void>;
}

export interface RouterOptions {
  routes: Route[];
  notFound: Route;
  main: HTMLElement;
  session: Session;
  /** Called before each page is drawn, e.g. to update the nav. */
  onPage?(route: Route): void;
}

export interface Router {
  start(): void;
  navigate(path: string, options?: { replace?: boolean }): void;
}

export function createRouter(options: RouterOptions): Router {
  const { main, session } = options;
  let current: AbortController | undefined;

  const match = (pathname: string): { route: Route; params: string[] } => {
    for (const route of options.routes) {
      const m = route.pattern.exec(pathname);
      if (m) return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
    }
    return { route: options.notFound, params: [] };
  };

  async function whoami() {
    if (session.whoami) return session.whoami;
    let who;
    try {
      who = await session.refresh();
    } catch (e) {
      // Stored credentials the server refuses are dropped by the session; ask again without.
      if (errorCode(e) !== Code.Unauthenticated) throw e;
      who = await session.refresh();
    }
    // A new tab: another tab of this browser may be logged in already.
    if (who.server?.authRequired && !who.authenticated && !session.hasCredentials && (await session.adopt())) return session.whoami!;
    return who;
  }

  async function render(): Promise<void> {
    current?.abort();
    const controller = new AbortController();
    current = controller;
    const { signal } = controller;
    const url = new URL(location.href);
    const { route, params } = match(url.pathname);
    try {
      const who = await whoami();
      if (signal.aborted) return;
      if (!route.public && who.server?.authRequired && !who.authenticated) {
        navigate(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, { replace: true });
        return;
      }
    } catch (e) {
      if (signal.aborted) return;
      main.replaceChildren(errorBox(e, "Cannot reach the server"));
      return;
    }
    options.onPage?.(route);
    main.replaceChildren();
    main.setAttribute("aria-busy", "true");
    const ctx: PageContext = {
      main,
      session,
      signal,
      params,
      url,
      navigate,
      setTitle: (title) => {
        document.title = title ? `${title} · Flux RESTful` : "Flux RESTful";
      },
    };
    try {
      await route.render(ctx);
    } catch (e) {
      if (!isAbort(e, signal)) {
        session.noteError(e);
        main.append(errorBox(e));
      }
    } finally {
      if (!signal.aborted) main.removeAttribute("aria-busy");
    }
  }

  function navigate(path: string, opts: { replace?: boolean } = {}): void {
    if (opts.replace) history.replaceState(null, "", path);
    else history.pushState(null, "", path);
    void render().then(() => focusHeading(main));
  }

  function onClick(event: MouseEvent): void {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const a = (event.target as Element | null)?.closest?.("a");
    if (!a || a.target || a.hasAttribute("download")) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin) return;
    event.preventDefault();
    if (url.pathname + url.search !== location.pathname + location.search) navigate(url.pathname + url.search + url.hash);
  }

  return {
    start() {
      document.addEventListener("click", onClick);
      addEventListener("popstate", () => void render());
      void render();
    },
    navigate,
  };
}

/** Moves focus to the page's heading after a navigation, so screen readers announce the new page. */
function focusHeading(main: HTMLElement): void {
  const heading = main.querySelector("h1");
  if (!heading) return;
  heading.setAttribute("tabindex", "-1");
  heading.focus({ preventScroll: false });
}
