import { HttpException, HttpStatus } from '@nestjs/common';
import { DomainError, FieldError } from './domain-error';
import { ErrorCode, HTTP_STATUS_OF } from './error-code';
import { isDatabaseUnavailable } from './database-errors';

/** The ServiceStack `ResponseStatus` envelope of API.md. No stack trace, ever. */
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

/** Fastify's own errors (body parsing happens before Nest sees the request). */
const FASTIFY_ERRORS: Record<string, { code: ErrorCode; message: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: ErrorCode.UnsupportedMediaType,
    message: 'Content-Type must be application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: ErrorCode.ValidationError,
    message: 'Content-Length does not match the body',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: ErrorCode.PayloadTooLarge, message: 'Request body is larger than 16 KiB' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: ErrorCode.ValidationError, message: 'Request body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: ErrorCode.ValidationError, message: 'Request body is empty' },
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

  const fastifyCode = (error as { code?: unknown } | null)?.code;
  if (typeof fastifyCode === 'string' && FASTIFY_ERRORS[fastifyCode]) {
    const known = FASTIFY_ERRORS[fastifyCode];
    const fieldErrors =
      known.code === ErrorCode.ValidationError
        ? [{ errorCode: 'InvalidBody', fieldName: 'body', message: known.message }]
        : [];
    return response(known.code, known.message, fieldErrors);
  }
  if (error instanceof SyntaxError) {
    return response(ErrorCode.ValidationError, 'Request body is not valid JSON', [
      { errorCode: 'InvalidBody', fieldName: 'body', message: 'Request body is not valid JSON' },
    ]);
  }

  if (isDatabaseUnavailable(error))
    return response(ErrorCode.ServiceUnavailable, 'The service is temporarily unavailable');

  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = CODE_OF_STATUS[status];
    if (code) return response(code, status === HttpStatus.NOT_FOUND ? 'Not found' : error.message);
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return response(CODE_OF_STATUS[status] ?? ErrorCode.ValidationError, 'The request cannot be processed');
  }
  return response(ErrorCode.InternalError, 'An unexpected error occurred');
}
