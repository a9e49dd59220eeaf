import { Body, Controller, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal } from '../common/auth/principal';
import { CurrentActor, CurrentPrincipal, RequireScope } from '../common/auth/require-scope.decorator';
import type { Actor } from '../common/auth/principal';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { API_TAGS } from '../common/http/api-tags';
import { ApiErrorResponse, ApiInvalidRequest, ApiNeedsDatabase, ApiReadsBody } from '../common/http/error-envelope.dto';
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

@ApiTags(API_TAGS.users.name)
@ApiNeedsDatabase()
@Controller('users/2fa')
export class UsersController {
  constructor(
    private readonly twoFactor: TwoFactorConfigService,
    private readonly verification: CodeVerificationService,
  ) {}

  @Put('generate-key')
  // Above RequireScope, whose 403 (scope) it replaces with every reason for one.
  @ApiErrorResponse(
    ErrorCode.Forbidden,
    'The token lacks the scope user or a kind, organisationId is not its tenant, or an administrator disabled your 2FA',
    { message: 'organisationId is not your organisation' },
  )
  @RequireScope('user')
  @NoStore()
  @ApiOperation({
    operationId: 'generateOwnKey',
    summary: 'A new pending 2FA config for yourself',
    description:
      "For the token's `sub` and `kind`: creates your config, or gives a pending one a new secret. " +
      'Your first good code at login activates it.',
  })
  @ApiOkResponse({ type: GenerateKeyResponse })
  @ApiInvalidRequest('organisationId', 'organisationId must be a string', 'IsString')
  @ApiErrorResponse(ErrorCode.Conflict, 'Your 2FA is already active')
  @ApiReadsBody()
  async generateKey(
    @CurrentPrincipal() principal: Principal,
    @CurrentActor() actor: Actor,
    @Body() body: GenerateKeyRequest,
  ): Promise<GenerateKeyResponse> {
    const kind = callerKindIn(principal, body.organisationId);
    return { twoFactorUri: await this.twoFactor.generateKeyFor(actor, { kind, subjectId: principal.sub }) };
  }

  @Put('reset')
  @ApiErrorResponse(
    ErrorCode.Forbidden,
    'The token lacks the scope users:reset or a kind, organisationId is not its tenant, or callerCode was not ' +
      'accepted (your own 2FA is not active, or the code is wrong, replayed or locked): fieldName `callerCode`',
    { message: 'callerCode was not accepted', fieldName: 'callerCode', fieldErrorCode: 'InvalidCode' },
  )
  @RequireScope('users:reset')
  @NoStore()
  @ApiOperation({
    operationId: 'resetUserTwoFactor',
    summary: "Remove another user's 2FA (config, backup codes, sessions)",
    description:
      'Needs your own active 2FA. callerCode is checked first, like a login code (single use, counted towards ' +
      'your lockout, audited): no active 2FA, a wrong, replayed or locked code are all the same 403 with ' +
      'fieldName callerCode. Only then is the target looked up; an accepted code stays spent even when the ' +
      'target is unknown (404). Your own 2FA cannot be reset this way (400).',
  })
  @ApiOkResponse({ type: ResetResponse })
  @ApiInvalidRequest('targetUserId', 'Use the admin API to reset your own 2FA', 'SelfReset')
  @ApiErrorResponse(ErrorCode.NotFound, 'Your code was accepted, but the target has no 2FA config in your tenant', {
    message: 'The target user has no 2FA config',
  })
  @ApiReadsBody()
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
