import { DataSourceOptions } from 'typeorm';
import { DatabaseStartError, describeDatabase } from './open-database';

function mysql(url: string): DataSourceOptions {
  return { type: 'mysql', url };
}

/** What the description was before: WHATWG URL parsing, the password masked, the query dropped. */
function asUrlMasks(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  parsed.search = '';
  return parsed.toString();
}

describe(describeDatabase.name, () => {
  it('names a SQLite file', () => {
    expect(describeDatabase({ type: 'better-sqlite3', database: '/data/twofa.sqlite' })).toBe(
      'sqlite:/data/twofa.sqlite',
    );
  });

  it.each([
    'mysql://twofa:twofa@127.0.0.1:3306/twofa_test',
    'mysql://twofa:s3cret@db.internal/twofa?ssl=true&password=other',
    'mysql://twofa@db.internal:3306/twofa',
    'mysql://twofa:@db.internal:3306/twofa',
    'mysql://db.internal:3306/twofa',
    'mysql://twofa:p%40ss@db.internal:3306/twofa',
  ])('masks %s as URL parsing does', (url) => {
    expect(describeDatabase(mysql(url))).toBe(asUrlMasks(url));
    expect(describeDatabase(mysql(url))).not.toMatch(/s3cret|other|p%40ss/);
  });

  // `new URL` throws on these or reads no password in them; the driver takes the first as it is.
  it.each([
    'mysql://twofa:se#cret@127.0.0.1:3306/twofa',
    'mysql://twofa:se/cret@127.0.0.1:3306/twofa',
    'mysql://twofa:123/cret@127.0.0.1:3306/twofa',
    'mysql://twofa:se?cret@127.0.0.1:3306/twofa',
    'mysql://twofa:se@c:ret@127.0.0.1:3306/twofa',
  ])('masks a password URL parsing misreads: %s', (url) => {
    expect(describeDatabase(mysql(url))).toBe('mysql://twofa:***@127.0.0.1:3306/twofa');
  });

  it('describes a URL with a port out of range without throwing', () => {
    const options = mysql('mysql://twofa:se#cret@127.0.0.1:99999/twofa');
    const error = new DatabaseStartError(options, new RangeError('Port should be >= 0 and < 65536'));
    expect(error.message).toBe(
      'DATABASE_URL (mysql://twofa:***@127.0.0.1:99999/twofa): cannot connect: Port should be >= 0 and < 65536',
    );
  });
});
