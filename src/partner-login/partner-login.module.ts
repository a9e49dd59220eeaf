import { Module } from '@nestjs/common';
import { TwoFactorModule } from '../two-factor/two-factor.module';
import { PartnerLoginController } from './partner-login.controller';

/** Partner-user login verification: POST /partnerloginapi/2fa:verify, scope partner:login. */
@Module({
  imports: [TwoFactorModule],
  controllers: [PartnerLoginController],
})
export class PartnerLoginModule {}
