// Oracle health: staleness of the latest answer against the feed's heartbeat, deviation against a
// second source, and the L2 sequencer uptime feed (answer 0 = up, 1 = down; startedAt = since when).

export interface Staleness {
  /** Seconds since the answer was written. */
  ageSeconds: number;
  heartbeatSeconds: number;
  /** age / heartbeat. */
  heartbeats: number;
  /** age > heartbeat + grace. */
  stale: boolean;
}

/** Staleness of an answer updated at `updatedAt` (Unix s) seen at `now` (Unix s). */
export function oracleStaleness(updatedAt: number, now: number, heartbeatSeconds: number, graceSeconds: number): Staleness {
  const age = now - updatedAt;
  return { ageSeconds: age, heartbeatSeconds, heartbeats: age / heartbeatSeconds, stale: age > heartbeatSeconds + graceSeconds };
}

/** Relative deviation of the oracle from a reference price: oracle / reference - 1. */
export function oracleDeviation(oracle: number, reference: number): number {
  return oracle / reference - 1;
}

export interface SequencerStatus {
  up: boolean;
  /** Seconds since the status last changed. */
  sinceSeconds: number;
  /** Up, and up for longer than the grace period: prices may be trusted again. */
  usable: boolean;
}

/** Reads an L2 sequencer uptime feed round (Chainlink: answer 0 = up, 1 = down). */
export function sequencerStatus(answer: bigint | number, startedAt: number, now: number, gracePeriodSeconds = 3600): SequencerStatus {
  const up = BigInt(answer) === 0n;
  const since = now - startedAt;
  return { up, sinceSeconds: since, usable: up && startedAt > 0 && since > gracePeriodSeconds };
}
