import { Body, Controller, Put } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Principal } from '../common/auth/principal';
import { CurrentActor, CurrentPrincipal, RequireScope } from '../common/auth/require-scope.decorator';
import type { Actor } from '../common/auth/principal';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { ErrorEnvelopeDto, errorExample } from '../common/http/error-envelope.dto';
import { SubjectKind } from '../two-factor/entities/two-factor-config.entity';
import { CodeVerificationService } from '../two-factor/code-verification.service';
import { TwoFactorConfigService } from '../two-factor/two-factor-config.service';
import { GenerateKeyRequest, GenerateKeyResponse, ResetRequest, ResetResponse } from './dto/users.dto';
import { NoStore } from '../common/http/no-store.decorator';

/** The tenanted-request rule of seeds 001/004, and the caller's kind that /users/2fa/* needs. */
function callerKindIn(principal: Principal, organisationId: string): SubjectKind {
  if (organisationId !== principal.tenant) {
    throw new DomainError(ErrorCode.Forbidden, 'organisationId is not your organisation', [
      { errorCode: 'Forbidden', fieldName: 'organisationId', message: 'organisationId is not your organisation' },
    ]);
  }
  if (!principal.kind) throw new DomainError(ErrorCode.Forbidden, 'The token must name your kind (partner or agent)');
  return principal.kind;
}

@ApiTags('User self-service (Foundry)')
@Controller('users/2fa')
export class UsersController {
  constructor(
    private readonly twoFactor: TwoFactorConfigService,
    private readonly verification: CodeVerificationService,
  ) {}

  @Put('generate-key')
  @RequireScope('user')
  @NoStore()
  @ApiOperation({ summary: 'A new pending 2FA config for yourself (sub, kind of your token)' })
  @ApiOkResponse({ type: GenerateKeyResponse })
  @ApiConflictResponse({
    description: 'Your 2FA is already active',
    type: ErrorEnvelopeDto,
    example: errorExample(ErrorCode.Conflict, 'Your 2FA is already active'),
  })
  async generateKey(
    @CurrentPrincipal() principal: Principal,
    @CurrentActor() actor: Actor,
    @Body() body: GenerateKeyRequest,
  ): Promise<GenerateKeyResponse> {
    const kind = callerKindIn(principal, body.organisationId);
    return { twoFactorUri: await this.twoFactor.generateKeyFor(actor, { kind, subjectId: principal.sub }) };
  }

  @Put('reset')
  @RequireScope('users:reset')
  @NoStore()
  @ApiOperation({
    summary: "Remove another user's 2FA (config, backup codes, sessions)",
    description:
      'Needs your own active 2FA. callerCode is checked first, like a login code (single use, counted towards ' +
      'your lockout, audited): no active 2FA, a wrong, replayed or locked code are all the same 403 with ' +
      'fieldName callerCode. Only then is the target looked up; an accepted code stays spent even when the ' +
      'target is unknown (404).',
  })
  @ApiOkResponse({ type: ResetResponse })
  @ApiForbiddenResponse({
    description: 'callerCode was not accepted (also: organisationId not yours, or a token without kind)',
    type: ErrorEnvelopeDto,
    example: errorExample(ErrorCode.Forbidden, 'callerCode was not accepted', 'callerCode'),
  })
  @ApiNotFoundResponse({
    description: 'Your code was accepted, but the target has no 2FA config in your tenant',
    type: ErrorEnvelopeDto,
    example: errorExample(ErrorCode.NotFound, 'The target user has no 2FA config'),
  })
  async reset(
    @CurrentPrincipal() principal: Principal,
    @CurrentActor() actor: Actor,
    @Body() body: ResetRequest,
  ): Promise<ResetResponse> {
    const kind = callerKindIn(principal, body.organisationId);
    await this.verification.resetOther(actor, { kind, subjectId: principal.sub }, body.callerCode, {
      kind: body.targetKind ?? kind,
      subjectId: body.targetUserId,
    });
    return {};
  }
}
