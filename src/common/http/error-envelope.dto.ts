import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse, ApiSchema } from '@nestjs/swagger';
import { ErrorCode, HTTP_STATUS_OF } from '../errors/error-code';

/** Swagger shapes of the error envelope (docs/api.md). */

@ApiSchema({ name: 'FieldError' })
export class FieldErrorDto {
  @ApiProperty({ type: String, description: 'What is wrong with the field', example: 'Matches' })
  errorCode!: string;

  @ApiProperty({ type: String, description: 'The field (or `body`, `path`, `request`)', example: 'code' })
  fieldName!: string;

  @ApiProperty({ type: String, example: 'code must be a string of 6 or 8 digits' })
  message!: string;
}

@ApiSchema({ name: 'ResponseStatus' })
export class ResponseStatusDto {
  @ApiProperty({ type: String, enum: ErrorCode, enumName: 'ErrorCode', example: ErrorCode.ValidationError })
  errorCode!: ErrorCode;

  @ApiProperty({ type: String, example: 'code must be a string of 6 or 8 digits' })
  message!: string;

  @ApiProperty({ type: [FieldErrorDto], description: 'One entry per refused field; empty for other errors' })
  errors!: FieldErrorDto[];
}

@ApiSchema({ name: 'ErrorEnvelope', description: 'The body of every error answer' })
export class ErrorEnvelopeDto {
  @ApiProperty({ type: ResponseStatusDto })
  responseStatus!: ResponseStatusDto;
}

interface ErrorExample {
  /** The example's message; the response's description when absent. */
  message?: string;
  /** The example names this field in `errors[]` (a 400). */
  fieldName?: string;
  fieldErrorCode?: string;
}

/** An example envelope for one documented error response, so each status shows its own errorCode. */
export function errorExample(code: ErrorCode, message: string, example: ErrorExample = {}): ErrorEnvelopeDto {
  const { fieldName, fieldErrorCode = 'Invalid' } = example;
  const errors = fieldName ? [{ errorCode: fieldErrorCode, fieldName, message }] : [];
  return { responseStatus: { errorCode: code, message, errors } };
}

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } },
};

/** One documented error answer: the envelope, with an example carrying this answer's own errorCode. */
export function ApiErrorResponse(
  code: ErrorCode,
  description: string,
  example: ErrorExample = {},
): MethodDecorator & ClassDecorator {
  return ApiResponse({
    status: HTTP_STATUS_OF[code],
    description,
    type: ErrorEnvelopeDto,
    example: errorExample(code, example.message ?? description, example),
    ...(code === ErrorCode.TooManyAttempts ? { headers: RETRY_AFTER } : {}),
  });
}

/** The 400 of a route: the refused field is named in `errors[].fieldName` (the example names one). */
export function ApiInvalidRequest(
  fieldName: string,
  message: string,
  fieldErrorCode = 'Invalid',
): MethodDecorator & ClassDecorator {
  const description = 'A malformed, missing or unknown field, named in `errors[].fieldName`';
  return ApiErrorResponse(ErrorCode.ValidationError, description, { fieldName, message, fieldErrorCode });
}

/** What any route that reads a JSON body can answer about the body itself. */
export function ApiReadsBody(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiErrorResponse(ErrorCode.PayloadTooLarge, 'The body is larger than 16 KiB', {
      message: 'Request body is larger than 16 KiB',
    }),
    ApiErrorResponse(ErrorCode.UnsupportedMediaType, 'The body is not `application/json`', {
      message: 'Content-Type must be application/json',
    }),
  );
}

/** Routes that need the database: it may be unreachable, or not answer within REQUEST_TIMEOUT_MS. */
export function ApiNeedsDatabase(): MethodDecorator & ClassDecorator {
  return ApiErrorResponse(
    ErrorCode.ServiceUnavailable,
    'The database is unreachable or did not answer in time; try again',
    {
      message: 'The service is temporarily unavailable',
    },
  );
}
