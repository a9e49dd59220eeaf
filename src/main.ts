import { ConfigType } from '@nestjs/config';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from './app.setup';
import { httpConfig } from './config/app.config';
import { InvalidEnvironmentError } from './config/environment';

const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * On SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish (Nest closes the HTTP
 * server before it destroys the database pool), then exit 0. Past the timeout, exit 1 anyway.
 */
function closeOnSignals(app: NestFastifyApplication, timeoutMs: number): void {
  const logger = new Logger('Shutdown');
  let closing = false;
  for (const signal of SHUTDOWN_SIGNALS) {
    // Ctrl-C under start:cluster reaches a worker twice (SIGINT from the terminal, SIGTERM from the
    // primary): the first one starts the shutdown, later ones change nothing.
    process.on(signal, () => {
      if (closing) return;
      closing = true;
      logger.log(`${signal}: finishing in-flight requests`);
      const deadline = setTimeout(() => {
        logger.error(`In-flight requests did not finish within ${timeoutMs} ms; exiting`);
        process.exit(1);
      }, timeoutMs);
      deadline.unref();
      app.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: { name: (error as Error)?.name } }, 'Shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

async function bootstrap(): Promise<void> {
  const app = await createApp();
  const http = app.get<ConfigType<typeof httpConfig>>(httpConfig.KEY);
  closeOnSignals(app, http.shutdownTimeoutMs);
  await app.listen(http.port, http.host);
}

bootstrap().catch((error: unknown) => {
  // A bad setting stops the start with a message naming it, not a stack trace.
  if (error instanceof InvalidEnvironmentError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `twofa failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
});
