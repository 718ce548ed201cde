/**
 * list() in SQL. The default order (t_submit, newest first) and id order page by keyset, so a
 * page costs the same at any depth and jobs submitted meanwhile do not shift later pages;
 * other orders page by offset. Page tokens are opaque: base64url JSON bound to the query's
 * filters and order by a fingerprint, so a token is never applied to a different query.
 */
import { createHash } from "node:crypto";
import type Database from "better-sqlite3";
import type { ListQuery, OrderColumn } from "../backend.js";
import { InvalidJobRequestError } from "../backend-errors.js";
import { JOB_COLUMNS, type JobRow } from "./job-rows.js";
import { toDbId } from "./schema.js";

export interface ListRows {
  rows: JobRow[];
  totalSize: number;
  nextPageToken: string;
}

type Token = { f: string; o: number } | { f: string; t: number; id: string };

const RUNTIME = "(CASE WHEN t_run > 0 THEN (CASE WHEN t_cleanup > 0 THEN t_cleanup ELSE @now END) - t_run ELSE 0 END)";

const ORDER_EXPR: Record<OrderColumn, string> = {
  t_submit: "t_submit",
  id: "id",
  name: "name",
  owner: "owner",
  state: "state",
  result: "result",
  returncode: "returncode",
  runtime: RUNTIME,
};

function fingerprint(query: ListQuery): string {
  const { owner, stateMask, resultMask, name, since, search, orderBy } = query;
  const text = JSON.stringify([owner, stateMask, resultMask, name, since, search, orderBy.column, orderBy.descending]);
  return createHash("sha256").update(text).digest("base64url").slice(0, 16);
}

function badToken(token: string): InvalidJobRequestError {
  const shown = token.length > 64 ? `${token.slice(0, 64)}…` : token;
  return new InvalidJobRequestError("page_token", `invalid page token "${shown}" (it belongs to another query or was altered)`);
}

function encodeToken(token: Token): string {
  return Buffer.from(JSON.stringify(token)).toString("base64url");
}

function decodeToken(text: string, fp: string): Token {
  let token: unknown;
  try {
    token = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    throw badToken(text);
  }
  const t = token as Record<string, unknown>;
  if (typeof t !== "object" || t === null || t.f !== fp) throw badToken(text);
  if (typeof t.o === "number" && Number.isSafeInteger(t.o) && t.o >= 0) return { f: fp, o: t.o };
  if (typeof t.t === "number" && typeof t.id === "string" && /^[0-9]{1,20}$/.test(t.id)) {
    return { f: fp, t: t.t, id: t.id };
  }
  throw badToken(text);
}

/** Builds list() queries on a jobs table; statements are prepared once per shape. */
export function createListQuery(db: Database.Database) {
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string, safe: boolean): Database.Statement => {
    let stmt = statements.get(sql);
    if (stmt === undefined) {
      stmt = db.prepare(sql);
      if (safe) stmt.safeIntegers(true);
      statements.set(sql, stmt);
    }
    return stmt;
  };

  return function list(query: ListQuery, nowSeconds: number): ListRows {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (query.owner !== undefined) {
      where.push("owner = @owner");
      params.owner = query.owner;
    }
    if (query.stateMask !== undefined) {
      where.push("(state & @stateMask) != 0");
      params.stateMask = query.stateMask;
    }
    if (query.resultMask !== undefined) {
      where.push("(result & @resultMask) != 0");
      params.resultMask = query.resultMask;
    }
    if (query.name !== undefined) {
      where.push("name = @name");
      params.name = query.name;
    }
    if (query.since !== undefined) {
      where.push("t_submit >= @since");
      params.since = query.since;
    }
    if (query.search !== undefined && query.search !== "") {
      where.push("(instr(search_key, @search) > 0 OR instr(status, @search) > 0)");
      params.search = query.search.toLowerCase();
    }
    const filter = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
    const total = prepare(`SELECT count(*) AS n FROM jobs ${filter}`, false).get(params) as { n: number };

    const { column, descending } = query.orderBy;
    const dir = descending ? "DESC" : "ASC";
    const cmp = descending ? "<" : ">";
    const keyset = column === "t_submit" || column === "id";
    const fp = fingerprint(query);
    const token = query.pageToken === "" ? undefined : decodeToken(query.pageToken, fp);

    const pageWhere = [...where];
    let offset = 0;
    if (token !== undefined) {
      if ("o" in token) {
        if (keyset) throw badToken(query.pageToken);
        offset = token.o;
      } else {
        if (!keyset) throw badToken(query.pageToken);
        params.kid = toDbId(BigInt(token.id));
        if (column === "t_submit") {
          pageWhere.push(`(t_submit ${cmp} @kt OR (t_submit = @kt AND id ${cmp} @kid))`);
          params.kt = token.t;
        } else {
          pageWhere.push(`id ${cmp} @kid`);
        }
      }
    }
    const orderSql = column === "id" ? `id ${dir}` : `${ORDER_EXPR[column]} ${dir}, id ${dir}`;
    if (column === "runtime") params.now = nowSeconds;
    params.limit = query.pageSize + 1;
    params.offset = offset;
    const sql =
      `SELECT ${JOB_COLUMNS.join(", ")} FROM jobs ${pageWhere.length > 0 ? `WHERE ${pageWhere.join(" AND ")}` : ""} ` +
      `ORDER BY ${orderSql} LIMIT @limit OFFSET @offset`;
    const rows = prepare(sql, true).all(params) as JobRow[];

    let nextPageToken = "";
    if (rows.length > query.pageSize) {
      rows.length = query.pageSize;
      const last = rows[rows.length - 1]!;
      nextPageToken = keyset
        ? encodeToken({ f: fp, t: Number(last.t_submit), id: BigInt.asUintN(64, last.id as bigint).toString() })
        : encodeToken({ f: fp, o: offset + query.pageSize });
    }
    return { rows, totalSize: Number(total.n), nextPageToken };
  };
}
