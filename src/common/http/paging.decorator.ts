import { QueryIntegerField } from './fields';

/** A 1-based page number query field. */
export function IsPageNumber(): PropertyDecorator {
  return QueryIntegerField({ optional: true, minimum: 1, maximum: 100000, default: 1, example: 1 });
}

/** A page size query field, 1..max. */
export function IsPageSize(defaultSize: number, max: number): PropertyDecorator {
  return QueryIntegerField({ optional: true, minimum: 1, maximum: max, default: defaultSize, example: defaultSize });
}
