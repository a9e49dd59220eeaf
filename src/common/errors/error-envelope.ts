import { HttpException } from '@nestjs/common';
import { DomainError, FieldError } from './domain-error';
import { ErrorCode, HTTP_STATUS_OF } from './error-code';
import { isDatabaseUnavailable } from './database-errors';

/** The ServiceStack `ResponseStatus` envelope of docs/api.md. No stack trace, ever. */
export interface ErrorEnvelope {
  responseStatus: { errorCode: ErrorCode; message: string; errors: FieldError[] };
}

export interface ErrorResponse {
  status: number;
  body: ErrorEnvelope;
  retryAfterSeconds?: number;
  /** True when the error is a bug (500): the caller logs it. */
  unexpected: boolean;
}

const CODE_OF_STATUS: Partial<Record<number, ErrorCode>> = {
  400: ErrorCode.ValidationError,
  401: ErrorCode.Unauthorized,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  405: ErrorCode.NotFound,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  429: ErrorCode.TooManyAttempts,
  503: ErrorCode.ServiceUnavailable,
};

/**
 * Fastify's own errors (body limit, content type, JSON syntax) reach the filter as plain
 * HttpExceptions: our code only ever throws DomainErrors, so these statuses mean the request body.
 */
const BODY_ERRORS: Partial<Record<number, string>> = {
  400: 'Request body is not valid JSON',
  413: 'Request body is larger than 16 KiB',
  415: 'Content-Type must be application/json',
};

function envelope(code: ErrorCode, message: string, errors: FieldError[] = []): ErrorEnvelope {
  return { responseStatus: { errorCode: code, message, errors } };
}

function response(
  code: ErrorCode,
  message: string,
  errors: FieldError[] = [],
  retryAfterSeconds?: number,
): ErrorResponse {
  return {
    status: HTTP_STATUS_OF[code],
    body: envelope(code, message, errors),
    retryAfterSeconds,
    unexpected: code === ErrorCode.InternalError,
  };
}

/** Maps anything thrown while serving a request to the one envelope. */
export function errorResponseOf(error: unknown): ErrorResponse {
  if (error instanceof DomainError) return response(error.code, error.message, error.errors, error.retryAfterSeconds);

  if (isDatabaseUnavailable(error))
    return response(ErrorCode.ServiceUnavailable, 'The service is temporarily unavailable');

  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = CODE_OF_STATUS[status] ?? (status < 500 ? ErrorCode.ValidationError : undefined);
    const bodyError = BODY_ERRORS[status];
    if (code === ErrorCode.ValidationError) {
      const message = bodyError ?? 'The request cannot be processed';
      return response(code, message, [{ errorCode: 'InvalidBody', fieldName: 'body', message }]);
    }
    if (code) return response(code, bodyError ?? (status === 404 ? 'Not found' : error.message));
  }
  return response(ErrorCode.InternalError, 'An unexpected error occurred');
}
