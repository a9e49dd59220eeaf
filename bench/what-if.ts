/**
 * A preload that tries a proposed hot-path change on the built service without editing src/, so its
 * gain can be measured before anyone writes it properly (`npm run bench -- --what-if NAME[,NAME]`):
 *
 * - `sqlite-bind-numbers`: TypeORM's SQLite driver inlines every number into the SQL text, so each
 *   statement carrying a timestamp is new SQL and better-sqlite3 prepares it again. Bind them instead.
 * - `mysql-no-trace`: mysql2 captures a stack trace for every query unless the pool has `trace: false`.
 * - `qr-gray-up`: QR PNGs as 8-bit grayscale with the PNG "Up" filter instead of RGBA with adaptive filtering.
 *
 * These are measurement aids, not fixes: the real change belongs in src/ (see bench/README.md).
 */

type Patch = () => void;

const PATCHES: Record<string, Patch> = {
  'sqlite-bind-numbers': () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { AbstractSqliteDriver } = require('typeorm/driver/sqlite-abstract/AbstractSqliteDriver') as {
      AbstractSqliteDriver: { prototype: Record<string, unknown> };
    };
    const proto = AbstractSqliteDriver.prototype as {
      escapeQueryWithParameters: (sql: string, parameters: Record<string, unknown>) => [string, unknown[]];
    };
    const original = proto.escapeQueryWithParameters;
    proto.escapeQueryWithParameters = function (sql, parameters) {
      if (!parameters) return original.call(this, sql, parameters);
      // Wrap each number so the original takes its "bind as a parameter" branch, then unwrap.
      const boxed: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(parameters)) {
        boxed[key] = typeof value === 'number' ? { boxedNumber: value } : value;
      }
      const [text, values] = original.call(this, sql, boxed);
      return [
        text,
        values.map((value) =>
          value !== null && typeof value === 'object' && 'boxedNumber' in value
            ? (value as { boxedNumber: number }).boxedNumber
            : value,
        ),
      ];
    };
  },
  'mysql-no-trace': () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mysql = require('mysql2') as { createPool: (config: Record<string, unknown>) => unknown };
    const original = mysql.createPool;
    mysql.createPool = (config) => original({ ...config, trace: false });
  },
  'qr-gray-up': () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const qrcode = require('qrcode') as {
      toDataURL: (text: string, options?: Record<string, unknown>) => Promise<string>;
    };
    const original = qrcode.toDataURL;
    qrcode.toDataURL = (text, options) => original(text, { ...options, rendererOpts: { colorType: 0, filterType: 2 } });
  },
};

export const WHAT_IFS = Object.keys(PATCHES);

for (const name of (process.env.BENCH_WHAT_IF ?? '').split(',').filter(Boolean)) {
  const patch = PATCHES[name];
  if (!patch) throw new Error(`unknown what-if ${name}; one of ${WHAT_IFS.join(', ')}`);
  patch();
  process.stderr.write(`what-if applied: ${name}\n`);
}
