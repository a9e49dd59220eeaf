import { Global, Injectable, Module } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';

export type VerifyOutcome = 'success' | 'fail' | 'replay' | 'locked';

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

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.latency.observe({ method, route }, seconds);
  }

  countVerification(result: VerifyOutcome, method: 'totp' | 'backup' | 'none'): void {
    this.verifications.inc({ result, method });
  }
}

@Global()
@Module({ providers: [Metrics], exports: [Metrics] })
export class MetricsCoreModule {}
