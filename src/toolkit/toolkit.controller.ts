import { ErrorCode } from '../common/errors/error-code';
import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorEnvelopeDto, errorExample } from '../common/http/error-envelope.dto';
import { NoBody } from '../common/http/no-body.decorator';
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
import { NoStore } from '../common/http/no-store.decorator';

const STATELESS =
  'Stateless: the service keeps nothing, so it cannot refuse a replayed code. For logins use the per-user `2fa:verify` routes, which do.';

@ApiTags('Core 2FA toolkit (stateless)')
@ApiBadRequestResponse({
  description: 'A malformed field, named in `errors[].fieldName`',
  type: ErrorEnvelopeDto,
  example: errorExample(ErrorCode.ValidationError, 'A malformed field, named in `errors[].fieldName`', 'code'),
})
@PublicRateLimit()
@Controller()
export class ToolkitController {
  constructor(private readonly toolkit: ToolkitService) {}

  @Post('2fa/secretkey')
  @HttpCode(200)
  @NoStore()
  @ApiOperation({ summary: 'Create a secret key with its otpauth URI and QR image', description: STATELESS })
  @ApiOkResponse({ type: SecretKeyResponse })
  createSecretKey(@Body() request: CreateSecretKeyRequest = {}): Promise<SecretKeyResponse> {
    return this.toolkit.createSecretKey(request);
  }

  // `::` is find-my-way's literal colon; `%3A` is rewritten to `:` before routing (app.setup.ts).
  @Post('2fa/code::verify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Verify a code against a secret (also /2fa/code%3Averify)', description: STATELESS })
  @ApiOkResponse({ type: VerifyCodeResponse })
  verifyCode(@Body() request: VerifyCodeRequest): VerifyCodeResponse {
    return this.toolkit.verifyCode(request.secretKey, request.code);
  }

  @Post('2fa/codes')
  @HttpCode(200)
  @NoStore()
  @ApiOperation({
    summary: 'Create one backup code',
    description: 'Same format as the per-user backup codes. Nothing is stored. Also served as `POST /2fa/code`.',
  })
  @ApiOkResponse({ type: BackupCodeResponse })
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
    summary: 'Generate a random secret',
    description:
      'length is in random bytes (16..64). An ascii secret is letters and digits with at least as many bits.',
  })
  @ApiOkResponse({ type: GenerateSecretResponse })
  generateSecret(@Query() query: GenerateSecretQuery): GenerateSecretResponse {
    return this.toolkit.generateSecret(query);
  }

  @Post('generate/token')
  @HttpCode(200)
  @NoStore()
  @ApiOperation({ summary: 'The current code of a secret' })
  @ApiOkResponse({ type: GenerateTokenResponse })
  generateToken(@Body() request: GenerateTokenRequest): GenerateTokenResponse {
    return this.toolkit.generateToken(request);
  }

  @Post('verify/token')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Verify a code against a secret',
    description: `${STATELESS} The token must be a string (a number would lose leading zeros).`,
  })
  @ApiOkResponse({ type: VerifyTokenResponse })
  verifyToken(@Body() request: VerifyTokenRequest): VerifyTokenResponse {
    return this.toolkit.verifyToken(request);
  }
}
