import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

/**
 * DTO field decorators that state each rule once and apply it twice: to class-validator, which enforces
 * it, and to the OpenAPI schema, which tells clients. So the document's limits are the server's limits.
 */

interface FieldDoc {
  description?: string;
  example?: unknown;
  /** Absent (or null) is allowed; the field is left out of `required`. */
  optional?: boolean;
  /** Overrides what `optional` documents: `false` for a field a ValidateIf makes conditional. */
  required?: boolean;
  default?: unknown;
  deprecated?: boolean;
}

function presence(optional: boolean | undefined): PropertyDecorator[] {
  return optional ? [IsOptional()] : [];
}

export interface TextRules {
  minLength?: number;
  maxLength: number;
  pattern?: RegExp;
  /** The 400 message when `pattern` does not match ($property is the field name). */
  patternMessage?: string;
  format?: string;
}

/** A string of minLength (default 1) to maxLength characters, optionally matching a pattern. */
export function TextField(rules: TextRules & FieldDoc): PropertyDecorator {
  const { minLength = 1, maxLength, pattern, patternMessage, optional, ...doc } = rules;
  return applyDecorators(
    ApiProperty({
      type: 'string',
      required: !optional,
      minLength,
      maxLength,
      ...(pattern ? { pattern: pattern.source } : {}),
      ...doc,
    }),
    ...presence(optional),
    IsString(),
    MinLength(minLength),
    MaxLength(maxLength),
    ...(pattern ? [Matches(pattern, patternMessage ? { message: patternMessage } : {})] : []),
  );
}

/** One of a fixed list of strings or numbers. */
export function EnumField(values: readonly (string | number)[], doc: FieldDoc = {}): PropertyDecorator {
  const { optional, ...rest } = doc;
  const type = values.every((value) => typeof value === 'number') ? 'integer' : 'string';
  return applyDecorators(
    ApiProperty({ type, enum: [...values], required: !optional, ...rest }),
    ...presence(optional),
    IsIn(values),
  );
}

/** An integer query parameter (query values arrive as text and are converted first). */
export function QueryIntegerField(rules: { minimum: number; maximum: number } & FieldDoc): PropertyDecorator {
  const { minimum, maximum, optional, ...doc } = rules;
  return applyDecorators(
    ApiProperty({ type: 'integer', required: !optional, minimum, maximum, ...doc }),
    ...presence(optional),
    Type(() => Number),
    IsInt(),
    Min(minimum),
    Max(maximum),
  );
}
