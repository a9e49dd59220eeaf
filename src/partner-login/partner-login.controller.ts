import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Actor } from '../common/auth/principal';
import { CurrentActor, RequireScope } from '../common/auth/require-scope.decorator';
import { API_TAGS } from '../common/http/api-tags';
import { ApiNeedsDatabase } from '../common/http/error-envelope.dto';
import { NoStore } from '../common/http/no-store.decorator';
import { ApiVerifyLogin } from '../two-factor/http/config-api.docs';
import { LoginVerificationResponse } from '../two-factor/http/config.dto';
import { CodeVerificationService } from '../two-factor/code-verification.service';
import { VerifyPartnerUserCodeRequest } from './dto/verify-partner-user-code.dto';

/** A partner user's second factor at login. */
@ApiTags(API_TAGS.partnerLogin.name)
@RequireScope('partner:login')
@ApiNeedsDatabase()
@Controller('partnerloginapi')
export class PartnerLoginController {
  constructor(private readonly verification: CodeVerificationService) {}

  // `::` is a literal colon for Fastify's router; `%3A` is rewritten to `:` before routing (app.setup.ts).
  @Post('2fa::verify')
  @HttpCode(200)
  @NoStore()
  @ApiVerifyLogin({
    operationId: 'verifyPartnerUserLogin',
    who: 'a partner user',
    request: VerifyPartnerUserCodeRequest,
    example: { partneruserid: 'pu-10042', code: '081804' },
  })
  verify(@CurrentActor() actor: Actor, @Body() body: VerifyPartnerUserCodeRequest): Promise<LoginVerificationResponse> {
    return this.verification.verifyLogin(actor, { kind: 'partner', subjectId: body.partneruserid }, body.code);
  }
}
