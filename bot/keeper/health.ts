// Health and metrics over HTTP (node:http), bound to 127.0.0.1 unless the config says otherwise.
//   GET /healthz  JSON: liveness, status, last run and last success per market, pending updates,
//                 kill switch, last errors. 200 while the keeper is live, 503 once it has stopped.
//   GET /metrics  Prometheus text format (metrics.ts).
// Everything served passes through the log redactor (known secrets, keys, URLs with credentials);
// nothing in the report holds a URL by design.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock } from "./clock.ts";
import type { KillSwitch, KillSwitchStatus } from "./kill-switch.ts";
import { createRedactor } from "./log.ts";
import { setStateMetrics, type KeeperMetrics } from "./metrics.ts";
import type { Scheduler } from "./scheduler.ts";
import type { StateStore } from "./state.ts";

export interface MarketHealth {
  lastRunAt?: string;
  lastSuccessAt?: string;
  lastRunOk?: boolean;
  running: boolean;
  followUpQueued: boolean;
  stressLevel?: string;
  pending: number;
  runs: number;
  failures: number;
  coalesced: number;
  lastError?: { at: string; message: string };
}

export interface HealthReport {
  /** "ok"; "degraded" when a market's last run or watch failed; "stopped" once shut down. */
  status: "ok" | "degraded" | "stopped";
  live: boolean;
  now: string;
  startedAt: string;
  uptimeSeconds: number;
  submissionsAllowed: boolean;
  killSwitch: KillSwitchStatus | null;
  pendingUpdates: number;
  markets: Record<string, MarketHealth>;
  /** Most recent errors first, one per market at most. */
  lastErrors: Array<{ market: string; at: string; message: string }>;
  /**
   * Things an operator must look at although every run succeeded: a managed parameter changed by
   * another writer, a read-back that did not match what was sent. Any alert makes the status "degraded".
   */
  alerts: Array<{ market: string; at: string; message: string }>;
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** Composes the health report from the keeper's parts (any of them may be absent). */
export function buildHealthReport(parts: {
  clock: Clock;
  startedAt: number;
  scheduler?: Scheduler;
  store?: StateStore;
  killSwitch?: KillSwitch;
  stopped?: boolean;
  /** Alerts raised by the pipelines (at: ms since epoch). */
  alerts?: () => ReadonlyArray<{ market: string; at: number; message: string }>;
}): HealthReport {
  const now = parts.clock.now();
  const stats = parts.scheduler?.stats() ?? {};
  const counters = parts.store?.counters() ?? {};
  const pending = parts.store?.pending() ?? [];
  const names = [...new Set([...Object.keys(stats), ...Object.keys(counters)])].sort();
  const markets: Record<string, MarketHealth> = {};
  const errors: HealthReport["lastErrors"] = [];
  let degraded = false;
  for (const name of names) {
    const s = stats[name];
    const c = counters[name];
    const lastRunAt = s?.lastRunAt ?? c?.lastRun?.at;
    const lastSuccessAt = s?.lastSuccessAt ?? c?.lastSuccessAt;
    const lastError = s?.lastError ?? (c?.lastRun && !c.lastRun.ok ? { at: c.lastRun.at, message: c.lastRun.error ?? "failed" } : undefined);
    const lastRunOk = lastRunAt === undefined ? undefined : lastError === undefined || (lastSuccessAt !== undefined && lastSuccessAt >= lastError.at);
    if (lastRunOk === false) degraded = true;
    markets[name] = {
      ...(lastRunAt !== undefined ? { lastRunAt: iso(lastRunAt) } : {}),
      ...(lastSuccessAt !== undefined ? { lastSuccessAt: iso(lastSuccessAt) } : {}),
      ...(lastRunOk !== undefined ? { lastRunOk } : {}),
      running: s?.running ?? false,
      followUpQueued: s?.followUpQueued ?? false,
      ...(s?.level !== undefined ? { stressLevel: s.level } : {}),
      pending: pending.filter((r) => r.market === name).length,
      runs: s?.runs ?? 0,
      failures: s?.failures ?? 0,
      coalesced: s?.coalesced ?? 0,
      ...(lastError ? { lastError: { at: iso(lastError.at)!, message: lastError.message } } : {}),
    };
    if (lastError) errors.push({ market: name, at: iso(lastError.at)!, message: lastError.message });
  }
  errors.sort((a, b) => b.at.localeCompare(a.at));
  const alerts = (parts.alerts?.() ?? []).map((a) => ({ market: a.market, at: iso(a.at)!, message: a.message })).sort((a, b) => b.at.localeCompare(a.at));
  if (alerts.length > 0) degraded = true;
  const killSwitch = parts.killSwitch?.status() ?? null;
  return {
    status: parts.stopped ? "stopped" : degraded ? "degraded" : "ok",
    live: !parts.stopped,
    now: iso(now)!,
    startedAt: iso(parts.startedAt)!,
    uptimeSeconds: Math.max(0, Math.round((now - parts.startedAt) / 1000)),
    submissionsAllowed: killSwitch ? !killSwitch.engaged : true,
    killSwitch,
    pendingUpdates: pending.length,
    markets,
    lastErrors: errors,
    alerts,
  };
}

/** Registers a collector that refreshes state-derived gauges and the kill switch at every scrape. */
export function collectKeeperMetrics(metrics: KeeperMetrics, parts: { store?: StateStore; killSwitch?: KillSwitch }): void {
  metrics.registry.collect(() => {
    if (parts.store) setStateMetrics(metrics, parts.store.snapshot());
    if (parts.killSwitch) metrics.killSwitch.set({}, parts.killSwitch.engaged() ? 1 : 0);
  });
}

export interface HealthServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0: any free port. */
  port: number;
  report: () => HealthReport;
  metrics: KeeperMetrics;
  /** Known secrets to mask in anything served (in addition to the redactor's patterns). */
  secrets?: readonly string[];
}

export interface HealthServer {
  host: string;
  port: number;
  /** http://host:port */
  url: string;
  close(): Promise<void>;
}

/** Starts the health server; resolves once it listens. */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const redactor = createRedactor(options.secrets ?? []);
  const server = http.createServer((req, res) => {
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store", "Content-Length": Buffer.byteLength(body) });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    try {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.setHeader("Allow", "GET, HEAD");
        return send(405, "text/plain; charset=utf-8", "method not allowed\n");
      }
      const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
      if (pathname === "/healthz") {
        const report = redactor.value(options.report()) as HealthReport;
        return send(report.live ? 200 : 503, "application/json; charset=utf-8", `${JSON.stringify(report, null, 2)}\n`);
      }
      if (pathname === "/metrics") {
        return send(200, "text/plain; version=0.0.4; charset=utf-8", redactor.string(options.metrics.registry.render()));
      }
      return send(404, "text/plain; charset=utf-8", "not found: try /healthz or /metrics\n");
    } catch (error) {
      return send(500, "text/plain; charset=utf-8", `${redactor.string(error instanceof Error ? error.message : String(error))}\n`);
    }
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    host,
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
