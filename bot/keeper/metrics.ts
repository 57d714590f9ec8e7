// Metrics in the Prometheus text exposition format (0.0.4), without a client library: counters and
// gauges with labels, plus collectors that refresh gauges from the state store at scrape time.
// Label values are escaped; nothing secret is ever a label (markets, states, reason codes only).
import type { StateData } from "./state.ts";
import { UPDATE_STATES } from "./state.ts";

export type Labels = Record<string, string>;

interface Series {
  labels: Labels;
  value: number;
}

abstract class Metric {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected series = new Map<string, Series>();
  abstract readonly type: "counter" | "gauge";

  constructor(name: string, help: string, labelNames: readonly string[]) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`bad metric name ${name}`);
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  protected key(labels: Labels): string {
    const extra = Object.keys(labels).filter((k) => !this.labelNames.includes(k));
    if (extra.length > 0 || this.labelNames.some((k) => labels[k] === undefined)) {
      throw new Error(`${this.name}: expected labels ${this.labelNames.join(", ")}, got ${Object.keys(labels).join(", ")}`);
    }
    return this.labelNames.map((k) => labels[k]).join("\u0000");
  }

  get(labels: Labels = {}): number {
    return this.series.get(this.key(labels))?.value ?? 0;
  }

  /** Drops every series (collectors rebuild gauges from scratch). */
  reset(): void {
    this.series.clear();
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${this.name} ${this.type}`];
    const sorted = [...this.series.values()].sort((a, b) => this.key(a.labels).localeCompare(this.key(b.labels)));
    for (const s of sorted) lines.push(`${this.name}${formatLabels(s.labels, this.labelNames)} ${formatValue(s.value)}`);
    return lines.join("\n");
  }
}

export class Counter extends Metric {
  readonly type = "counter" as const;
  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: a counter only goes up`);
    const k = this.key(labels);
    const s = this.series.get(k) ?? { labels: { ...labels }, value: 0 };
    s.value += by;
    this.series.set(k, s);
  }
}

export class Gauge extends Metric {
  readonly type: "counter" | "gauge" = "gauge";
  set(labels: Labels, value: number): void {
    this.series.set(this.key(labels), { labels: { ...labels }, value });
  }
}

/** A counter whose values are read from a durable source (the state file's counters) at scrape time. */
export class SourcedCounter extends Gauge {
  override readonly type = "counter" as const;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatLabels(labels: Labels, names: readonly string[]): string {
  if (names.length === 0) return "";
  return `{${names.map((k) => `${k}="${escapeLabel(labels[k] ?? "")}"`).join(",")}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export class MetricsRegistry {
  #metrics = new Map<string, Metric>();
  #collectors: Array<() => void> = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames));
  }

  sourcedCounter(name: string, help: string, labelNames: readonly string[] = []): SourcedCounter {
    return this.#add(new SourcedCounter(name, help, labelNames));
  }

  /** `fn` runs before every render (to refresh gauges from live state). */
  collect(fn: () => void): void {
    this.#collectors.push(fn);
  }

  /** The exposition text (Content-Type: text/plain; version=0.0.4). */
  render(): string {
    for (const c of this.#collectors) c();
    return `${[...this.#metrics.values()].map((m) => m.render()).join("\n")}\n`;
  }

  #add<M extends Metric>(m: M): M {
    if (this.#metrics.has(m.name)) throw new Error(`metric ${m.name} registered twice`);
    this.#metrics.set(m.name, m);
    return m;
  }
}

/** The keeper's metrics. Names are stable: dashboards and alerts use them. */
export interface KeeperMetrics {
  registry: MetricsRegistry;
  /** riskkeeper_runs_total{market,outcome="ok"|"error"} */
  runs: Counter;
  /** riskkeeper_runs_coalesced_total{market}: triggers merged into a run already due. */
  coalesced: Counter;
  /** riskkeeper_watch_errors_total{market} */
  watchErrors: Counter;
  /** riskkeeper_submissions_total{market,mode}: transactions or proposals sent. */
  submissions: Counter;
  /** riskkeeper_rpc_errors_total{endpoint}: endpoint is a role name ("chain", "fork"), never a URL. */
  rpcErrors: Counter;
  /** riskkeeper_last_run_timestamp_seconds{market} */
  lastRun: Gauge;
  /** riskkeeper_last_success_timestamp_seconds{market} */
  lastSuccess: Gauge;
  /** riskkeeper_stress_level{market}: 0 calm, 1 elevated, 2 stressed, 3 critical. */
  stressLevel: Gauge;
  /** riskkeeper_kill_switch_engaged: 1 while submissions are stopped. */
  killSwitch: Gauge;
  /** riskkeeper_updates{state}: records currently held in each state. */
  updates: Gauge;
  /** riskkeeper_pending_updates{market}: non-terminal records. */
  pending: Gauge;
  /** riskkeeper_updates_created_total / confirmed_total {market}, riskkeeper_rejections_total{market,reason}: from the state counters (survive restarts and compaction). */
  created: SourcedCounter;
  confirmed: SourcedCounter;
  rejections: SourcedCounter;
}

export function createKeeperMetrics(registry = new MetricsRegistry()): KeeperMetrics {
  return {
    registry,
    runs: registry.counter("riskkeeper_runs_total", "Pipeline runs by market and outcome.", ["market", "outcome"]),
    coalesced: registry.counter("riskkeeper_runs_coalesced_total", "Triggers coalesced into a run already in progress or queued.", ["market"]),
    watchErrors: registry.counter("riskkeeper_watch_errors_total", "Failed signal watches.", ["market"]),
    submissions: registry.counter("riskkeeper_submissions_total", "Updates submitted on-chain (transactions or governance proposals).", ["market", "mode"]),
    rpcErrors: registry.counter("riskkeeper_rpc_errors_total", "RPC errors by endpoint role.", ["endpoint"]),
    lastRun: registry.gauge("riskkeeper_last_run_timestamp_seconds", "Start time of the last run per market (Unix seconds).", ["market"]),
    lastSuccess: registry.gauge("riskkeeper_last_success_timestamp_seconds", "End time of the last successful run per market (Unix seconds).", ["market"]),
    stressLevel: registry.gauge("riskkeeper_stress_level", "Last watched stress level (0 calm, 1 elevated, 2 stressed, 3 critical).", ["market"]),
    killSwitch: registry.gauge("riskkeeper_kill_switch_engaged", "1 while the kill switch stops submissions."),
    updates: registry.gauge("riskkeeper_updates", "Update records currently held, by state.", ["state"]),
    pending: registry.gauge("riskkeeper_pending_updates", "Non-terminal update records by market.", ["market"]),
    created: registry.sourcedCounter("riskkeeper_updates_created_total", "Update records created, by market (from the state file).", ["market"]),
    confirmed: registry.sourcedCounter("riskkeeper_updates_confirmed_total", "Updates confirmed on-chain, by market (from the state file).", ["market"]),
    rejections: registry.sourcedCounter("riskkeeper_rejections_total", "Updates rejected, by market and reason code (from the state file).", ["market", "reason"]),
  };
}

/** Refreshes the state-derived gauges from a state snapshot (call from a registry collector). */
export function setStateMetrics(m: KeeperMetrics, data: StateData): void {
  for (const g of [m.updates, m.pending, m.created, m.confirmed, m.rejections]) g.reset();
  const byState: Record<string, number> = Object.fromEntries(UPDATE_STATES.map((s) => [s, 0]));
  const pending: Record<string, number> = {};
  for (const r of Object.values(data.updates)) {
    byState[r.state] = (byState[r.state] ?? 0) + 1;
    if (r.state !== "confirmed" && r.state !== "rejected") pending[r.market] = (pending[r.market] ?? 0) + 1;
  }
  for (const [state, n] of Object.entries(byState)) m.updates.set({ state }, n);
  for (const [market, c] of Object.entries(data.markets)) {
    m.pending.set({ market }, pending[market] ?? 0);
    m.created.set({ market }, c.created);
    m.confirmed.set({ market }, c.confirmed);
    for (const [reason, n] of Object.entries(c.rejected)) m.rejections.set({ market, reason }, n);
  }
}
