import { ConfigType } from '@nestjs/config';
import { createApp } from './app.setup';
import { httpConfig } from './config/app.config';
import { InvalidEnvironmentError } from './config/environment';

async function bootstrap(): Promise<void> {
  const app = await createApp();
  const http = app.get<ConfigType<typeof httpConfig>>(httpConfig.KEY);
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
