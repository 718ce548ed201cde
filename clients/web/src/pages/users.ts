/**
 * Users, for superusers (AdminService): the list, a form to add one, and a button per user
 * to deactivate (with a confirmation) or activate again. Everyone else gets the server's
 * refusal.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, type User } from "../../../sdk/index.js";
import { confirmDialog } from "../confirm-dialog.js";
import { h, replaceChildren } from "../dom.js";
import { errorBox, errorCode, errorMessage, isAbort } from "../errors.js";
import { formatTime } from "../format.js";
import type { PageContext } from "../router.js";

export async function renderUsers(ctx: PageContext): Promise<void> {
  const { main, session, signal } = ctx;
  const { client } = session;
  ctx.setTitle("Users");
  main.append(h("h1", null, "Users"));

  let users: User[];
  try {
    users = await client.users.list({ signal });
  } catch (e) {
    if (isAbort(e, signal)) return;
    session.noteError(e);
    main.append(errorBox(e, errorCode(e) === Code.PermissionDenied ? "Only superusers can manage users" : "Cannot list users"));
    return;
  }

  const notice = h("div", { attrs: { "aria-live": "polite", "data-testid": "users-notice" } });
  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "table", attrs: { "data-testid": "users-table" } },
    h("thead", null, h("tr", null, ...["Name", "Active", "Superuser", "Created", "Actions"].map((t) => h("th", { attrs: { scope: "col" } }, t)))),
    tbody,
  );

  function draw(): void {
    replaceChildren(
      tbody,
      ...users.map((user) => {
        const toggle = h("button", { class: `button small ${user.active ? "danger" : "secondary"}`, attrs: { type: "button" } }, user.active ? "Deactivate…" : "Activate");
        toggle.setAttribute("aria-label", `${user.active ? "Deactivate" : "Activate"} ${user.name}`);
        toggle.addEventListener("click", () => void setActive(user, !user.active));
        return h(
          "tr",
          { attrs: { "data-user": user.name } },
          h("th", { attrs: { scope: "row" } }, user.name),
          h("td", { attrs: { "data-column": "active" } }, user.active ? "yes" : "no"),
          h("td", null, user.superuser ? "yes" : "no"),
          h("td", null, user.createTime ? formatTime(timestampDate(user.createTime).getTime() / 1000) : ""),
          h("td", null, toggle),
        );
      }),
    );
  }

  async function setActive(user: User, active: boolean): Promise<void> {
    if (!active) {
      const ok = await confirmDialog({
        title: `Deactivate ${user.name}?`,
        body: `${user.name} will not be able to log in, and their tokens stop working at once. Their jobs are kept. You can activate them again.`,
        confirmText: "Deactivate",
        cancelText: "Keep active",
      });
      if (!ok || signal.aborted) return;
    }
    try {
      const updated = await client.users.setActive(user.name, active, { signal });
      users = users.map((u) => (u.name === updated.name ? updated : u));
      draw();
      formError.hidden = true;
      notice.replaceChildren(h("p", { class: "alert info" }, `${updated.name} is now ${updated.active ? "active" : "inactive"}.`));
    } catch (e) {
      if (isAbort(e, signal)) return;
      session.noteError(e);
      notice.replaceChildren(errorBox(e, `Cannot change ${user.name}`));
    }
  }

  const name = h("input", { attrs: { id: "new-user-name", name: "name", autocomplete: "off", required: true, autocapitalize: "none", spellcheck: "false", "aria-describedby": "new-user-error" } });
  const password = h("input", { attrs: { id: "new-user-password", name: "password", type: "password", autocomplete: "new-password", required: true } });
  const superuser = h("input", { attrs: { id: "new-user-superuser", name: "superuser", type: "checkbox" } });
  const formError = h("p", { class: "field-error", attrs: { id: "new-user-error", hidden: true } });
  const add = h("button", { class: "button", attrs: { type: "submit" } }, "Add user");
  const form = h(
    "form",
    { class: "form", attrs: { novalidate: true, "aria-labelledby": "add-user-heading" } },
    h("h2", { attrs: { id: "add-user-heading" } }, "Add a user"),
    h("div", { class: "grid" }, h("div", { class: "field" }, h("label", { attrs: { for: "new-user-name" } }, "Name"), name), h("div", { class: "field" }, h("label", { attrs: { for: "new-user-password" } }, "Password"), password)),
    h("div", { class: "field check-field" }, h("div", { class: "check" }, superuser, h("label", { attrs: { for: "new-user-superuser" } }, "Superuser (sees every job, manages users)"))),
    formError,
    h("div", { class: "actions" }, add),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError.hidden = true;
    add.disabled = true;
    try {
      const user = await client.users.create(name.value.trim(), password.value, { superuser: superuser.checked }, { signal });
      users = [...users.filter((u) => u.name !== user.name), user].sort((a, b) => a.name.localeCompare(b.name));
      draw();
      form.reset();
      notice.replaceChildren(h("p", { class: "alert info" }, `Added ${user.name}.`));
    } catch (e) {
      if (isAbort(e, signal)) return;
      session.noteError(e);
      formError.textContent = errorMessage(e);
      formError.hidden = false;
      name.focus();
    } finally {
      add.disabled = false;
    }
  });

  draw();
  main.append(notice, h("div", { class: "table-scroll" }, table), form);
}
