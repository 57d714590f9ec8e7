// One keeper per state file. The lock is a file beside the state (`<state>.lock`) created with
// O_EXCL, holding the owner's pid, hostname and (wall-clock) start time. A lock from this host is
// stale, and taken over, when its pid is dead, when its pid is this very process but this process
// never took it (a container restarted: the keeper is pid 1 again), or when the process now
// holding that pid started after the lock was written (the pid was reused; Linux /proc). Any other
// lock is STATE_LOCKED, naming its holder; a lock from another host is never judged.
// The lock file appears with its holder already in it (written to a temp file, then linked into
// place), so a keeper killed while taking the lock never leaves an empty lock that blocks restarts.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { link, mkdir, open, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { RiskkeeperError } from "../errors.ts";

export interface LockHolder {
  pid: number;
  hostname: string;
  /** ISO time the holder took the lock. */
  startedAt: string;
}

export interface StateLock {
  file: string;
  holder: LockHolder;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

export function lockFileOf(stateFile: string): string {
  return `${stateFile}.lock`;
}

/** Lock files this process holds (to tell our own lock from a previous incarnation's with our pid). */
const heldHere = new Set<string>();

/** Start time (ms since epoch) of a process, from Linux /proc; undefined elsewhere. */
function processStartMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm)": state is field 3, starttime field 22 (clock ticks since boot).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return undefined;
    return (btime + ticks / 100) * 1000; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** Whether the lock's holder is still the process that wrote it (this host only). */
function holderStillRunning(h: LockHolder, file: string): boolean {
  if (h.pid === process.pid) return heldHere.has(file);
  if (!pidAlive(h.pid)) return false;
  const started = processStartMs(h.pid);
  const lockedAt = Date.parse(h.startedAt);
  // Started more than 5 s after the lock was written: someone else now has that pid.
  return !(started !== undefined && Number.isFinite(lockedAt) && started > lockedAt + 5_000);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as LockHolder;
    if (Number.isSafeInteger(h.pid) && typeof h.hostname === "string" && typeof h.startedAt === "string") return h;
  } catch { /* unreadable */ }
  return undefined;
}

/** The holder recorded in the lock file, or undefined when there is no (readable) lock. */
export function readLockHolder(stateFile: string): LockHolder | undefined {
  try {
    return parseHolder(readFileSync(lockFileOf(stateFile), "utf8"));
  } catch {
    return undefined;
  }
}

/** True/false when the holder is on this host (still running or not); undefined for another host. */
export function holderAlive(h: LockHolder, stateFile?: string): boolean | undefined {
  if (h.hostname !== os.hostname()) return undefined;
  // Read-only callers (status) are never the holder: our own pid counts as running.
  if (stateFile === undefined && h.pid === process.pid) return true;
  return holderStillRunning(h, lockFileOf(stateFile ?? ""));
}

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on ${h.hostname} since ${h.startedAt}`;
}

/** Writes `text` durably to a file of its own. */
async function writeDurably(file: string, text: string): Promise<void> {
  const handle = await open(file, "wx", 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates `file` holding `text`, or throws EEXIST. link() is as exclusive as O_EXCL but publishes
 * a complete file: an exclusive create followed by a write leaves an empty lock if the process is
 * killed in between, and an empty lock is "unreadable", refused until removed by hand.
 */
async function createWithContent(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeDurably(temp, text);
  try {
    await link(temp, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS" && code !== "EOPNOTSUPP") throw error;
    await writeDurably(file, text); // a file system without hard links: exclusive create, then write
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Takes the lock on `stateFile` or throws STATE_LOCKED naming the holder. startedAt is wall-clock
 * time even in a replay: it is compared with process start times.
 */
export async function acquireStateLock(stateFile: string): Promise<StateLock> {
  const file = lockFileOf(path.resolve(stateFile));
  await mkdir(path.dirname(file), { recursive: true });
  const holder: LockHolder = { pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await createWithContent(file, `${JSON.stringify(holder)}\n`);
      let released = false;
      heldHere.add(file);
      return {
        file,
        holder,
        release: async () => {
          if (released) return;
          released = true;
          heldHere.delete(file);
          const current = parseHolder(await readFile(file, "utf8").catch(() => ""));
          if (current && current.pid === holder.pid && current.hostname === holder.hostname && current.startedAt === holder.startedAt) {
            await rm(file, { force: true });
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new RiskkeeperError("STATE_INVALID", `cannot create the lock file: ${(error as Error).message}`, { input: file, cause: error });
      }
    }
    const text = await readFile(file, "utf8").catch(() => "");
    const current = parseHolder(text);
    const stale = current !== undefined && current.hostname === os.hostname() && !holderStillRunning(current, file);
    if (!stale) {
      const who = current ? describeHolder(current) : "an unreadable holder (remove the lock file by hand if no keeper runs)";
      throw new RiskkeeperError("STATE_LOCKED", `state file is locked by ${who}`, { input: stateFile, details: { lockFile: file, holder: current } });
    }
    // Stale: its process is gone. Remove it and try once more (another keeper may win the race).
    // (`describeHolder` of the stale one is in the error if the retry loses.)
    await rm(file, { force: true });
  }
  throw new RiskkeeperError("STATE_LOCKED", "state file lock was taken over by another keeper while a stale lock was removed", { input: stateFile });
}
