/**
 * A preload (`node -r ts-node/register/transpile-only -r ./tools/bench/sql-trace.ts dist/main.js`) that counts
 * the SQL statements the service sends, without touching src/: it wraps better-sqlite3's statement
 * methods (and counts prepare() calls) and mysql2's Connection query/execute. Counts are written as
 * JSON to BENCH_SQL_TRACE every 250 ms; tools/bench/run.ts (--trace-sql) diffs them around each scenario.
 */
import { writeFileSync } from 'node:fs';

export interface SqlTrace {
  statements: Record<string, number>;
  prepares: number;
  /** prepare() calls by statement kind: a statement the cache should hold but prepared again and again. */
  preparedKinds?: Record<string, number>;
  /** Distinct SQL texts seen (bounded at 10,000): a growing number means SQL built with inlined values. */
  distinctSql?: number;
  /** The first two distinct texts of each kind, to see what varies. */
  samples?: Record<string, string[]>;
}

const trace: Required<SqlTrace> = { statements: {}, prepares: 0, preparedKinds: {}, distinctSql: 0, samples: {} };
const seenSql = new Set<string>();
let dirty = false;

/** "UPDATE two_factor_config", "INSERT audit_event", "SELECT two_factor_config", "BEGIN", "COMMIT", ... */
export function statementKind(sql: string): string {
  const text = sql.trim().replace(/\s+/g, ' ');
  const verb = (/^\w+/.exec(text)?.[0] ?? '?').toUpperCase();
  const table = (pattern: RegExp): string => pattern.exec(text)?.[1]?.replace(/[`"]/g, '') ?? '?';
  switch (verb) {
    case 'SELECT':
      return `SELECT ${table(/\bFROM\s+([`"]?\w+[`"]?)/i)}`;
    case 'INSERT':
      return `INSERT ${table(/^INSERT\s+INTO\s+([`"]?\w+[`"]?)/i)}`;
    case 'UPDATE':
      return `UPDATE ${table(/^UPDATE\s+([`"]?\w+[`"]?)/i)}`;
    case 'DELETE':
      return `DELETE ${table(/^DELETE\s+FROM\s+([`"]?\w+[`"]?)/i)}`;
    case 'START':
    case 'BEGIN':
      return 'BEGIN';
    default:
      return verb;
  }
}

function count(sql: unknown): void {
  const text = typeof sql === 'string' ? sql : ((sql as { sql?: unknown } | null)?.sql ?? '');
  if (typeof text !== 'string' || text === '') return;
  const kind = statementKind(text);
  trace.statements[kind] = (trace.statements[kind] ?? 0) + 1;
  if (seenSql.size < 10_000 && !seenSql.has(text)) {
    seenSql.add(text);
    trace.distinctSql = seenSql.size;
    const samples = (trace.samples[kind] ??= []);
    if (samples.length < 2) samples.push(text);
  }
  dirty = true;
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

function wrap(target: object, method: string, before: (self: unknown, args: unknown[]) => void): void {
  const original = (target as Record<string, AnyFunction>)[method];
  if (typeof original !== 'function') return;
  (target as Record<string, AnyFunction>)[method] = function (this: unknown, ...args: unknown[]) {
    before(this, args);
    return original.apply(this, args);
  };
}

function install(): void {
  const file = process.env.BENCH_SQL_TRACE;
  if (!file) return;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Database = require('better-sqlite3') as { prototype: object };
    const statementProto = Object.getPrototypeOf(
      new (Database as unknown as new (path: string) => { prepare(sql: string): object })(':memory:').prepare(
        'SELECT 1',
      ),
    ) as object;
    wrap(Database.prototype, 'prepare', (_self, args) => {
      trace.prepares++;
      const kind = typeof args[0] === 'string' ? statementKind(args[0]) : '?';
      trace.preparedKinds[kind] = (trace.preparedKinds[kind] ?? 0) + 1;
      dirty = true;
    });
    for (const method of ['run', 'get', 'all', 'iterate']) {
      wrap(statementProto, method, (self) => count((self as { source: string }).source));
    }
  } catch {
    // no better-sqlite3
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mysql = require('mysql2') as { Connection: { prototype: object } };
    const base = Object.getPrototypeOf(mysql.Connection.prototype) as object;
    for (const method of ['query', 'execute']) wrap(base, method, (_self, args) => count(args[0]));
  } catch {
    // no mysql2
  }
  const timer = setInterval(() => {
    if (!dirty) return;
    dirty = false;
    writeFileSync(file, JSON.stringify(trace));
  }, 250);
  timer.unref();
}

install();
