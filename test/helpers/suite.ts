import { RunningApp, startApp, TestDatabase } from './test-app';

/**
 * Starts the app on a fresh database of the given kind before the enclosing describe's tests (beforeAll)
 * and closes and drops both after them (afterAll). Returns the running app, available once beforeAll ran.
 */
export function withApp(database: TestDatabase, settings: Record<string, string> = {}): () => RunningApp {
  let databaseUrl: string | undefined;
  let running: RunningApp | undefined;

  beforeAll(async () => {
    databaseUrl = await database.create();
    running = await startApp(databaseUrl, settings);
  });

  afterAll(async () => {
    await running?.close();
    if (databaseUrl) await database.drop(databaseUrl);
  });

  return () => {
    if (!running) throw new Error('the app is not running: use it inside a test or a later beforeAll');
    return running;
  };
}

/** SHA1, 6 digits, 30 s steps, a window of ±1 step, and no rate limit on the public routes. */
export const TOTP_SETTINGS = {
  TOTP_ALGORITHM: 'SHA1',
  TOTP_DIGITS: '6',
  TOTP_PERIOD: '30',
  TOTP_WINDOW: '1',
  PUBLIC_RATE_LIMIT: '0',
};
