/**
 * The users of this server, in one SQLite file: name, scrypt password hash, active and
 * superuser flags, creation time, and a token version that changes whenever the user's
 * existing tokens must stop working (password change, deactivation, delete and re-create).
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { DEFAULT_SCRYPT_COST, hashPassword, MAX_PASSWORD_LENGTH, verifyPassword, type ScryptCost } from "./password-hash.js";

/** A user as the rest of the server sees it (never the hash). */
export interface UserRecord {
  name: string;
  active: boolean;
  superuser: boolean;
  /** Epoch milliseconds. */
  createdMs: number;
  /** Opaque; access tokens carry it and are refused once it changes. */
  tokenVersion: string;
}

/**
 * Why a user operation was refused:
 * - "invalid": a malformed name or an empty or too long password;
 * - "exists": the name is taken;
 * - "not-found": no such user.
 */
export type UserErrorKind = "invalid" | "exists" | "not-found";

export class UserError extends Error {
  override name = "UserError" as const;
  constructor(
    readonly kind: UserErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export const isUserError = (e: unknown): e is UserError =>
  typeof e === "object" && e !== null && (e as { name?: unknown }).name === "UserError";

/** Same rule as the proto and as useradd's default: letters, digits, ".", "_", "-", at most 32. */
const NAME = /^[A-Za-z_][A-Za-z0-9._-]{0,31}$/;

/** A name as quoted in a message: at most 64 characters, so a hostile one does not flood answers and logs. */
const quoted = (name: string): string => (name.length > 64 ? `${name.slice(0, 64)}…` : name);

export function validateUserName(name: string): void {
  if (!NAME.test(name)) {
    throw new UserError(
      "invalid",
      `user name "${quoted(name)}" is not valid: use letters, digits, ".", "_" and "-", starting with a letter or "_", at most 32 characters`,
    );
  }
}

export function validatePassword(password: string): void {
  if (password === "") throw new UserError("invalid", "password must not be empty");
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new UserError("invalid", `password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
}

export interface UserStoreOptions {
  /** The SQLite file; created with mode 0600 if missing. */
  file: string;
  /** Defaults to DEFAULT_SCRYPT_COST. */
  scryptCost?: ScryptCost;
}

export interface UserStore {
  get(name: string): UserRecord | undefined;
  /** Every user, by name. */
  list(): UserRecord[];
  create(input: { name: string; password: string; superuser: boolean }): Promise<UserRecord>;
  remove(name: string): void;
  /** Replaces the password and revokes the user's tokens. */
  setPassword(name: string, password: string): Promise<void>;
  /** Deactivating also revokes the user's tokens. */
  setActive(name: string, active: boolean): UserRecord;
  /**
   * The user when the password matches, else undefined. Unknown users cost the same
   * KDF run as known ones, so timing does not tell which names exist.
   */
  verify(name: string, password: string): Promise<UserRecord | undefined>;
  /**
   * Makes `name` an active superuser with this password (FLUX_USER/FLUX_TOKEN at startup).
   * An existing user whose password already matches keeps its tokens.
   */
  ensureSuperuser(name: string, password: string): Promise<"created" | "updated" | "unchanged">;
  close(): void;
}

interface Row {
  name: string;
  password_hash: string;
  active: number;
  superuser: number;
  created_ms: number;
  token_version: string;
}

const toRecord = (row: Row): UserRecord => ({
  name: row.name,
  active: row.active === 1,
  superuser: row.superuser === 1,
  createdMs: row.created_ms,
  tokenVersion: row.token_version,
});

const newTokenVersion = () => randomBytes(12).toString("base64url");

function openPrivateFile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Password hashes are private: create the file 0600 before SQLite opens it with the umask's mode.
  fs.closeSync(fs.openSync(file, "a", 0o600));
  fs.chmodSync(file, 0o600);
}

export function createUserStore(options: UserStoreOptions): UserStore {
  const cost = options.scryptCost ?? DEFAULT_SCRYPT_COST;
  openPrivateFile(options.file);
  const db = new Database(options.file);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  db.exec(`CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL,
    superuser INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    token_version TEXT NOT NULL
  ) STRICT`);

  const selectOne = db.prepare<[string], Row>("SELECT * FROM users WHERE name = ?");
  const selectAll = db.prepare<[], Row>("SELECT * FROM users ORDER BY name");
  const insert = db.prepare(
    "INSERT INTO users (name, password_hash, active, superuser, created_ms, token_version) VALUES (?, ?, 1, ?, ?, ?)",
  );
  const remove = db.prepare("DELETE FROM users WHERE name = ?");
  const updatePassword = db.prepare("UPDATE users SET password_hash = ?, token_version = ? WHERE name = ?");
  const updateActive = db.prepare("UPDATE users SET active = ?, token_version = ? WHERE name = ?");
  const promote = db.prepare(
    "UPDATE users SET password_hash = ?, active = 1, superuser = 1, token_version = ? WHERE name = ?",
  );
  // Compared against when the user does not exist, so both paths pay one KDF run.
  let dummyHash: Promise<string> | undefined;

  const mustGet = (name: string): Row => {
    const row = selectOne.get(name);
    if (!row) throw new UserError("not-found", `user "${quoted(name)}" not found`);
    return row;
  };

  const store: UserStore = {
    get: (name) => {
      const row = selectOne.get(name);
      return row && toRecord(row);
    },
    list: () => selectAll.all().map(toRecord),

    async create({ name, password, superuser }) {
      validateUserName(name);
      validatePassword(password);
      if (selectOne.get(name)) throw new UserError("exists", `user "${name}" already exists`);
      const hash = await hashPassword(password, cost);
      try {
        insert.run(name, hash, superuser ? 1 : 0, Date.now(), newTokenVersion());
      } catch (e) {
        // Another writer (the users CLI, a second request) took the name while we hashed.
        if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
          throw new UserError("exists", `user "${name}" already exists`);
        }
        throw e;
      }
      return toRecord(mustGet(name));
    },

    remove(name) {
      if (remove.run(name).changes === 0) throw new UserError("not-found", `user "${quoted(name)}" not found`);
    },

    async setPassword(name, password) {
      validatePassword(password);
      mustGet(name);
      const hash = await hashPassword(password, cost);
      if (updatePassword.run(hash, newTokenVersion(), name).changes === 0) {
        throw new UserError("not-found", `user "${quoted(name)}" not found`);
      }
    },

    setActive(name, active) {
      const row = mustGet(name);
      if ((row.active === 1) !== active) updateActive.run(active ? 1 : 0, newTokenVersion(), name);
      return toRecord(mustGet(name));
    },

    async verify(name, password) {
      const row = NAME.test(name) ? selectOne.get(name) : undefined;
      if (!row) {
        dummyHash ??= hashPassword(randomBytes(16).toString("hex"), cost);
        await verifyPassword(password, await dummyHash);
        return undefined;
      }
      return (await verifyPassword(password, row.password_hash)) ? toRecord(row) : undefined;
    },

    async ensureSuperuser(name, password) {
      validateUserName(name);
      validatePassword(password);
      const row = selectOne.get(name);
      if (!row) {
        await store.create({ name, password, superuser: true });
        return "created";
      }
      const matches = await verifyPassword(password, row.password_hash);
      if (matches && row.active === 1 && row.superuser === 1) return "unchanged";
      // A changed FLUX_TOKEN revokes old tokens; only a promotion or reactivation keeps them.
      const hash = matches ? row.password_hash : await hashPassword(password, cost);
      promote.run(hash, matches ? row.token_version : newTokenVersion(), name);
      return "updated";
    },

    close: () => db.close(),
  };
  return store;
}
