// The smallest clock the I/O layers need: time in milliseconds and a sleep that a test or a replay
// can replace. Shared by bot/data (RPC back-off) and bot/chain (fee waits, confirmations); the
// keeper's Clock (bot/keeper/clock.ts) is a superset.

/** Milliseconds clock with an injectable sleep. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock; only the process edge (CLI, keeper) should pass it in. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
