import { applyDecorators, Type } from '@nestjs/common';
import { ApiBody, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { ErrorCode } from '../../common/errors/error-code';
import { ApiErrorResponse, ApiInvalidRequest, ApiReadsBody } from '../../common/http/error-envelope.dto';
import { BackupCodesResponse, LoginVerificationResponse, UpdateConfigRequest } from './config.dto';

/**
 * The Swagger documentation of the partner-user and agent routes, one bundle per operation: the two
 * kinds' controllers document the same operations, each with its own operation id, DTOs and words.
 * (401, 403 come with RequireScope, 503 with ApiNeedsDatabase on the controller.)
 */

interface OperationDoc {
  operationId: string;
  /** The alias this route is also served at (left out of the document), e.g. `POST /global/2faConfig`. */
  alias?: string;
}

interface ConfigOperationDoc extends OperationDoc {
  /** The kind's config as the route returns it. */
  response: Type;
}

const alsoAt = (alias?: string) => (alias ? ` Also served at \`${alias}\`.` : '');

function configIdPath(): MethodDecorator {
  return applyDecorators(
    ApiParam({ name: 'id', description: 'The config id', schema: { type: 'string', format: 'uuid' } }),
    ApiErrorResponse(ErrorCode.NotFound, 'No such config in your tenant', { message: '2FA config not found' }),
  );
}

/** `request` and `example` name the kind's id field. */
export function ApiEnrolConfig(
  doc: ConfigOperationDoc & { who: string; request: Type; example: object },
): MethodDecorator {
  return applyDecorators(
    ApiOperation({
      operationId: doc.operationId,
      summary: `Enrol ${doc.who}`,
      description:
        'A pending config with its secret, otpauth URI and QR image (shown while pending). The first good code ' +
        `at login activates it.${alsoAt(doc.alias)}`,
    }),
    ApiBody({ type: doc.request, examples: { enrol: { summary: 'Enrol', value: doc.example } } }),
    ApiOkResponse({ type: doc.response }),
    ApiInvalidRequest('account', 'account must not contain a colon', 'Matches'),
    ApiErrorResponse(ErrorCode.Conflict, 'The user already has a config', {
      message: 'This user already has a 2FA config',
    }),
    ApiReadsBody(),
  );
}

export function ApiListConfigs(doc: OperationDoc & { who: string; page: Type }): MethodDecorator {
  return applyDecorators(
    ApiOperation({
      operationId: doc.operationId,
      summary: `List the ${doc.who} configs of your tenant`,
      description: `Oldest first, without secrets.${alsoAt(doc.alias)}`,
    }),
    ApiOkResponse({ type: doc.page }),
    ApiInvalidRequest('perPage', 'perPage must not be greater than 100', 'Max'),
  );
}

export function ApiGetConfig(doc: ConfigOperationDoc): MethodDecorator {
  return applyDecorators(
    ApiOperation({
      operationId: doc.operationId,
      summary: 'One config',
      description: `Its secret, otpauth URI and QR image only while pending.${alsoAt(doc.alias)}`,
    }),
    ApiOkResponse({ type: doc.response }),
    ApiInvalidRequest('id', 'id must be a UUID'),
    configIdPath(),
  );
}

export function ApiUpdateConfig(doc: ConfigOperationDoc): MethodDecorator {
  return applyDecorators(
    ApiOperation({
      operationId: doc.operationId,
      summary: 'Rotate the secret, disable or enable, or unlock',
      description:
        'Send only the changes you mean. A rotation returns the new secret, otpauth URI and QR image and makes the ' +
        'config pending until its first good code; `unlock` clears the failure count and the lock.' +
        alsoAt(doc.alias),
    }),
    ApiBody({
      type: UpdateConfigRequest,
      examples: {
        unlock: { summary: 'Clear the lock', value: { unlock: true } },
        rotate: { summary: 'A new secret (pending again)', value: { rotateSecret: true } },
        disable: { summary: 'Every verification fails', value: { enabled: false } },
        enable: { summary: 'Enable again', value: { enabled: true } },
      },
    }),
    ApiOkResponse({ type: doc.response }),
    ApiInvalidRequest('rotateSecret', 'rotateSecret can only be true', 'IsIn'),
    configIdPath(),
    ApiReadsBody(),
  );
}

export function ApiDeleteConfig(doc: OperationDoc): MethodDecorator {
  return applyDecorators(
    ApiOperation({
      operationId: doc.operationId,
      summary: 'Delete the config and its backup codes',
      description: `No body, or \`{}\`.${alsoAt(doc.alias)}`,
    }),
    ApiNoContentResponse({ description: 'Deleted' }),
    ApiInvalidRequest('id', 'id must be a UUID'),
    configIdPath(),
    ApiReadsBody(),
  );
}

export function ApiRegenerateBackupCodes(doc: OperationDoc): MethodDecorator {
  return applyDecorators(
    ApiOperation({
      operationId: doc.operationId,
      summary: 'New backup codes',
      description:
        'Ten codes, replacing all earlier ones; shown once, stored only hashed. Each works once at login, once the ' +
        `config is active. No body, or \`{}\`.${alsoAt(doc.alias)}`,
    }),
    ApiOkResponse({ type: BackupCodesResponse }),
    ApiInvalidRequest('id', 'id must be a UUID'),
    configIdPath(),
    ApiReadsBody(),
  );
}

export function ApiVerifyLogin(doc: OperationDoc & { who: string; request: Type; example: object }): MethodDecorator {
  return applyDecorators(
    ApiOperation({
      operationId: doc.operationId,
      summary: `Verify the TOTP or backup code of ${doc.who} at login`,
      description:
        'Unknown user, wrong, replayed and older-step codes all answer `{"result":"fail"}`. A code is accepted once; ' +
        'the first good TOTP code activates a pending config; a success creates a TwoFactorSession. After too many ' +
        'consecutive failures the user is locked: 429 with Retry-After, even for a right code. The colon may be ' +
        `sent percent-encoded (\`%3A\`).${alsoAt(doc.alias)}`,
    }),
    ApiBody({ type: doc.request, examples: { totp: { summary: 'A TOTP code', value: doc.example } } }),
    ApiOkResponse({ type: LoginVerificationResponse }),
    ApiInvalidRequest('code', 'code must be a TOTP code (6 or 8 digits) or a backup code', 'Matches'),
    ApiErrorResponse(ErrorCode.TooManyAttempts, 'Locked after too many failures; see Retry-After', {
      message: 'Too many failed attempts; try again later',
    }),
    ApiReadsBody(),
  );
}
