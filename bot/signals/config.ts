// Stress thresholds. Every default is chosen from a principle written beside it (a sampling error,
// a Gaussian tail probability, a feed's documented heartbeat or deviation trigger), never fitted to
// the history the keeper is later judged on. Levels: calm < elevated < stressed < critical.
import { RiskkeeperError } from "../errors.ts";

export type StressLevel = "calm" | "elevated" | "stressed" | "critical";

export const LEVELS: readonly StressLevel[] = ["calm", "elevated", "stressed", "critical"];

/** Three increasing cut-offs: value >= elevated -> elevated, >= stressed -> stressed, >= critical -> critical. */
export interface Bands {
  elevated: number;
  stressed: number;
  critical: number;
}

export interface StressConfig {
  vol: {
    /** Short realised-vol window. Default 1 day. */
    shortWindowSeconds: number;
    /** Long (reference) realised-vol window. Default 30 days. */
    longWindowSeconds: number;
    /**
     * Short / long close-to-close vol ratio. Default 1.5 / 2 / 3. With hourly bars the 1-day estimate
     * has a relative standard error of about 1/sqrt(2 x 24) = 14%, so a ratio of 1.5 is more than three
     * standard errors above 1: a regime change, not noise. Scale-free, so the same bands serve any asset.
     */
    ratio: Bands;
    /** RiskMetrics EWMA decay. Default 0.94 (J.P. Morgan/Reuters 1996, daily data). */
    ewmaLambda: number;
  };
  drawdown: {
    /** Horizons over which the drawdown is measured. Default 1 h, 24 h, 7 d. */
    horizonsSeconds: number[];
    /**
     * Log drawdown in units of the long-window vol scaled to the horizon, sigma_long x sqrt(h).
     * Default 2 / 3 / 4: one-sided Gaussian tail probabilities of 2.3%, 0.13% and 0.003%.
     */
    z: Bands;
  };
  jumps: {
    /** Returns in the bipower window before each tested return. Default 48 bars. */
    windowSteps: number;
    /** |r| > k x local sd. Default 4: p = 6e-5 per bar under a Gaussian, under one false alarm a year on hourly bars. */
    k: number;
    /** Jumps are counted in this trailing period. Default 24 h. */
    lookbackSeconds: number;
    /**
     * Jump counts in the lookback. Default 2 / 4 / 8. One isolated 4-sd bar is ordinary in crypto
     * (fat tails: kurtosis far above 3), so a single jump is reported in the metrics but only a
     * cluster raises the level.
     */
    count: Bands;
  };
  oracle: {
    /** The feed's heartbeat. Default 3,600 s (Chainlink ETH/USD and BTC/USD on mainnet). */
    heartbeatSeconds: number;
    /** Slack before an answer counts as stale. Default 120 s: ETH/USD heartbeat updates land up to ~2 min late (SOURCE.md). */
    graceSeconds: number;
    /** Age in heartbeats. Default 1 (+grace) / 2 / 3: one missed heartbeat, then two, then three. */
    ageHeartbeats: Bands;
    /**
     * |oracle / reference - 1|. Default 2% / 5% / 10%: 4x, 10x and 20x the 0.5% deviation trigger of
     * the ETH/USD feed, so ordinary lag between the feed's updates never reaches the first band.
     */
    deviation: Bands;
  };
  gas: {
    /** Trailing window for the base-fee distribution. Default 30 days. */
    windowSeconds: number;
    /**
     * Current fee / the window's 90th percentile. Default 1 / 2 / 5: above the recent congestion level;
     * twice it (a liquidation costs twice what recent busy periods cost); five times it (small
     * liquidations stop paying for themselves, as in May 2021).
     */
    ratioToP90: Bands;
  };
  implied: {
    /**
     * Realised (1 d) / implied (DVOL) vol. Default 1.25 / 2 / 3: the options market priced less movement
     * than is happening; 1.25 is beyond the 1-day estimate's ~14% sampling error by nearly two errors.
     */
    rvOverIv: Bands;
    /** Implied vol / its own trailing-year median. Default 1.5 / 2 / 3 (the same regime logic as `vol.ratio`). */
    ivOverMedian: Bands;
  };
  /** Price data older than this many bars at `at` is itself a stress reason. Default 3 / 12 / 48 bars. */
  dataAgeBars: Bands;
}

export const DEFAULT_STRESS_CONFIG: StressConfig = Object.freeze({
  vol: { shortWindowSeconds: 86400, longWindowSeconds: 30 * 86400, ratio: { elevated: 1.5, stressed: 2, critical: 3 }, ewmaLambda: 0.94 },
  drawdown: { horizonsSeconds: [3600, 86400, 7 * 86400], z: { elevated: 2, stressed: 3, critical: 4 } },
  jumps: { windowSteps: 48, k: 4, lookbackSeconds: 86400, count: { elevated: 2, stressed: 4, critical: 8 } },
  oracle: { heartbeatSeconds: 3600, graceSeconds: 120, ageHeartbeats: { elevated: 1, stressed: 2, critical: 3 }, deviation: { elevated: 0.02, stressed: 0.05, critical: 0.1 } },
  gas: { windowSeconds: 30 * 86400, ratioToP90: { elevated: 1, stressed: 2, critical: 5 } },
  implied: { rvOverIv: { elevated: 1.25, stressed: 2, critical: 3 }, ivOverMedian: { elevated: 1.5, stressed: 2, critical: 3 } },
  dataAgeBars: { elevated: 3, stressed: 12, critical: 48 },
}) as StressConfig;

export type StressConfigInput = {
  [K in keyof StressConfig]?: StressConfig[K] extends number[] ? number[] : StressConfig[K] extends object ? Partial<StressConfig[K]> : StressConfig[K];
};

function checkBands(b: Bands, name: string): void {
  if (!(Number.isFinite(b.elevated) && b.elevated <= b.stressed && b.stressed <= b.critical)) {
    throw new RiskkeeperError("CONFIG_INVALID", `bands must be finite and increasing, got ${JSON.stringify(b)}`, { input: name });
  }
}

/** Merges `input` over the defaults and validates it once (at the edge). */
export function resolveStressConfig(input: StressConfigInput = {}): StressConfig {
  const d = DEFAULT_STRESS_CONFIG;
  const c: StressConfig = {
    vol: { ...d.vol, ...input.vol },
    drawdown: { ...d.drawdown, ...input.drawdown },
    jumps: { ...d.jumps, ...input.jumps },
    oracle: { ...d.oracle, ...input.oracle },
    gas: { ...d.gas, ...input.gas },
    implied: { ...d.implied, ...input.implied },
    dataAgeBars: { ...d.dataAgeBars, ...input.dataAgeBars },
  };
  checkBands(c.vol.ratio, "vol.ratio");
  checkBands(c.drawdown.z, "drawdown.z");
  checkBands(c.jumps.count, "jumps.count");
  checkBands(c.oracle.ageHeartbeats, "oracle.ageHeartbeats");
  checkBands(c.oracle.deviation, "oracle.deviation");
  checkBands(c.gas.ratioToP90, "gas.ratioToP90");
  checkBands(c.implied.rvOverIv, "implied.rvOverIv");
  checkBands(c.implied.ivOverMedian, "implied.ivOverMedian");
  checkBands(c.dataAgeBars, "dataAgeBars");
  if (!(c.vol.shortWindowSeconds > 0 && c.vol.longWindowSeconds > c.vol.shortWindowSeconds)) {
    throw new RiskkeeperError("CONFIG_INVALID", "need 0 < shortWindowSeconds < longWindowSeconds", { input: "vol" });
  }
  if (!(c.vol.ewmaLambda > 0 && c.vol.ewmaLambda < 1)) throw new RiskkeeperError("CONFIG_INVALID", `must be in (0, 1), got ${c.vol.ewmaLambda}`, { input: "vol.ewmaLambda" });
  if (!(c.oracle.heartbeatSeconds > 0)) throw new RiskkeeperError("CONFIG_INVALID", "must be > 0", { input: "oracle.heartbeatSeconds" });
  if (!(c.jumps.windowSteps >= 2 && c.jumps.k > 0)) throw new RiskkeeperError("CONFIG_INVALID", "need windowSteps >= 2 and k > 0", { input: "jumps" });
  return c;
}

/** The level a value reaches in `bands` (higher is worse). */
export function levelOf(value: number, b: Bands): StressLevel {
  if (!(value >= b.elevated)) return "calm";
  if (value >= b.critical) return "critical";
  return value >= b.stressed ? "stressed" : "elevated";
}

export function maxLevel(a: StressLevel, b: StressLevel): StressLevel {
  return LEVELS.indexOf(a) >= LEVELS.indexOf(b) ? a : b;
}
