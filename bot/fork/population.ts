// A seeded population of positions for validations on a chain without positions of its own.
// Pure: the same seed and margins give the same positions.
import { assertInput } from "../errors.ts";
import { createRng } from "../models/common/prng.ts";

export interface PositionSpec {
  isLong: boolean;
  /** Token units (18 decimals). */
  notional: bigint;
  /** Token units; at least notional * initialMarginBps / 10_000. */
  collateral: bigint;
}

export interface PopulationOptions {
  count: number;
  seed: number;
  /** Share of longs, in [0, 1]. */
  longShare?: number;
  /** Notional range per position, in whole tokens. */
  minNotional?: number;
  maxNotional?: number;
  /**
   * Leverage as a fraction of the maximum the initial margin allows: traders use most of what a
   * protocol lets them, so lowering margins raises leverage. Default [0.5, 1].
   */
  minLeverageShare?: number;
  maxLeverageShare?: number;
}

const E18 = 10n ** 18n;

/** Positions sized against `initialMarginBps`: collateral = notional * IM / (10_000 * leverageShare), rounded up. */
export function seededPopulation(initialMarginBps: bigint, options: PopulationOptions): PositionSpec[] {
  const { count, seed } = options;
  assertInput(Number.isInteger(count) && count >= 1 && count <= 10_000, `must be an integer in [1, 10000], got ${count}`, "count");
  assertInput(initialMarginBps > 0n && initialMarginBps <= 10_000n, `must be in (0, 10000], got ${initialMarginBps}`, "initialMarginBps");
  const longShare = options.longShare ?? 0.7;
  const minNotional = options.minNotional ?? 1_000;
  const maxNotional = options.maxNotional ?? 50_000;
  const minShare = options.minLeverageShare ?? 0.5;
  const maxShare = options.maxLeverageShare ?? 1;
  assertInput(longShare >= 0 && longShare <= 1, `must be in [0, 1], got ${longShare}`, "longShare");
  assertInput(minShare > 0 && minShare <= maxShare && maxShare <= 1, `leverage shares must satisfy 0 < min <= max <= 1`, "minLeverageShare");
  const rng = createRng(seed);
  const uniform = () => rng.uniform();
  const specs: PositionSpec[] = [];
  for (let i = 0; i < count; i++) {
    const isLong = uniform() < longShare;
    const notionalTokens = Math.round(minNotional + uniform() * (maxNotional - minNotional));
    const notional = BigInt(notionalTokens) * E18;
    const shareMillionths = BigInt(Math.max(1, Math.round((minShare + uniform() * (maxShare - minShare)) * 1e6)));
    // collateral = notional * IM / 10_000 / share, rounded up so it always meets the initial margin.
    const numerator = notional * initialMarginBps * 1_000_000n;
    const denominator = 10_000n * shareMillionths;
    const collateral = (numerator + denominator - 1n) / denominator;
    specs.push({ isLong, notional, collateral });
  }
  return specs;
}
