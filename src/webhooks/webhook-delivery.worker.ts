import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { BackgroundLoop } from '../common/background-loop';
import { Clock } from '../common/clock';
import { webhookConfig } from '../config/app.config';
import { SecretCipher, SecretDecryptionError } from '../two-factor/crypto/secret-cipher';
import { WebhookMetrics } from './webhook-metrics';
import { openSigningSecret } from './webhook-secret';
import { AttemptResult, WebhookSender } from './webhook-sender';
import { AttemptOutcome, ClaimedDelivery, WebhookRepository } from './webhook.repository';

/** Deliveries claimed (and sent at once) per round. */
const BATCH_SIZE = 20;

/**
 * How long a claim lasts. An attempt ends within WEBHOOK_TIMEOUT_MS (at most 30 s); an instance that
 * died mid-attempt leaves the delivery to another one after this.
 */
const CLAIM_MS = 60_000;

/**
 * The wait after the `failedAttempts`-th failure: WEBHOOK_RETRY_BASE_MS × 4^(n−1), at most
 * WEBHOOK_RETRY_MAX_MS, of which the second half is random ("equal jitter"), so receivers that come back
 * are not hit by every retry at once. Defaults: 5 s, 20 s, 80 s, 5 min, 21 min, 85 min, 5.7 h, 22.8 h, 24 h.
 */
export function retryDelayMs(
  failedAttempts: number,
  config: { retryBaseMs: number; retryMaxMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(config.retryMaxMs, config.retryBaseMs * 4 ** (failedAttempts - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Drains the outbox in the background, one worker per instance: every poll it claims due deliveries
 * with a conditional UPDATE (so instances never take the same row), sends them, and records each
 * outcome. Never on the request path; its timers do not keep the process alive; it stops, letting the
 * attempts in flight finish, before the database closes.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryWorker.name);
  private readonly loop = new BackgroundLoop(this.logger, {
    failed: 'Webhook delivery round failed; retrying',
    recovered: 'Webhook delivery rounds work again',
  });

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sender: WebhookSender,
    private readonly cipher: SecretCipher,
    private readonly clock: Clock,
    private readonly metrics: WebhookMetrics,
    @Inject(webhookConfig.KEY) private readonly config: ConfigType<typeof webhookConfig>,
  ) {}

  onApplicationBootstrap(): void {
    // At once again while a round finds a full batch due, else after the poll interval.
    this.loop.start(async () => ((await this.runRound()) ? 0 : this.config.pollIntervalMs), 0);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.loop.stop();
  }

  /** One round; true when more deliveries may be due right now. */
  private runRound(): Promise<boolean> {
    return this.loop.guarded(async () => {
      const repository = new WebhookRepository(this.dataSource.manager);
      const now = this.clock.now();
      const due = await repository.dueDeliveryIds(now, BATCH_SIZE);
      if (due.length === 0) return false;
      const token = randomUUID();
      await repository.claim(due, token, now, now + CLAIM_MS);
      const claimed = await repository.claimed(due, token);
      await Promise.all(claimed.map((delivery) => this.deliver(repository, delivery, token)));
      return due.length === BATCH_SIZE;
    }, false);
  }

  private async deliver(repository: WebhookRepository, delivery: ClaimedDelivery, token: string): Promise<void> {
    const result = await this.attempt(delivery);
    const outcome = this.outcomeOf(delivery, result);
    const recorded = await repository.finishAttempt(delivery.id, token, this.clock.now(), outcome);
    if (!recorded) {
      this.logger.warn(`Webhook delivery ${delivery.id}: the claim ended before the attempt did`);
      return;
    }
    this.metrics.countAttempt(outcome.status === 'pending' ? 'retry' : outcome.status);
  }

  private async attempt(delivery: ClaimedDelivery): Promise<AttemptResult> {
    let secret: string;
    try {
      secret = openSigningSecret(this.cipher, { ...delivery, id: delivery.subscriptionId });
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      this.logger.error(`Webhook subscription ${delivery.subscriptionId}: signing secret ${error.reason}`);
      return { delivered: false, statusCode: null, error: `the signing secret cannot be decrypted (${error.reason})` };
    }
    return this.sender.send({ url: delivery.url, secret, eventId: delivery.eventId, payload: delivery.payload });
  }

  private outcomeOf(delivery: ClaimedDelivery, result: AttemptResult): AttemptOutcome {
    if (result.delivered) return { status: 'delivered', statusCode: result.statusCode };
    const last = delivery.attempts >= this.config.maxAttempts;
    return {
      status: last ? 'failed' : 'pending',
      nextAttemptAt: last ? null : this.clock.now() + retryDelayMs(delivery.attempts, this.config),
      statusCode: result.statusCode,
      error: result.error,
    };
  }
}
