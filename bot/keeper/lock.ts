// One keeper per state file. The lock is a file beside the state (`<state>.lock`) created with
// O_EXCL, holding the owner's pid, hostname and start time. A lock whose pid is dead on this host
// is stale and taken over; any other lock is STATE_LOCKED, naming its holder.
import { readFileSync } from "node:fs";
import { mkdir, open, readFile, rm } from "node:fs/promises";
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

/** True/false when the holder is on this host (its pid alive or not); undefined for another host. */
export function holderAlive(h: LockHolder): boolean | undefined {
  return h.hostname === os.hostname() ? pidAlive(h.pid) : undefined;
}

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on ${h.hostname} since ${h.startedAt}`;
}

/** Takes the lock on `stateFile` or throws STATE_LOCKED naming the holder. `now` stamps startedAt. */
export async function acquireStateLock(stateFile: string, now: number = Date.now()): Promise<StateLock> {
  const file = lockFileOf(stateFile);
  await mkdir(path.dirname(file), { recursive: true });
  const holder: LockHolder = { pid: process.pid, hostname: os.hostname(), startedAt: new Date(now).toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, "wx", 0o644);
      try {
        await handle.writeFile(`${JSON.stringify(holder)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      let released = false;
      return {
        file,
        holder,
        release: async () => {
          if (released) return;
          released = true;
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
    const stale = current !== undefined && current.hostname === os.hostname() && !pidAlive(current.pid);
    if (!stale) {
      const who = current ? describeHolder(current) : "an unreadable holder (remove the lock file by hand if no keeper runs)";
      throw new RiskkeeperError("STATE_LOCKED", `state file is locked by ${who}`, { input: stateFile, details: { lockFile: file, holder: current } });
    }
    // Stale: its process is gone. Remove it and try once more (another keeper may win the race).
    await rm(file, { force: true });
  }
  throw new RiskkeeperError("STATE_LOCKED", "state file lock was taken over by another keeper while a stale lock was removed", { input: stateFile });
}
