import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { join } from 'node:path';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { Piscina } from 'piscina';
import type { QRCodeToDataURLOptions } from 'qrcode';
import { qrConfig } from '../config/app.config';

/**
 * Grayscale with the PNG "Up" filter: about twice as fast to encode and 40 % smaller than RGBA.
 * (The bench's QR loop renders with these too.)
 */
export const QR_CODE_OPTIONS = {
  errorCorrectionLevel: 'M',
  margin: 2,
  scale: 4,
  rendererOpts: { colorType: 0, filterType: 2 },
} as QRCodeToDataURLOptions;

/** The worker's task, beside this file in src/ (ts-node, jest) and in dist/ (the build copies it). */
export const QR_WORKER_FILE = join(__dirname, 'qr-code.worker.js');

/**
 * QR images are made here, locally: the otpauth URI (it holds the secret) never leaves the service.
 * A PNG costs milliseconds of CPU (about twice as many for the longest URI), so it is rendered on a
 * pool of QR_RENDER_THREADS worker threads, not on the event loop where it would hold up every login.
 * One pool per application, its threads started with it and stopped after the HTTP server has closed.
 */
@Injectable()
export class QrCodeRenderer implements OnApplicationShutdown {
  private readonly pool: Piscina<string, string>;

  constructor(@Inject(qrConfig.KEY) config: ConfigType<typeof qrConfig>) {
    this.pool = new Piscina({
      filename: QR_WORKER_FILE,
      minThreads: config.renderThreads,
      maxThreads: config.renderThreads,
      // Threads stay up: starting one (loading qrcode) costs more than many images.
      idleTimeout: Infinity,
      // First come, first served: by default piscina puts a task it could not hand out at the back of the
      // queue, and under a steady load some enrolments waited seconds while later ones went first.
      stricterFIFO: true,
      workerData: { options: QR_CODE_OPTIONS },
    });
  }

  /**
   * Rejects as qrcode does (e.g. a text too long for any QR code), with its message.
   *
   * piscina settles every task that has finished when it hears from a thread, all in one macrotask.
   * The caller resumes in a macrotask of its own instead: two enrolments resumed together would open
   * their transactions on SQLite's one shared connection at once (database/data-source-options.ts).
   */
  async toPngDataUrl(text: string): Promise<string> {
    try {
      return await this.pool.run(text);
    } finally {
      await nextMacrotask();
    }
  }

  /** Nest calls this after the HTTP server has closed, so in-flight enrolments got their images. */
  async onApplicationShutdown(): Promise<void> {
    await this.pool.close();
  }
}
