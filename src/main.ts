import { ConfigType } from '@nestjs/config';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from './app.setup';
import type { AddressInfo } from 'node:net';
import { DataSource, DataSourceOptions } from 'typeorm';
import { devKeysFileInUse, httpConfig } from './config/app.config';
import { describeDatabase } from './database/open-database';
import { reportStartFailure } from './start-failure';

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
  logWhereItRuns(app.getHttpServer().address() as AddressInfo, app.get(DataSource).options);
}

/** The one line a person starting the service looks for: where it listens, on what data, with which keys. */
function logWhereItRuns(address: AddressInfo, database: DataSourceOptions): void {
  // The address as bound (0.0.0.0 stays 0.0.0.0: every interface), not Nest's getUrl(), which says 127.0.0.1.
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  const devKeys = devKeysFileInUse();
  const keys = devKeys ? `development keys in ${devKeys} (never for production)` : 'keys from the environment';
  new Logger('Start').log(
    { url, database: describeDatabase(database), devKeys: devKeys ?? null },
    `Listening on ${url} (Swagger UI ${url}/docs); database ${describeDatabase(database)}; ${keys}`,
  );
}

bootstrap().catch((error: unknown) => {
  reportStartFailure('twofa', error);
  process.exit(1);
});
