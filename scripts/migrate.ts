// npm run migration:run / migration:revert: the CLI's DataSource (ormconfig.ts, built as the app builds
// its own), saying what it did; the TypeORM CLI printed nothing on success.
import { MigrationExecutor } from 'typeorm';
import ormDataSource from '../ormconfig';
import { connectDatabase, DatabaseStartError, describeDatabase } from '../src/database/open-database';

async function executedMigrations(executor: MigrationExecutor): Promise<string[]> {
  return (await executor.getExecutedMigrations()).map((migration) => migration.name);
}

async function main(command: string | undefined): Promise<void> {
  if (command !== 'run' && command !== 'revert') throw new Error('usage: migrate.ts run|revert');
  const options = ormDataSource.options;
  const dataSource = await connectDatabase(options);
  try {
    const executor = new MigrationExecutor(dataSource);
    const before = await executedMigrations(executor);
    if (command === 'run') {
      process.stdout.write(`${describeDatabase(options)}: running pending migrations\n`);
      const ran = await dataSource.runMigrations();
      for (const migration of ran) process.stdout.write(`ran ${migration.name}\n`);
      process.stdout.write(
        ran.length === 0
          ? `nothing to run: all ${before.length} migrations had run\n`
          : `done: ${ran.length} ran, ${before.length + ran.length} have run in all\n`,
      );
    } else {
      await dataSource.undoLastMigration();
      const after = new Set(await executedMigrations(executor));
      const reverted = before.filter((name) => !after.has(name));
      process.stdout.write(
        reverted.length === 0
          ? `${describeDatabase(options)}: nothing to revert\n`
          : `${describeDatabase(options)}: reverted ${reverted.join(', ')}\n`,
      );
    }
  } finally {
    await dataSource.destroy();
  }
}

main(process.argv[2]).catch((error: unknown) => {
  // A database that cannot be opened is the operator's to fix: its message says what; anything else is a bug.
  const detail =
    error instanceof DatabaseStartError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`migration:${process.argv[2] ?? ''} failed: ${detail}\n`);
  process.exit(1);
});
