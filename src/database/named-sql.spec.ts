import { NamedSql } from './named-sql';

describe(NamedSql.name, () => {
  it('compiles :name parameters to positional ones, in order, a name used twice bound twice', () => {
    const sql = new NamedSql<{ id: string; now: number }>(
      'UPDATE t SET a = :now, b = :now WHERE id = :id AND c <= :now',
    );
    expect(sql.bind({ id: 'x', now: 5 })).toEqual({
      text: 'UPDATE t SET a = ?, b = ? WHERE id = ? AND c <= ?',
      values: [5, 5, 'x', 5],
    });
    expect(sql.parameterNames).toEqual(['now', 'now', 'id', 'now']);
  });

  it('leaves colons inside quoted strings alone', () => {
    const sql = new NamedSql<{ id: string }>("SELECT 'a:b', ':x' FROM t WHERE id = :id");
    expect(sql.bind({ id: 'y' })).toEqual({ text: "SELECT 'a:b', ':x' FROM t WHERE id = ?", values: ['y'] });
  });

  it('expands a list parameter to one placeholder per element, and reuses the text per length', () => {
    const sql = new NamedSql<{ hashes: string[]; id: string }>('DELETE FROM t WHERE h IN (:hashes) AND id = :id');
    const two = sql.bind({ hashes: ['a', 'b'], id: 'i' });
    expect(two).toEqual({ text: 'DELETE FROM t WHERE h IN (?, ?) AND id = ?', values: ['a', 'b', 'i'] });
    expect(sql.bind({ hashes: ['c', 'd'], id: 'j' }).text).toBe(two.text);
    expect(sql.bind({ hashes: ['a'], id: 'i' }).text).toBe('DELETE FROM t WHERE h IN (?) AND id = ?');
  });

  it('refuses a missing parameter and an empty list instead of sending a wrong statement', () => {
    const sql = new NamedSql<{ id: string; hashes: string[] }>('SELECT 1 FROM t WHERE id = :id AND h IN (:hashes)');
    expect(() => sql.bind({ hashes: ['a'] } as unknown as { id: string; hashes: string[] })).toThrow(':id');
    expect(() => sql.bind({ id: 'i', hashes: [] })).toThrow(':hashes');
  });
});
