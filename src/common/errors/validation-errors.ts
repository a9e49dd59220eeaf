import { ValidationError } from 'class-validator';
import { DomainError, FieldError } from './domain-error';
import { ErrorCode } from './error-code';

/** `isNotEmpty` -> `IsNotEmpty`; an unknown field (whitelist) -> `UnknownField`. */
function errorCodeOf(constraint: string): string {
  if (constraint === 'whitelistValidation') return 'UnknownField';
  return constraint.charAt(0).toUpperCase() + constraint.slice(1);
}

function flatten(errors: ValidationError[], parentPath = ''): FieldError[] {
  return errors.flatMap((error) => {
    const fieldName = parentPath ? `${parentPath}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) => ({
      errorCode: errorCodeOf(constraint),
      fieldName,
      message: constraint === 'whitelistValidation' ? `${fieldName} is not a known field` : message,
    }));
    return [...own, ...flatten(error.children ?? [], fieldName)];
  });
}

/** The ValidationPipe's exceptionFactory: every class-validator message becomes an `errors[]` entry. */
export function validationErrorFrom(errors: ValidationError[]): DomainError {
  const fieldErrors = flatten(errors);
  const message = fieldErrors.length > 0 ? fieldErrors[0].message : 'Request is not valid';
  return new DomainError(ErrorCode.ValidationError, message, fieldErrors);
}
