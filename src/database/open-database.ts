import { DataSource, DataSourceOptions } from 'typeorm';

/**
 * The database the options name, for logs and errors: `sqlite:<file>`, or the MySQL URL with its
 * password masked and without its query string.
 */
export function describeDatabase(options: DataSourceOptions): string {
  if (options.type === 'better-sqlite3') return `sqlite:${options.database}`;
  if (options.type !== 'mysql' || options.url === undefined) return options.type;
  return withoutPassword(options.url);
}

/**
 * A `mysql://` URL with everything after the user name and before the last `@` masked, and no query
 * string. Split by hand as TypeORM's own parser splits it (credentials end at the last `@`), not with
 * `new URL`, which refuses or reads otherwise URLs the driver takes (a password with `#`, `/` or `?`)
 * or fails on (a port out of range): the start would stop on its TypeError, whose `input` (logged by
 * start-failure.ts) is the whole URL, password included.
 */
function withoutPassword(url: string): string {
  const authorityStart = url.indexOf('//') + 2;
  const at = url.lastIndexOf('@');
  if (at < authorityStart) return url.split('?')[0];
  const credentials = url.slice(authorityStart, at);
  const colon = credentials.indexOf(':');
  const user = colon < 0 ? credentials : credentials.slice(0, colon);
  const masked = colon < 0 || colon === credentials.length - 1 ? user : `${user}:***`;
  return `${url.slice(0, authorityStart)}${masked}@${url.slice(at + 1).split('?')[0]}`;
}

/**
 * A database that could not be opened at start (unreachable host, unknown name, refused password, a
 * file that cannot be created): the setting to fix and the driver's reason, in one line, no stack.
 */
export class DatabaseStartError extends Error {
  constructor(options: DataSourceOptions, cause: unknown) {
    const failed = options.type === 'better-sqlite3' ? 'cannot open the file' : 'cannot connect';
    super(`DATABASE_URL (${describeDatabase(options)}): ${failed}: ${driverReason(cause)}`, { cause });
    this.name = 'DatabaseStartError';
  }
}

/** The driver's words: its message, with its error code when the message leaves it out. */
function driverReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  // Node's connect to a name with several addresses (localhost: ::1 and 127.0.0.1) fails with an
  // AggregateError whose own message is empty; each attempt's message says what happened.
  const message =
    error.message || (error instanceof AggregateError ? error.errors.map((e: Error) => e.message).join('; ') : '');
  if (typeof code !== 'string' || message.includes(code)) return message || error.name;
  return message ? `${message} (${code})` : code;
}

/**
 * Connects once, without running migrations. A start that cannot connect stops at once with a
 * DatabaseStartError instead of retrying: a wrong URL or password does not fix itself, and a
 * supervisor restarts the process when the database was only late.
 */
export async function connectDatabase(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = new DataSource({ ...options, migrationsRun: false });
  try {
    return await dataSource.initialize();
  } catch (error) {
    throw new DatabaseStartError(options, error);
  }
}

/** Connects once and runs the pending migrations; returns the DataSource and the migrations it ran. */
export async function openDatabase(options: DataSourceOptions): Promise<{ dataSource: DataSource; ran: string[] }> {
  const dataSource = await connectDatabase(options);
  try {
    const ran = await dataSource.runMigrations();
    return { dataSource, ran: ran.map((migration) => migration.name) };
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}

/** What a start or `npm run migration:run` says about the migrations it ran. */
export function describeMigrationsRun(ran: string[]): string {
  return ran.length === 0 ? 'Migrations: nothing to run' : `Migrations: ran ${ran.join(', ')}`;
}
