import { Logger } from '@nestjs/common';

/**
 * Background work in rounds, one loop per instance: each round runs after the delay the previous one
 * answered. Never on the request path; its timer does not keep the process alive; `stop` lets a round
 * in flight finish, so its owner stops it before the database closes (beforeApplicationShutdown).
 */
export class BackgroundLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly logger: Logger,
    private readonly messages: { failed: string; recovered: string },
  ) {}

  /** Runs `round` after `delayMs`, then again after the delay (ms) each round answers, until `stop`. */
  start(round: () => Promise<number>, delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = round().then((nextDelayMs) => this.start(round, nextDelayMs));
    }, delayMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * `work`, or `onFailure` when it throws (the database is away, or a race it could not judge): the next
   * round tries again. A failure is logged once, by the error's name only, and so is the recovery.
   */
  async guarded<T>(work: () => Promise<T>, onFailure: T): Promise<T> {
    let result: T;
    try {
      result = await work();
    } catch (error) {
      if (!this.failing) {
        this.failing = true;
        this.logger.warn({ err: { name: (error as Error)?.name } }, this.messages.failed);
      }
      return onFailure;
    }
    if (this.failing) this.logger.log(this.messages.recovered);
    this.failing = false;
    return result;
  }
}
