// Stress scenarios for fork validation: price paths played through the oracle. Pure computation.
//
//   worstWindows     the k worst non-overlapping windows of a history, by drawdown (what hurts
//                    longs) or by rally (what hurts shorts)
//   syntheticCrash   a seeded crash path, so validation runs without any data file
//   scenarioFromPath any recorded or simulated series (Monte Carlo tail paths, a file)
import { RiskkeeperError, assertInput } from "../errors.ts";
import { createRng } from "../models/common/prng.ts";

export interface ScenarioRound {
  /** Unix seconds, as recorded; replays shift them onto the chain's clock. */
  t: number;
  price: number;
}

export type ScenarioKind = "drawdown" | "rally" | "synthetic" | "monte-carlo" | "recorded";

export interface Scenario {
  name: string;
  kind: ScenarioKind;
  rounds: ScenarioRound[];
  /** Worst move from the first price inside the window (negative for a drawdown), as a fraction. */
  worstMove: number;
}

export interface WorstWindowsOptions {
  /** Rounds per scenario (e.g. 720 hourly rounds = 30 days). */
  windowSteps: number;
  /** Rounds over which the adverse move is measured: the liquidation horizon (default windowSteps). */
  horizonSteps?: number;
  /** Rounds of history kept before the move starts, so positions meet it open (default 24, capped). */
  leadInSteps?: number;
  k: number;
  direction: "down" | "up";
}

/**
 * The k worst non-overlapping windows for a horizon: for each start i, the worst move
 * min_j p[j]/p[i] - 1 (down) or max_j p[j]/p[i] - 1 (up) for j in (i, i + horizonSteps]; the
 * scenario is the windowSteps rounds starting leadInSteps before the worst starts, chosen greedily
 * so that no two scenarios overlap.
 */
export function worstWindows(t: ArrayLike<number>, price: ArrayLike<number>, options: WorstWindowsOptions): Scenario[] {
  const { windowSteps, k, direction } = options;
  const horizonSteps = options.horizonSteps ?? windowSteps;
  assertInput(Number.isInteger(windowSteps) && windowSteps >= 1, `must be an integer >= 1, got ${windowSteps}`, "windowSteps");
  assertInput(Number.isInteger(horizonSteps) && horizonSteps >= 1 && horizonSteps <= windowSteps, `must be an integer in [1, windowSteps], got ${horizonSteps}`, "horizonSteps");
  const leadIn = Math.min(options.leadInSteps ?? 24, windowSteps - horizonSteps);
  assertInput(Number.isInteger(leadIn) && leadIn >= 0, `must be an integer >= 0, got ${leadIn}`, "leadInSteps");
  assertInput(Number.isInteger(k) && k >= 1, `must be an integer >= 1, got ${k}`, "k");
  assertInput(t.length === price.length, `t has ${t.length} rows but price has ${price.length}`, "price");
  const n = price.length;
  if (n <= windowSteps) {
    throw new RiskkeeperError("DATA_EMPTY", `${n} prices cannot hold a window of ${windowSteps + 1}`, { input: "price" });
  }
  for (let i = 0; i < n; i++) {
    if (!(price[i] > 0) || !Number.isFinite(price[i])) {
      throw new RiskkeeperError("DATA_BAD_VALUE", `price[${i}] = ${price[i]} is not a positive finite number`, { input: "price" });
    }
  }
  const sign = direction === "down" ? -1 : 1;
  // Severity of each start that leaves room for the whole scenario window.
  const first = leadIn;
  const last = n - 1 - (windowSteps - leadIn);
  const severity = new Float64Array(n).fill(-Infinity);
  for (let i = first; i <= last; i++) {
    let extreme = price[i];
    for (let j = i + 1; j <= i + horizonSteps; j++) {
      const p = price[j];
      if (direction === "down" ? p < extreme : p > extreme) extreme = p;
    }
    severity[i] = sign * (extreme / price[i] - 1);
  }
  const order = Array.from({ length: last - first + 1 }, (_, i) => i + first).sort((a, b) => severity[b] - severity[a] || a - b);
  const chosen: number[] = [];
  for (const i of order) {
    if (chosen.length === k) break;
    if (chosen.every((c) => Math.abs(c - i) > windowSteps)) chosen.push(i);
  }
  return chosen.map((i) => {
    const from = i - leadIn;
    const rounds: ScenarioRound[] = [];
    for (let j = from; j <= from + windowSteps; j++) rounds.push({ t: t[j], price: price[j] });
    const hours = (horizonSteps * (t[1] - t[0])) / 3_600;
    return {
      name: `${direction === "down" ? "drawdown" : "rally"} ${(sign * severity[i] * 100).toFixed(1)}% in ${hours} h from ${new Date(t[i] * 1000).toISOString().slice(0, 16)}Z`,
      kind: direction === "down" ? "drawdown" : "rally",
      rounds,
      worstMove: sign * severity[i],
    } satisfies Scenario;
  });
}

/** The same path rescaled to start at `startPrice`: relative moves are what stress a protocol. */
export function rebaseScenario(scenario: Scenario, startPrice: number): Scenario {
  assertInput(startPrice > 0 && Number.isFinite(startPrice), `must be a positive finite number, got ${startPrice}`, "startPrice");
  const factor = startPrice / scenario.rounds[0].price;
  return { ...scenario, rounds: scenario.rounds.map((r) => ({ t: r.t, price: r.price * factor })) };
}

/**
 * A seeded crash: calm hours, then a fall of `crashFraction` spread over `crashSteps` steps with
 * noise, then a partial rebound. Lets validation run where no history is available.
 */
export function syntheticCrash(options: {
  seed: number;
  steps?: number;
  startPrice?: number;
  crashFraction?: number;
  crashSteps?: number;
  intervalSeconds?: number;
  startTime?: number;
}): Scenario {
  const steps = options.steps ?? 720;
  const start = options.startPrice ?? 3_000;
  const crash = options.crashFraction ?? 0.4;
  const crashSteps = options.crashSteps ?? 24;
  const dt = options.intervalSeconds ?? 3_600;
  const t0 = options.startTime ?? 1_700_000_000;
  assertInput(crash > 0 && crash < 1, `must be in (0, 1), got ${crash}`, "crashFraction");
  assertInput(crashSteps >= 1 && crashSteps < steps, `must be in [1, steps), got ${crashSteps}`, "crashSteps");
  const rng = createRng(options.seed);
  const uniform = () => rng.uniform();
  const crashStart = Math.floor(steps / 3);
  const perStepLog = Math.log(1 - crash) / crashSteps;
  const rounds: ScenarioRound[] = [];
  let logPrice = Math.log(start);
  let worst = 0;
  for (let i = 0; i <= steps; i++) {
    if (i > 0) {
      const noise = (uniform() - 0.5) * 0.004;
      const inCrash = i > crashStart && i <= crashStart + crashSteps;
      const rebound = i > crashStart + crashSteps && i <= crashStart + 2 * crashSteps ? -perStepLog * 0.3 : 0;
      logPrice += (inCrash ? perStepLog : 0) + rebound + noise;
    }
    const price = Math.exp(logPrice);
    worst = Math.min(worst, price / start - 1);
    rounds.push({ t: t0 + i * dt, price });
  }
  return { name: `synthetic crash -${Math.round(crash * 100)}% over ${crashSteps} steps (seed ${options.seed})`, kind: "synthetic", rounds, worstMove: worst };
}

/** Wraps any path (Monte Carlo tail path, a recorded series) as a scenario. */
export function scenarioFromPath(name: string, kind: ScenarioKind, t: ArrayLike<number>, price: ArrayLike<number>): Scenario {
  assertInput(t.length === price.length && t.length >= 2, `needs at least 2 aligned rows, got ${t.length} and ${price.length}`, name);
  const rounds: ScenarioRound[] = [];
  let extreme = 0;
  for (let i = 0; i < t.length; i++) {
    if (!(price[i] > 0) || !Number.isFinite(price[i])) {
      throw new RiskkeeperError("DATA_BAD_VALUE", `price[${i}] = ${price[i]} is not a positive finite number`, { input: name });
    }
    if (i > 0 && !(t[i] > t[i - 1])) {
      throw new RiskkeeperError("DATA_TIME_ORDER", `t[${i}] = ${t[i]} is not after t[${i - 1}] = ${t[i - 1]}`, { input: name });
    }
    const move = price[i] / price[0] - 1;
    if (Math.abs(move) > Math.abs(extreme)) extreme = move;
    rounds.push({ t: t[i], price: price[i] });
  }
  return { name, kind, rounds, worstMove: extreme };
}
