/**
 * Who is using this tab, and the SDK client that carries their credentials.
 *
 * Credentials are HTTP Basic, as flux-restful-api's UI had them, but the page holds them,
 * not the browser: the server never answers the page with a Basic challenge, so the browser
 * never caches a password it cannot forget (0.2's logout did nothing for that reason). The
 * page keeps the Authorization value in sessionStorage (this tab only, gone when the tab
 * closes) and sends it on every Connect call. A new tab of the same browser asks the open tabs
 * for it (BroadcastChannel, same origin only), so opening a job in a new tab needs no second
 * login. Logging out deletes it here and in every other tab of this origin, so after logout no
 * part of the browser can make an authenticated call: reloading or going back shows the
 * login page.
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createFluxClient, type FluxClient, type WhoAmIResponse } from "../../sdk/index.js";

const STORAGE_KEY = "flux-restful.authorization";
const CHANNEL_NAME = "flux-restful.session";
/** How long a new tab waits for an open tab to share its login. */
const ADOPT_WAIT_MS = 250;

type ChannelMessage = { type: "logout" } | { type: "ask" } | { type: "share"; authorization: string };

/** Why the session changed: a login, a logout (here or in another tab), or credentials the server refused. */
export type SessionChange = "login" | "logout" | "expired";

export interface Session {
  readonly client: FluxClient;
  /** What WhoAmI said last; undefined before the first answer. */
  readonly whoami: WhoAmIResponse | undefined;
  /** True when this tab holds credentials. */
  readonly hasCredentials: boolean;
  /** Asks the server who we are (and whether it needs credentials). */
  refresh(): Promise<WhoAmIResponse>;
  /**
   * Checks the name and password with the server (HTTP Basic on WhoAmI) and keeps them for
   * this tab when they are accepted. Throws the server's ConnectError (Unauthenticated for a
   * wrong password, ResourceExhausted while slowed down).
   */
  login(user: string, password: string): Promise<WhoAmIResponse>;
  /**
   * Asks the other open tabs for their login and uses it if the server accepts it. True when
   * this tab is now logged in.
   */
  adopt(): Promise<boolean>;
  /** Forgets the credentials in this tab and in the other tabs of this origin. */
  logout(): void;
  /** Tells the session a call failed; Unauthenticated with our credentials ends the session. */
  noteError(e: unknown): void;
  onChange(listener: (change: SessionChange) => void): void;
}

/** The Authorization header value for HTTP Basic, with the name and password in UTF-8. */
export function basicAuthorization(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

function readStored(): string | undefined {
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

function writeStored(value: string | undefined): void {
  try {
    if (value === undefined) sessionStorage.removeItem(STORAGE_KEY);
    else sessionStorage.setItem(STORAGE_KEY, value);
  } catch {
    // Storage can be disabled; the session then lasts until the page is reloaded.
  }
}

export function createSession(baseUrl: string = location.origin): Session {
  let authorization = readStored();
  let whoami: WhoAmIResponse | undefined;
  const listeners: ((change: SessionChange) => void)[] = [];
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL_NAME) : undefined;

  const emit = (change: SessionChange) => {
    for (const listener of listeners) listener(change);
  };
  const forget = (change: SessionChange) => {
    const had = authorization !== undefined;
    authorization = undefined;
    whoami = undefined;
    writeStored(undefined);
    if (had) emit(change);
  };
  let shared: ((authorization: string) => void) | undefined;
  channel?.addEventListener("message", (event: MessageEvent<ChannelMessage>) => {
    const message = event.data;
    if (message.type === "logout") forget("logout");
    else if (message.type === "ask" && authorization !== undefined) channel.postMessage({ type: "share", authorization } satisfies ChannelMessage);
    else if (message.type === "share") shared?.(message.authorization);
  });

  const refused = (e: unknown, sent: string | null) =>
    sent !== null && sent === authorization && ConnectError.from(e).code === Code.Unauthenticated;

  const sendCredentials: Interceptor = (next) => async (req) => {
    // A header set by the caller (login trying new credentials) wins over the stored one.
    if (authorization !== undefined && !req.header.has("authorization")) req.header.set("authorization", authorization);
    const sent = req.header.get("authorization");
    try {
      return await next(req);
    } catch (e) {
      if (refused(e, sent)) forget("expired");
      throw e;
    }
  };
  const client = createFluxClient({ baseUrl, interceptors: [sendCredentials] });

  return {
    client,
    get whoami() {
      return whoami;
    },
    get hasCredentials() {
      return authorization !== undefined;
    },
    async refresh() {
      whoami = await client.whoAmI();
      return whoami;
    },
    async login(user, password) {
      const candidate = basicAuthorization(user, password);
      const answer = await client.whoAmI({ headers: { authorization: candidate } });
      if (answer.server?.authRequired && !answer.authenticated) {
        throw new ConnectError("the server did not accept these credentials", Code.Unauthenticated);
      }
      authorization = candidate;
      writeStored(candidate);
      whoami = answer;
      emit("login");
      return answer;
    },
    async adopt() {
      if (!channel || authorization !== undefined) return false;
      const offered = await new Promise<string | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), ADOPT_WAIT_MS);
        shared = (value) => {
          clearTimeout(timer);
          resolve(value);
        };
        channel.postMessage({ type: "ask" } satisfies ChannelMessage);
      });
      shared = undefined;
      if (offered === undefined) return false;
      try {
        const answer = await client.whoAmI({ headers: { authorization: offered } });
        if (!answer.authenticated) return false;
        authorization = offered;
        writeStored(offered);
        whoami = answer;
        return true;
      } catch {
        return false;
      }
    },
    logout() {
      forget("logout");
      channel?.postMessage({ type: "logout" } satisfies ChannelMessage);
    },
    noteError(e) {
      if (authorization !== undefined && ConnectError.from(e).code === Code.Unauthenticated) forget("expired");
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
