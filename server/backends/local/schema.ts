/**
 * The local backend's SQLite schema. One file, three tables: jobs (one row per job, the fold
 * of its eventlog plus what list() filters and sorts on), events (RFC 18 eventlog lines) and
 * output (BLOB chunks, bytes exactly as the task wrote them).
 *
 * Ids are FLUIDs (unsigned 64-bit) stored as SQLite's signed INTEGER: the same bits, so order
 * is kept below 2^63, which a FLUID reaches about 17 years after its epoch.
 */
import type Database from "better-sqlite3";

export const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY,
  owner TEXT NOT NULL,
  userid INTEGER NOT NULL,
  name TEXT NOT NULL,
  queue TEXT NOT NULL,
  state INTEGER NOT NULL,
  result INTEGER NOT NULL,
  status TEXT NOT NULL,
  urgency INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  t_submit REAL NOT NULL,
  t_depend REAL NOT NULL,
  t_priority REAL NOT NULL,
  t_sched REAL NOT NULL,
  t_run REAL NOT NULL,
  t_cleanup REAL NOT NULL,
  t_inactive REAL NOT NULL,
  returncode INTEGER,
  waitstatus INTEGER,
  exc_occurred INTEGER NOT NULL,
  exc_type TEXT NOT NULL,
  exc_severity INTEGER NOT NULL,
  exc_note TEXT NOT NULL,
  ntasks INTEGER NOT NULL,
  ncores INTEGER NOT NULL,
  ngpus INTEGER NOT NULL,
  nnodes INTEGER NOT NULL,
  nodelist TEXT NOT NULL,
  ranks TEXT NOT NULL,
  duration REAL NOT NULL,
  expiration REAL NOT NULL,
  cwd TEXT NOT NULL,
  command TEXT NOT NULL,
  search_key TEXT NOT NULL,
  truncated INTEGER NOT NULL,
  chunk_count INTEGER NOT NULL,
  exit_code INTEGER,
  procs TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_submit ON jobs (t_submit, id);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, t_submit, id);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, t_submit, id);
CREATE INDEX IF NOT EXISTS jobs_by_name ON jobs (name, t_submit, id);

CREATE TABLE IF NOT EXISTS events (
  job_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  timestamp REAL NOT NULL,
  name TEXT NOT NULL,
  context TEXT,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS output (
  job_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  stream INTEGER NOT NULL,
  rank INTEGER NOT NULL,
  timestamp REAL NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (job_id, seq)
);
`;

/**
 * Sets the pragmas and creates the tables. WAL with synchronous=NORMAL: a commit survives the
 * process being killed (not a power cut), and readers never block the writer.
 */
export function openSchema(db: Database.Database): void {
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = OFF");
  db.pragma("busy_timeout = 5000");
  db.exec(DDL);
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  if (row === undefined) {
    db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
  } else if (Number(row.value) > SCHEMA_VERSION) {
    throw new Error(`job database schema version "${row.value}" is newer than this server supports (${SCHEMA_VERSION})`);
  }
}

/** Reads a meta value. */
export function getMeta(db: Database.Database, key: string): string | undefined {
  const row = db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined;
  return row?.value;
}

/** Writes a meta value. */
export function setMeta(db: Database.Database, key: string, value: string): void {
  db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(
    key,
    value,
  );
}

/** FLUID (unsigned) to the INTEGER stored (signed, same bits). */
export const toDbId = (id: bigint): bigint => BigInt.asIntN(64, id);
/** The stored INTEGER back to the FLUID. */
export const fromDbId = (v: bigint | number): bigint => BigInt.asUintN(64, BigInt(v));
