/**
 * The web UI's entry point: the session, the frame, and the pages by path. The server
 * serves the same page shell at each of these paths, so links and reloads work.
 */
import { h } from "./dom.js";
import { createLayout } from "./layout.js";
import { renderHome } from "./pages/home.js";
import { renderJob } from "./pages/job.js";
import { renderJobs } from "./pages/jobs.js";
import { renderLogin, setLoginNotice } from "./pages/login.js";
import { renderSubmit } from "./pages/submit.js";
import { renderUsers } from "./pages/users.js";
import { createRouter, type Route } from "./router.js";
import { createSession } from "./session.js";

const session = createSession();
const routes: Route[] = [
  { name: "home", pattern: /^\/$/, render: renderHome },
  { name: "jobs", pattern: /^\/jobs$/, render: renderJobs },
  { name: "submit", pattern: /^\/jobs\/submit$/, render: renderSubmit },
  { name: "job", pattern: /^\/job\/([^/]+)$/, render: renderJob },
  { name: "users", pattern: /^\/users$/, render: renderUsers },
  { name: "login", pattern: /^\/login$/, public: true, render: renderLogin },
];
const notFound: Route = {
  name: "not-found",
  pattern: /$^/,
  render(ctx) {
    ctx.setTitle("Not found");
    ctx.main.append(h("h1", null, "Page not found"), h("p", null, "There is no page at ", h("code", null, ctx.url.pathname), "."), h("p", null, h("a", { attrs: { href: "/" } }, "Home")));
  },
};

const layout = createLayout({ session });
const router = createRouter({ routes, notFound, main: layout.main, session, onPage: (route) => layout.update(route.name) });

session.onChange((change) => {
  if (change === "login") return;
  setLoginNotice(change === "logout" ? "You are logged out." : "Your credentials were refused (expired, changed or deactivated): log in again.");
  const here = location.pathname + location.search;
  router.navigate(here.startsWith("/login") ? "/login" : `/login?next=${encodeURIComponent(here)}`, { replace: change !== "logout" });
});

router.start();
