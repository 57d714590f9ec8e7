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

export interface MonteCarloOptions {
  /** Paths simulated; the worst are kept. */
  paths: number;
  /** Steps per path (the scenario window, in the history's cadence). */
  steps: number;
  /** Paths kept per direction: the k worst drawdowns and the k worst rallies (default 1). */
  k?: number;
  seed: number;
  /** Most recent returns the GARCH-t model is fitted on (default 10,000). */
  fitWindow?: number;
  /** Price of the first round (default the last price of the history). */
  startPrice?: number;
}

export interface MonteCarloResult {
  scenarios: Scenario[];
  /** The fitted model, for the report: GARCH(1,1)-t parameters of the history's log returns. */
  model: { params: { mu: number; omega: number; alpha: number; beta: number; nu?: number }; n: number; converged: boolean; warnings: string[] };
  /** Distribution of the simulated paths' worst moves, for context. */
  simulated: { paths: number; medianDrawdown: number; medianRally: number };
}

/**
 * Monte Carlo tail paths: GARCH(1,1) with Student-t innovations fitted by ML on the history's log
 * returns (bot/models `fitGarch`), `paths` seeded paths of `steps` returns simulated from it
 * (`simulateGarchSeries`, path i from seed * 100,000 + i), and the k paths with the largest peak-to-trough
 * drawdown and the k with the largest trough-to-peak rally kept as scenarios, at the history's
 * median cadence. Deterministic for a given history and seed.
 */
export async function monteCarloScenarios(t: ArrayLike<number>, price: ArrayLike<number>, options: MonteCarloOptions): Promise<MonteCarloResult> {
  const { paths, steps, seed } = options;
  const k = options.k ?? 1;
  assertInput(Number.isInteger(paths) && paths >= 1 && paths <= 100_000, `must be an integer in [1, 100000], got ${paths}`, "paths");
  assertInput(Number.isInteger(steps) && steps >= 2, `must be an integer >= 2, got ${steps}`, "steps");
  assertInput(Number.isInteger(k) && k >= 1 && 2 * k <= paths, `must be an integer in [1, paths / 2], got ${k}`, "k");
  assertInput(t.length === price.length, `t has ${t.length} rows but price has ${price.length}`, "price");
  const n = price.length;
  const from = Math.max(0, n - 1 - (options.fitWindow ?? 10_000));
  const returns: number[] = [];
  const intervals: number[] = [];
  for (let i = from + 1; i < n; i++) {
    if (!(price[i] > 0 && price[i - 1] > 0) || !Number.isFinite(price[i])) {
      throw new RiskkeeperError("DATA_BAD_VALUE", `price[${i}] = ${price[i]} is not a positive finite number`, { input: "price" });
    }
    returns.push(Math.log(price[i] / price[i - 1]));
    intervals.push(t[i] - t[i - 1]);
  }
  const { fitGarch, simulateGarchSeries } = await import("../models/index.ts");
  const fit = fitGarch(returns, { model: "garch", dist: "t" });
  const dt = Math.max(1, Math.round([...intervals].sort((a, b) => a - b)[Math.floor(intervals.length / 2)]));
  const start = options.startPrice ?? price[n - 1];
  const t0 = t[n - 1] + dt;
  const drawdowns = new Float64Array(paths);
  const rallies = new Float64Array(paths);
  // Path i of seed s draws from seed s * 100,000 + i: runs with different seeds share no path.
  const simulate = (i: number) => simulateGarchSeries({ params: fit.params, dist: "t", n: steps, seed: seed * 100_000 + i });
  for (let i = 0; i < paths; i++) {
    let cum = 0, peak = 0, trough = 0, dd = 0, ru = 0;
    for (const r of simulate(i)) {
      cum += r;
      if (cum > peak) peak = cum;
      if (cum < trough) trough = cum;
      if (peak - cum > dd) dd = peak - cum;
      if (cum - trough > ru) ru = cum - trough;
    }
    drawdowns[i] = dd;
    rallies[i] = ru;
  }
  // A path with a volatility burst can be both the deepest fall and the highest rise: it is played
  // once, as a drawdown, and the rallies are the k worst among the other paths.
  const worst = (values: Float64Array, skip: ReadonlySet<number>) =>
    Array.from({ length: paths }, (_, i) => i).filter((i) => !skip.has(i)).sort((a, b) => values[b] - values[a] || a - b).slice(0, k);
  const worstDrawdowns = worst(drawdowns, new Set());
  const worstRallies = worst(rallies, new Set(worstDrawdowns));
  const build = (i: number, direction: "down" | "up"): Scenario => {
    const returnsOfPath = simulate(i);
    const ts: number[] = [t0];
    const ps: number[] = [start];
    let logPrice = Math.log(start);
    for (let j = 0; j < returnsOfPath.length; j++) {
      logPrice += returnsOfPath[j];
      ts.push(t0 + (j + 1) * dt);
      ps.push(Math.exp(logPrice));
    }
    const move = direction === "down" ? -(1 - Math.exp(-drawdowns[i])) : Math.exp(rallies[i]) - 1;
    const scenario = scenarioFromPath(
      `monte-carlo GARCH-t path ${i} (seed ${seed}): ${direction === "down" ? "drawdown" : "rally"} ${(Math.abs(move) * 100).toFixed(1)}% ${direction === "down" ? "peak to trough" : "trough to peak"} over ${steps} steps (worst of ${paths})`,
      "monte-carlo", ts, ps,
    );
    return { ...scenario, worstMove: move };
  };
  const median = (values: Float64Array) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return {
    scenarios: [...worstDrawdowns.map((i) => build(i, "down")), ...worstRallies.map((i) => build(i, "up"))],
    model: {
      params: { mu: fit.params.mu, omega: fit.params.omega, alpha: fit.params.alpha, beta: fit.params.beta, ...(fit.params.nu !== undefined ? { nu: fit.params.nu } : {}) },
      n: returns.length,
      converged: fit.converged,
      warnings: fit.warnings.map((w) => w.code),
    },
    simulated: { paths, medianDrawdown: -(1 - Math.exp(-median(drawdowns))), medianRally: Math.exp(median(rallies)) - 1 },
  };
}

/** Chainlink rounds in columns (bot/data `loadRounds`): update times (unix seconds) and answers. */
export interface RoundsHistory {
  updatedAt: ArrayLike<number>;
  answer: ArrayLike<number>;
}

/**
 * Real Chainlink rounds as scenarios, each round at its own recorded time (a feed updates on its
 * deviation threshold and heartbeat, not on a clock): the k worst drawdown windows and the worst
 * rally window of `windowRounds` rounds, judged over `horizonRounds` rounds; a file shorter than
 * the window is played whole.
 */
export function roundsScenarios(rounds: RoundsHistory, options: { windowRounds: number; horizonRounds?: number; k: number; label?: string }): Scenario[] {
  const label = options.label ?? "Chainlink rounds";
  const n = rounds.answer.length;
  assertInput(n >= 2, `needs at least 2 rounds, got ${n}`, label);
  if (n <= options.windowRounds) {
    const ts = Array.from(rounds.updatedAt);
    return [{ ...scenarioFromPathLoose(`${label}: all ${n} rounds`, ts, Array.from(rounds.answer)) }];
  }
  const horizon = Math.min(options.horizonRounds ?? 24, options.windowRounds);
  const windows = [
    ...worstWindows(rounds.updatedAt, rounds.answer, { windowSteps: options.windowRounds, horizonSteps: horizon, k: options.k, direction: "down" }),
    ...worstWindows(rounds.updatedAt, rounds.answer, { windowSteps: options.windowRounds, horizonSteps: horizon, k: 1, direction: "up" }),
  ];
  return windows.map((w) => {
    const first = w.rounds[0].t;
    const last = w.rounds[w.rounds.length - 1].t;
    const iso = (s: number) => new Date(s * 1000).toISOString().slice(0, 16) + "Z";
    return {
      ...w,
      kind: "recorded",
      name: `${label}: ${w.kind} ${(Math.abs(w.worstMove) * 100).toFixed(1)}% within ${horizon} rounds, ${w.rounds.length} rounds ${iso(first)} to ${iso(last)} at their own times`,
    } satisfies Scenario;
  });
}

/** Like scenarioFromPath, but allows rounds updated in the same second (Chainlink does that). */
function scenarioFromPathLoose(name: string, t: number[], price: number[]): Scenario {
  let extreme = 0;
  const rounds: ScenarioRound[] = [];
  for (let i = 0; i < t.length; i++) {
    if (!(price[i] > 0) || !Number.isFinite(price[i])) throw new RiskkeeperError("DATA_BAD_VALUE", `price[${i}] = ${price[i]} is not a positive finite number`, { input: name });
    if (i > 0 && t[i] < t[i - 1]) throw new RiskkeeperError("DATA_TIME_ORDER", `t[${i}] = ${t[i]} is before t[${i - 1}] = ${t[i - 1]}`, { input: name });
    const move = price[i] / price[0] - 1;
    if (Math.abs(move) > Math.abs(extreme)) extreme = move;
    rounds.push({ t: t[i], price: price[i] });
  }
  return { name, kind: "recorded", rounds, worstMove: extreme };
}
