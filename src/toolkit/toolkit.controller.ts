import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../common/http/api-tags';
import { ApiInvalidRequest, ApiNeedsDatabase, ApiReadsBody } from '../common/http/error-envelope.dto';
import { NoBody } from '../common/http/no-body.decorator';
import { NoStore } from '../common/http/no-store.decorator';
import { PublicRateLimit } from '../common/rate-limit/public-rate-limit';
import {
  BackupCodeResponse,
  CreateSecretKeyRequest,
  GenerateSecretQuery,
  GenerateSecretResponse,
  GenerateTokenRequest,
  GenerateTokenResponse,
  SecretKeyResponse,
  VerifyCodeRequest,
  VerifyCodeResponse,
  VerifyTokenRequest,
  VerifyTokenResponse,
} from './dto/toolkit.dto';
import { ToolkitService } from './toolkit.service';

const STATELESS =
  'Stateless: the service keeps nothing, so it cannot refuse a replayed code. For logins use the per-user `2fa:verify` routes, which do.';

// The rate limit counts requests in the database, so every toolkit route needs it.
@ApiTags(API_TAGS.toolkit.name)
@PublicRateLimit()
@ApiNeedsDatabase()
@Controller()
export class ToolkitController {
  constructor(private readonly toolkit: ToolkitService) {}

  @Post('2fa/secretkey')
  @HttpCode(200)
  @NoStore()
  @ApiOperation({
    operationId: 'createSecretKey',
    summary: 'Create a secret key with its otpauth URI and QR image',
    description: `The body is optional. ${STATELESS}`,
  })
  @ApiOkResponse({ type: SecretKeyResponse })
  @ApiInvalidRequest('account', 'account must not contain a colon', 'Matches')
  @ApiReadsBody()
  createSecretKey(@Body() request: CreateSecretKeyRequest = {}): Promise<SecretKeyResponse> {
    return this.toolkit.createSecretKey(request);
  }

  // `::` is find-my-way's literal colon; `%3A` is rewritten to `:` before routing (app.setup.ts).
  @Post('2fa/code::verify')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'verifyCode',
    summary: 'Verify a code against a secret',
    description: `The deployment's TOTP settings apply. The colon may be sent percent-encoded (\`/2fa/code%3Averify\`). ${STATELESS}`,
  })
  @ApiOkResponse({ type: VerifyCodeResponse })
  @ApiInvalidRequest('code', 'code must be a string of 6 or 8 digits', 'Matches')
  @ApiReadsBody()
  verifyCode(@Body() request: VerifyCodeRequest): VerifyCodeResponse {
    return this.toolkit.verifyCode(request.secretKey, request.code);
  }

  @Post('2fa/codes')
  @HttpCode(200)
  @NoStore()
  @ApiOperation({
    operationId: 'createBackupCode',
    summary: 'Create one backup code',
    description:
      'Same format as the per-user backup codes. Nothing is stored. No body, or `{}`. ' +
      'Also served as `POST /2fa/code` (seed 002 spelling).',
  })
  @ApiOkResponse({ type: BackupCodeResponse })
  @ApiInvalidRequest('count', 'count is not a known field', 'UnknownField')
  @ApiReadsBody()
  createBackupCode(@NoBody() _body: undefined): BackupCodeResponse {
    return this.toolkit.createBackupCode();
  }

  /** Seed 002's singular spelling, documented once under /2fa/codes. */
  @Post('2fa/code')
  @HttpCode(200)
  @NoStore()
  @ApiExcludeEndpoint()
  createBackupCodeAlias(@NoBody() _body: undefined): BackupCodeResponse {
    return this.toolkit.createBackupCode();
  }

  @Get('generate/secret')
  @NoStore()
  @ApiOperation({
    operationId: 'generateSecret',
    summary: 'Generate a random secret',
    description:
      '`length` is in random bytes. An ascii secret is letters and digits with at least as many bits (at most 64 characters).',
  })
  @ApiOkResponse({ type: GenerateSecretResponse })
  @ApiInvalidRequest('length', 'length must not be greater than 64', 'Max')
  generateSecret(@Query() query: GenerateSecretQuery): GenerateSecretResponse {
    return this.toolkit.generateSecret(query);
  }

  @Post('generate/token')
  @HttpCode(200)
  @NoStore()
  @ApiOperation({
    operationId: 'generateToken',
    summary: 'The current code of a secret',
    description: 'With the given TOTP parameters, or the deployment defaults.',
  })
  @ApiOkResponse({ type: GenerateTokenResponse })
  @ApiInvalidRequest('secret', 'secret is not a valid base32 secret: invalid characters', 'InvalidSecret')
  @ApiReadsBody()
  generateToken(@Body() request: GenerateTokenRequest): GenerateTokenResponse {
    return this.toolkit.generateToken(request);
  }

  @Post('verify/token')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'verifyToken',
    summary: 'Verify a code against a secret',
    description: `With the given TOTP parameters, or the deployment defaults. ${STATELESS}`,
  })
  @ApiOkResponse({ type: VerifyTokenResponse })
  @ApiInvalidRequest('token', 'token must be a string of exactly 6 digits', 'InvalidCode')
  @ApiReadsBody()
  verifyToken(@Body() request: VerifyTokenRequest): VerifyTokenResponse {
    return this.toolkit.verifyToken(request);
  }
}
