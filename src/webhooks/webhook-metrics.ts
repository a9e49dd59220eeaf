import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { Metrics } from '../common/metrics/metrics';
import { SecretCipher } from '../two-factor/crypto/secret-cipher';
import { WebhookRepository } from './webhook.repository';

/**
 * Webhook metrics on the app's registry: the pending deliveries of the outbox (shared by every
 * instance, counted at scrape time) and, per instance, the deliveries it finished and its attempts;
 * and the signing secrets per encryption key (twofa_encrypted_rows).
 */
@Injectable()
export class WebhookMetrics {
  private readonly logger = new Logger(WebhookMetrics.name);
  private readonly finished: Counter<'result'>;
  private readonly attempts: Counter<'result'>;

  constructor(metrics: Metrics, @InjectDataSource() dataSource: DataSource, cipher: SecretCipher) {
    metrics.addKeyUsageSource(async () =>
      (await new WebhookRepository(dataSource.manager).secretsPerKeyId()).map((usage) => ({
        ...usage,
        secret: 'webhook_secret',
        key: cipher.keyPlaceOf(usage.keyId),
      })),
    );
    const logger = this.logger;
    new Gauge({
      name: 'twofa_webhook_deliveries_pending',
      help: 'Webhook deliveries not yet delivered or failed, in the outbox of every instance',
      registers: [metrics.registry],
      async collect() {
        try {
          this.set(await new WebhookRepository(dataSource.manager).countPending());
        } catch (error) {
          // A scrape while the database is away keeps the last value rather than failing /metrics.
          logger.warn({ err: { name: (error as Error)?.name } }, 'Could not count pending webhook deliveries');
        }
      },
    });
    this.finished = new Counter({
      name: 'twofa_webhook_deliveries_total',
      help: 'Webhook deliveries this instance finished: delivered (a 2xx) or failed (out of attempts)',
      labelNames: ['result'] as const,
      registers: [metrics.registry],
    });
    this.attempts = new Counter({
      name: 'twofa_webhook_attempts_total',
      help: 'Webhook delivery attempts this instance made, by result',
      labelNames: ['result'] as const,
      registers: [metrics.registry],
    });
  }

  countAttempt(result: 'delivered' | 'retry' | 'failed'): void {
    this.attempts.inc({ result });
    if (result !== 'retry') this.finished.inc({ result });
  }
}
