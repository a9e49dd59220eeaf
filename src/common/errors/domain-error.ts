import { ErrorCode } from './error-code';

export interface FieldError {
  errorCode: string;
  fieldName: string;
  message: string;
}

/**
 * The one error type services throw. The global filter turns it into the docs/api.md envelope;
 * services never build HTTP payloads. Messages must never contain a secret or a code.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors: FieldError[] = [],
    /** Seconds for a Retry-After header (429 only). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  /** A 400 naming one field. */
  static invalidField(fieldName: string, message: string, errorCode = 'Invalid'): DomainError {
    return new DomainError(ErrorCode.ValidationError, message, [{ errorCode, fieldName, message }]);
  }
}
