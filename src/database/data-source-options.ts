import * as mysql2 from 'mysql2';
import { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/app.config';
import { DatabaseLogger } from './database-logger';
import { AuditEvent } from '../two-factor/entities/audit-event.entity';
import { BackupCode } from '../two-factor/entities/backup-code.entity';
import { TwoFactorConfig } from '../two-factor/entities/two-factor-config.entity';
import { InitialSchema1795531219735 } from './migrations/1795531219735-InitialSchema';
import { TwoFactorSession1795536000000 } from './migrations/1795536000000-TwoFactorSession';
import { CaseSensitiveText1795540000000 } from './migrations/1795540000000-CaseSensitiveText';
import { TwoFactorSession } from '../two-factor/entities/two-factor-session.entity';
import { RateLimitBucket } from '../common/rate-limit/rate-limit-bucket.entity';
import { RateLimitBucket1795550000000 } from './migrations/1795550000000-RateLimitBucket';
import { ResealSecrets1796000000000 } from './migrations/1796000000000-ResealSecrets';
import { AuditEventKeyId1796000000001 } from './migrations/1796000000001-AuditEventKeyId';
import { RateLimitBucketCharset1796100000000 } from './migrations/1796100000000-RateLimitBucketCharset';
import { WebhookDelivery } from '../webhooks/entities/webhook-delivery.entity';
import { WebhookSubscription } from '../webhooks/entities/webhook-subscription.entity';
import { Webhooks1796300000000 } from './migrations/1796300000000-Webhooks';
import { SessionOrigin1796500000000 } from './migrations/1796500000000-SessionOrigin';
import { checkpointInBackground, REQUEST_PATH_CHECKPOINT_PAGES } from './wal-checkpointer';
import { withCausalReads } from './galera-node';

export const ENTITIES = [
  TwoFactorConfig,
  BackupCode,
  AuditEvent,
  TwoFactorSession,
  RateLimitBucket,
  WebhookSubscription,
  WebhookDelivery,
];
export const MIGRATIONS = [
  InitialSchema1795531219735,
  TwoFactorSession1795536000000,
  CaseSensitiveText1795540000000,
  RateLimitBucket1795550000000,
  ResealSecrets1796000000000,
  AuditEventKeyId1796000000001,
  RateLimitBucketCharset1796100000000,
  Webhooks1796300000000,
  SessionOrigin1796500000000,
];

/**
 * The one builder of TypeORM options, used by the app and by ormconfig.ts (the CLI). The schema only
 * ever changes through migrations, which run at start on SQLite and MySQL/MariaDB alike.
 */
export function buildDataSourceOptions(config: DatabaseConfig): DataSourceOptions {
  const logger = new DatabaseLogger();
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
    logger,
  } as const;
  if (config.kind === 'sqlite') {
    return {
      ...common,
      type: 'better-sqlite3',
      database: config.file,
      timeout: config.timeoutMs,
      // TypeORM shares one better-sqlite3 connection between requests. Transactions stay apart only
      // because every await inside a transaction callback settles without waiting on I/O (better-sqlite3
      // is synchronous): never await real I/O (network, timers, QR rendering) inside a transaction, and
      // never resume two requests in one macrotask (QrCodeRenderer hands each image back in its own).
      enableWAL: true,
      // WAL + NORMAL is durable across process crashes and far faster than FULL for the per-login writes.
      prepareDatabase: (db: {
        pragma(statement: string): unknown;
        prepare(sql: string): unknown;
        close(): unknown;
      }) => {
        db.pragma('synchronous = NORMAL');
        // Every transaction here writes. TypeORM begins them DEFERRED: with a second process on the file
        // (two instances), a transaction that read first and writes after the other process committed
        // fails at once (SQLITE_BUSY_SNAPSHOT, no busy wait): 500s/503s under the soak. IMMEDIATE takes
        // the write lock at BEGIN, waiting up to the busy timeout; in one process it changes nothing.
        const prepare = db.prepare.bind(db);
        db.prepare = (sql: string) => prepare(sql === 'BEGIN TRANSACTION' ? 'BEGIN IMMEDIATE TRANSACTION' : sql);
        // The default page cache (2 MiB) misses on every login once the configs, audit and session
        // indexes outgrow it; memory-mapped reads skip a copy per page.
        db.pragma('cache_size = -32768');
        db.pragma('mmap_size = 268435456');
        db.pragma('temp_store = MEMORY');
        if (config.file !== ':memory:') {
          db.pragma(`wal_autocheckpoint = ${REQUEST_PATH_CHECKPOINT_PAGES}`);
          checkpointInBackground(db, config.file, config.timeoutMs);
        }
      },
    };
  }
  return {
    ...common,
    type: 'mysql',
    // On a Galera cluster every connection reads causally (galera-node.ts); elsewhere nothing changes.
    driver: withCausalReads(mysql2, (error) =>
      logger.log(
        'warn',
        `wsrep_sync_wait not set on a new connection: ${(error as { code?: string }).code ?? error.name}`,
      ),
    ),
    url: config.url,
    charset: 'utf8mb4',
    timezone: 'Z',
    connectTimeout: config.timeoutMs,
    // A statement that gets no answer in time fails (mysql2 drops its connection, so an open
    // transaction is rolled back by the server) instead of holding the request forever.
    enableQueryTimeout: true,
    maxQueryExecutionTime: config.timeoutMs,
    poolSize: config.poolSize,
    extra: {
      // Bounded queue: under overload or an outage, callers get a fast error (503), not an endless wait.
      queueLimit: config.poolSize * 50,
      enableKeepAlive: true,
      // mysql2 otherwise captures a stack trace for every query, to decorate errors nobody sees: our
      // errors are mapped to 503/500 and logged by name.
      trace: false,
    },
  };
}
