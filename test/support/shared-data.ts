// Locates the real data sets in ../shared/data (read in place, never copied into the repo).
// RISKKEEPER_SHARED_DATA overrides the location. Tests that need a file call `sharedDataFile`
// inside `before`/`it` with `this` and are skipped, loudly, where the data is absent.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const candidates = [
  process.env.RISKKEEPER_SHARED_DATA,
  path.resolve(repoRoot, "..", "shared", "data"),
  "/work/shared/data",
].filter((p): p is string => typeof p === "string" && p.length > 0);

export const sharedDataDir: string | undefined = candidates.find((p) => existsSync(p));

/** Absolute path of `relative` under the shared data dir, or undefined when it is not there. */
export function sharedDataPath(relative: string): string | undefined {
  if (!sharedDataDir) return undefined;
  const full = path.join(sharedDataDir, relative);
  return existsSync(full) ? full : undefined;
}

/** Returns the path or skips the current test (with the reason) when the file is absent. */
export function sharedDataFile(ctx: Mocha.Context, relative: string): string {
  const full = sharedDataPath(relative);
  if (!full) {
    console.warn(`    (skipped: ../shared/data/${relative} not found; set RISKKEEPER_SHARED_DATA)`);
    ctx.skip();
  }
  return full as string;
}
