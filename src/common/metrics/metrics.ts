import { Global, Injectable, Module } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type VerifyOutcome = 'success' | 'fail' | 'replay' | 'locked';

/** Stored rows sealed (or hashed) under one encryption key: what tells an operator when an old key can go. */
export interface KeyUsage {
  /** What is stored: totp_secret, backup_code (unused ones), webhook_secret. */
  secret: string;
  keyId: string;
  /** The key's place in TWOFA_ENCRYPTION_KEYS (1 encrypts), or "unlisted". */
  key: string;
  rows: number;
}

/** Counting the rows is a scan of each table: done at most once a minute per instance. */
const KEY_USAGE_MAX_AGE_MS = 60_000;

/**
 * Prometheus metrics of this process (each instance is scraped on its own). A registry per app, not
 * prom-client's global one, so several apps in one process (the e2e tests) do not collide.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  private readonly requests = new Counter({
    name: 'twofa_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  private readonly latency = new Histogram({
    name: 'twofa_http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  private readonly verifications = new Counter({
    name: 'twofa_verify_total',
    help: 'Per-user code verifications (login and reset) by result and method',
    labelNames: ['result', 'method'] as const,
    registers: [this.registry],
  });

  private readonly reruns = new Counter({
    name: 'twofa_transaction_reruns_total',
    help: 'Units of work rerun after a lost race (deadlock or Galera certification failure), and given up (503)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly expiredSessionsRemoved = new Counter({
    name: 'twofa_sessions_expired_removed_total',
    help: "Expired TwoFactorSession rows this instance's background sweep removed",
    registers: [this.registry],
  });

  private readonly keyUsageSources: (() => Promise<KeyUsage[]>)[] = [];
  private keyUsage: { countedAt: number; rows: KeyUsage[] } | undefined;

  constructor() {
    const countKeyUsage = () => this.countKeyUsage();
    new Gauge({
      name: 'twofa_encrypted_rows',
      help: 'Stored secrets per encryption key id (counted at most once a minute): an old key can go when it has none',
      labelNames: ['secret', 'key_id', 'key'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const { secret, keyId, key, rows } of await countKeyUsage()) {
          this.set({ secret, key_id: keyId, key }, rows);
        }
      },
    });
  }

  /** A module that stores sealed secrets says how to count them per key. */
  addKeyUsageSource(source: () => Promise<KeyUsage[]>): void {
    this.keyUsageSources.push(source);
  }

  private async countKeyUsage(): Promise<KeyUsage[]> {
    const now = Date.now();
    if (this.keyUsage === undefined || now - this.keyUsage.countedAt >= KEY_USAGE_MAX_AGE_MS) {
      try {
        const rows = (await Promise.all(this.keyUsageSources.map((source) => source()))).flat();
        this.keyUsage = { countedAt: now, rows };
      } catch {
        // The database is away: keep the last count rather than fail the scrape.
      }
    }
    return this.keyUsage?.rows ?? [];
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.latency.observe({ method, route }, seconds);
  }

  countVerification(result: VerifyOutcome, method: 'totp' | 'backup' | 'none'): void {
    this.verifications.inc({ result, method });
  }

  countRerun(result: 'rerun' | 'gave_up'): void {
    this.reruns.inc({ result });
  }

  countExpiredSessionsRemoved(rows: number): void {
    this.expiredSessionsRemoved.inc(rows);
  }
}

@Global()
@Module({ providers: [Metrics], exports: [Metrics] })
export class MetricsCoreModule {}
