import { ApiProperty } from '@nestjs/swagger';
import { ErrorCode } from '../errors/error-code';

/** Swagger shapes of the API.md error envelope. */
export class FieldErrorDto {
  @ApiProperty({ example: 'InvalidCode' })
  errorCode!: string;

  @ApiProperty({ example: 'code' })
  fieldName!: string;

  @ApiProperty({ example: 'code must be a string of exactly 6 digits' })
  message!: string;
}

export class ResponseStatusDto {
  @ApiProperty({ enum: ErrorCode, example: ErrorCode.ValidationError })
  errorCode!: ErrorCode;

  @ApiProperty({ example: 'code must be a string of exactly 6 digits' })
  message!: string;

  @ApiProperty({ type: [FieldErrorDto] })
  errors!: FieldErrorDto[];
}

export class ErrorEnvelopeDto {
  @ApiProperty({ type: ResponseStatusDto })
  responseStatus!: ResponseStatusDto;
}

/** An example envelope for one documented error response, so each status shows its own errorCode. */
export function errorExample(errorCode: ErrorCode, message: string, fieldName?: string): ErrorEnvelopeDto {
  const errors = fieldName ? [{ errorCode: 'Invalid', fieldName, message }] : [];
  return { responseStatus: { errorCode, message, errors } };
}
