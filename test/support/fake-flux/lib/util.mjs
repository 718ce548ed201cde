// Helpers of the fake `flux`: job id encodings (RFC 19), idsets and hostlists,
// JSON dumped the way jansson (C commands) and Python (flux-resource) print it.
import fs from "node:fs";

const F58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

export function encodeF58(id, ascii) {
  let n = BigInt(id);
  let s = "";
  do {
    s = F58[Number(n % 58n)] + s;
    n /= 58n;
  } while (n > 0n);
  return (ascii ? "f" : "ƒ") + s;
}

/** RFC 19 decoding as libjob/id.c does it (words and emoji are not supported by the fake). */
export function parseJobId(text) {
  const s = String(text).trim();
  const max = (1n << 64n) - 1n;
  let v;
  if (/^(job\.)?[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i.test(s)) {
    v = BigInt("0x" + s.replace(/^job\./, "").replace(/\./g, ""));
  } else if (/^(ƒ|f)[1-9A-HJ-NP-Za-km-z]+$/.test(s)) {
    v = 0n;
    for (const c of s.slice(1)) v = v * 58n + BigInt(F58.indexOf(c));
  } else if (/^0x[0-9a-f]+$/i.test(s)) {
    v = BigInt(s);
  } else if (/^[0-9]+$/.test(s)) {
    v = BigInt(s);
  } else {
    return undefined;
  }
  return v <= max ? v : undefined;
}

export function useAsciiIds(env) {
  if (env.FLUX_F58_FORCE_ASCII) return true;
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
  return !/utf-?8/i.test(locale);
}

export function decodeIdset(text) {
  const out = [];
  const body = String(text).trim().replace(/^\[(.*)\]$/, "$1");
  if (body === "") return out;
  for (const part of body.split(",")) {
    const [lo, hi] = part.split("-").map(Number);
    for (let i = lo; i <= (hi ?? lo); i++) out.push(i);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

export function encodeIdset(ids) {
  const s = [...new Set(ids)].sort((a, b) => a - b);
  const out = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    out.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(",");
}

/** Hostlist encoding: runs of "prefixN" with consecutive N become prefix[a-b]; others stay as they are. */
export function encodeHostlist(hosts) {
  const out = [];
  let i = 0;
  while (i < hosts.length) {
    const m = /^(.*?)(\d+)$/.exec(hosts[i]);
    if (!m) {
      out.push(hosts[i]);
      i++;
      continue;
    }
    const nums = [m[2]];
    let j = i + 1;
    while (j < hosts.length) {
      const n = /^(.*?)(\d+)$/.exec(hosts[j]);
      if (!n || n[1] !== m[1] || Number(n[2]) !== Number(nums[nums.length - 1]) + 1) break;
      nums.push(n[2]);
      j++;
    }
    out.push(nums.length === 1 ? hosts[i] : `${m[1]}[${nums[0]}-${nums[nums.length - 1]}]`);
    i = j;
  }
  return out.join(",");
}

/** A number jansson prints as a real: %.17g, with ".0" when integral. */
export class Real {
  constructor(value) {
    this.value = value;
  }
  toString() {
    if (!Number.isFinite(this.value)) return "null";
    let s = this.value.toPrecision(17);
    if (s.includes("e")) return String(this.value);
    if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, ".0");
    return s.includes(".") ? s : s + ".0";
  }
}

/** Python json.dumps, for flux-resource: shortest repr, ".0" on integral floats. */
export class PyFloat {
  constructor(value) {
    this.value = value;
  }
  toString() {
    const s = String(this.value);
    return /[.eE]/.test(s) ? s : s + ".0";
  }
}

/** Dumps JSON; `spaced` gives jansson's default / Python's ", " and ": " separators. */
export function dumpJson(value, spaced) {
  const comma = spaced ? ", " : ",";
  const colon = spaced ? ": " : ":";
  const go = (v) => {
    if (v instanceof Real || v instanceof PyFloat) return v.toString();
    if (typeof v === "bigint") return v.toString();
    if (Array.isArray(v)) return "[" + v.map(go).join(comma) + "]";
    if (v && typeof v === "object") {
      return "{" + Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => JSON.stringify(k) + colon + go(x)).join(comma) + "}";
    }
    return JSON.stringify(v);
  };
  return go(value);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms) {
  Atomics.wait(sleeper, 0, 0, ms);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Epoch seconds with sub-millisecond digits, like the broker's clock. */
export function now() {
  return (performance.timeOrigin + performance.now()) / 1000;
}

/** Runs fn holding the state directory's lock (a directory: mkdir is atomic). */
export function withLock(dir, fn) {
  const lock = `${dir}/lock`;
  for (let tries = 0; ; tries++) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(`${lock}/pid`, String(process.pid));
      break;
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
      // A holder that died (a killed test) must not wedge every later command; a live one that
      // is only slow (a loaded machine) keeps its lock.
      if (tries % 1000 === 999 && !holderAlive(lock)) fs.rmSync(lock, { recursive: true, force: true });
      sleepSync(1);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Whether the process that took the lock still runs (unknown, e.g. mid-creation, counts as alive). */
function holderAlive(lock) {
  let pid;
  try {
    pid = Number(fs.readFileSync(`${lock}/pid`, "utf8"));
  } catch {
    return fs.existsSync(lock) && Date.now() - fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs < 10_000;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}
