import { applyDecorators, Type } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { ErrorCode } from '../../common/errors/error-code';
import { ErrorEnvelopeDto, errorExample } from '../../common/http/error-envelope.dto';
import { BackupCodesResponse, LoginVerificationResponse } from './config.dto';

/**
 * The Swagger documentation of the partner-user and agent routes, one bundle per operation: the two
 * kinds' controllers document the same operations, each with its own DTOs and words.
 */

/** "a partner user", "an agent". */
type Who = string;

const notFound = () =>
  ApiNotFoundResponse({
    description: 'No such config in your tenant',
    type: ErrorEnvelopeDto,
    example: errorExample(ErrorCode.NotFound, 'No such config in your tenant'),
  });

export function ApiEnrolConfig(who: Who, response: Type): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary: `Enrol ${who}: a pending config with its secret and QR image` }),
    ApiOkResponse({ type: response }),
    ApiConflictResponse({
      description: 'The user already has a config',
      type: ErrorEnvelopeDto,
      example: errorExample(ErrorCode.Conflict, 'The user already has a config'),
    }),
  );
}

export function ApiListConfigs(who: Who, page: Type): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary: `List the ${who} configs of your tenant` }),
    ApiOkResponse({ type: page }),
  );
}

export function ApiGetConfig(response: Type): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary: 'One config; its secret and QR image only while pending' }),
    ApiOkResponse({ type: response }),
    notFound(),
  );
}

export function ApiUpdateConfig(response: Type): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary: 'Rotate the secret (back to pending), disable/enable, or unlock' }),
    ApiOkResponse({ type: response }),
    notFound(),
  );
}

export function ApiDeleteConfig(): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary: 'Delete the config and its backup codes' }),
    ApiNoContentResponse({ description: 'Deleted' }),
    notFound(),
  );
}

export function ApiRegenerateBackupCodes(): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary: '10 new backup codes, replacing all earlier ones; shown once, stored hashed' }),
    ApiOkResponse({ type: BackupCodesResponse }),
    notFound(),
  );
}

export function ApiVerifyLogin(who: Who): MethodDecorator {
  return applyDecorators(
    ApiOperation({
      summary: `Verify the TOTP or backup code of ${who} at login`,
      description:
        'Unknown user, wrong, replayed and older-step codes all answer `{"result":"fail"}`. A code is accepted once. ' +
        'After too many consecutive failures the user is locked: 429 with Retry-After, even for a correct code. ' +
        'The colon may be sent percent-encoded (%3A).',
    }),
    ApiOkResponse({ type: LoginVerificationResponse }),
    ApiTooManyRequestsResponse({
      description: 'Locked after too many failures',
      type: ErrorEnvelopeDto,
      example: errorExample(ErrorCode.TooManyAttempts, 'Locked after too many failures'),
    }),
  );
}
