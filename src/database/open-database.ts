import { DataSource, DataSourceOptions } from 'typeorm';

/**
 * The database the options name, for logs and errors: `sqlite:<file>`, or the MySQL URL with its
 * password masked and without its query string.
 */
export function describeDatabase(options: DataSourceOptions): string {
  if (options.type === 'better-sqlite3') return `sqlite:${options.database}`;
  if (options.type !== 'mysql' || options.url === undefined) return options.type;
  const url = new URL(options.url);
  if (url.password) url.password = '***';
  url.search = '';
  return url.toString();
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
