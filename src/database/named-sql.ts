import type { EntityManager } from 'typeorm';
import { driverSqlOf } from './driver-sql';

/** A statement as the drivers take it: a positional text and its values. */
export interface BoundSql {
  text: string;
  values: unknown[];
}

/** Runs an UPDATE/DELETE inside the manager's transaction and returns the rows it matched. */
export async function affectedRows(manager: EntityManager, statement: BoundSql): Promise<number> {
  if (!manager.queryRunner) throw new Error('affectedRows needs a transaction manager');
  return driverSqlOf(manager).changes(statement);
}

/**
 * A fixed SQL text written with `:name` parameters, compiled once to the positional `?` form both
 * drivers take. A fixed text matters on the hot paths: better-sqlite3 prepares each distinct text once
 * and then finds it in its statement cache (TypeORM's query builder inlined numbers into the text, so
 * every statement was prepared again). An array parameter (`IN (:hashes)`) expands to one `?` per
 * element; the text for each length is compiled once as well.
 *
 * Names are letters and digits after a colon outside quoted strings; the text is plain SQL that SQLite
 * and MySQL/MariaDB read alike.
 */
export class NamedSql<P extends Record<string, unknown>> {
  private readonly parts: string[] = [];
  private readonly names: string[] = [];
  private readonly textByShape = new Map<string, string>();

  constructor(readonly source: string) {
    let part = '';
    for (let at = 0; at < source.length; at++) {
      const char = source[at];
      if (char === "'") {
        const end = source.indexOf("'", at + 1);
        if (end < 0) throw new Error(`Unterminated string in SQL: ${source}`);
        part += source.slice(at, end + 1);
        at = end;
        continue;
      }
      const name = char === ':' ? /^[A-Za-z][A-Za-z0-9]*/.exec(source.slice(at + 1))?.[0] : undefined;
      if (name === undefined) {
        part += char;
        continue;
      }
      this.parts.push(part);
      this.names.push(name);
      part = '';
      at += name.length;
    }
    this.parts.push(part);
  }

  /** The parameter names in order of appearance (a name used twice appears twice). */
  get parameterNames(): readonly string[] {
    return this.names;
  }

  /** The positional text and its values for these parameters. */
  bind(parameters: P): BoundSql {
    const values: unknown[] = [];
    const lengths: number[] = [];
    for (const name of this.names) {
      const value = (parameters as Record<string, unknown>)[name];
      if (value === undefined) throw new Error(`SQL parameter :${name} has no value`);
      if (Array.isArray(value)) {
        if (value.length === 0) throw new Error(`SQL parameter :${name} is an empty list`);
        values.push(...(value as unknown[]));
        lengths.push(value.length);
      } else {
        values.push(value);
        lengths.push(0);
      }
    }
    return { text: this.textFor(lengths), values };
  }

  /** Runs a SELECT through the manager (its transaction, if it has one). */
  async select<Row>(manager: EntityManager, parameters: P): Promise<Row[]> {
    return driverSqlOf(manager).rows<Row>(this.bind(parameters));
  }

  /** Runs an UPDATE/DELETE inside the manager's transaction and returns the rows it matched. */
  affectedRows(manager: EntityManager, parameters: P): Promise<number> {
    return affectedRows(manager, this.bind(parameters));
  }

  /** 0 in `lengths` is a scalar, n an array of n values. */
  private textFor(lengths: number[]): string {
    const shape = lengths.join(',');
    let text = this.textByShape.get(shape);
    if (text === undefined) {
      text = this.parts[0];
      for (let i = 0; i < lengths.length; i++) {
        text += (lengths[i] === 0 ? '?' : Array.from({ length: lengths[i] }, () => '?').join(', ')) + this.parts[i + 1];
      }
      this.textByShape.set(shape, text);
    }
    return text;
  }
}
