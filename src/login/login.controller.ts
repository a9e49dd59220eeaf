import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiExcludeController, ApiTags } from '@nestjs/swagger';
import { Actor } from '../common/auth/principal';
import { CurrentActor, RequireScope } from '../common/auth/require-scope.decorator';
import { API_TAGS } from '../common/http/api-tags';
import { ApiNeedsDatabase } from '../common/http/error-envelope.dto';
import { NoStore } from '../common/http/no-store.decorator';
import { ApiVerifyLogin } from '../two-factor/http/config-api.docs';
import { LoginVerificationResponse } from '../two-factor/http/config.dto';
import { CodeVerificationService } from '../two-factor/code-verification.service';
import { VerifyAgentCodeRequest } from './dto/verify-agent-code.dto';

/** An agent's second factor at login. */
@ApiTags(API_TAGS.agentLogin.name)
@RequireScope('agent:login')
@ApiNeedsDatabase()
@Controller('loginapi')
export class LoginController {
  constructor(private readonly verification: CodeVerificationService) {}

  // `::` is a literal colon for Fastify's router; `%3A` is rewritten to `:` before routing (app.setup.ts).
  @Post('2fa::verify')
  @HttpCode(200)
  @NoStore()
  @ApiVerifyLogin({
    operationId: 'verifyAgentLogin',
    alias: 'POST /global/2fa:verify',
    who: 'an agent',
    request: VerifyAgentCodeRequest,
    example: { agentid: 'agent-007', code: '081804' },
  })
  verify(@CurrentActor() actor: Actor, @Body() body: VerifyAgentCodeRequest): Promise<LoginVerificationResponse> {
    return this.verification.verifyLogin(actor, { kind: 'agent', subjectId: body.agentid }, body.code);
  }
}

/** Seed 002's older path, POST /global/2fa:verify: the same route, documented once under /loginapi. */
@ApiExcludeController()
@RequireScope('agent:login')
@Controller('global')
export class LoginAliasController extends LoginController {}
