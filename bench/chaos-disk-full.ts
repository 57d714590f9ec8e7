// Child process for the real disk-full case (test/reliability/disk-faults.test.ts): run inside a
// private mount namespace on a 64 KiB tmpfs at argv[2], e.g.
//   unshare -rm sh -c 'mount -t tmpfs -o size=64k tmpfs /tmp/x && node bench/chaos-disk-full.ts /tmp/x' Fills the state store until the file system refuses a
// write (ENOSPC), then checks the refusal, frees a ballast file and checks recovery. Prints one
// JSON line with what it saw; exits 0 whether or not the checks held (the parent asserts).
import { readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { SimulatedClock } from "../bot/keeper/clock.ts";
import { StateStore } from "../bot/keeper/state.ts";

const dir = process.argv[2];
if (!dir) throw new Error("usage: node bench/chaos-disk-full.ts <empty folder on a small file system>");
const file = path.join(dir, "state.json");
const ballast = path.join(dir, "ballast.bin");
writeFileSync(ballast, Buffer.alloc(12 * 1024));
const store = await StateStore.open(file, { clock: new SimulatedClock(1_000) });
const result: Record<string, unknown> = { fs: statfsSync(dir).bsize * statfsSync(dir).blocks };
let n = 0;
try {
  for (; n < 10_000; n++) {
    const before = readFileSync(file, "utf8");
    const memory = JSON.stringify(store.snapshot());
    try {
      await store.begin("ETH-USD", `0x${n.toString(16).padStart(64, "0")}`, { pad: "x".repeat(600) });
    } catch (error) {
      const e = error as { code?: string; message: string; cause?: { code?: string } };
      result.failedAt = n;
      result.code = e.code;
      result.causeCode = e.cause?.code;
      result.fileIntact = readFileSync(file, "utf8") === before;
      result.memoryRolledBack = JSON.stringify(store.snapshot()) === memory;
      result.tempFilesLeft = readdirSync(dir).filter((f) => f.endsWith(".tmp"));
      result.fileParses = (() => { try { JSON.parse(readFileSync(file, "utf8")); return true; } catch { return false; } })();
      break;
    }
  }
  // The fault ends: free the ballast and the same write goes through.
  rmSync(ballast);
  await store.begin("ETH-USD", `0x${n.toString(16).padStart(64, "0")}`, { pad: "x".repeat(600) });
  result.recovered = store.list().length === n + 1;
  await store.close();
  const reopened = await StateStore.open(file, { clock: new SimulatedClock(2_000) });
  result.reopenedRecords = reopened.list().length;
  await reopened.close();
} catch (error) {
  result.unexpected = String((error as Error).message);
}
console.log(JSON.stringify(result));
