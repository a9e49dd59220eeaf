import { Module } from '@nestjs/common';
import { loginController } from '../two-factor/http/config-controllers.factory';
import { PARTNER_USERS } from '../two-factor/http/subject-kinds';
import { TwoFactorModule } from '../two-factor/two-factor.module';

/** Partner-user login verification: POST /partnerloginapi/2fa:verify, scope partner:login. */
@Module({
  imports: [TwoFactorModule],
  controllers: [loginController(PARTNER_USERS)],
})
export class PartnerLoginModule {}
