import { Module } from '@nestjs/common';
import { configAdminController } from '../two-factor/http/config-controllers.factory';
import { PARTNER_USERS } from '../two-factor/http/subject-kinds';
import { TwoFactorModule } from '../two-factor/two-factor.module';

/** Partner-user 2FA admin: /partnerglobalapi/2faConfig (alias /partnerglobal), scope partner:admin. */
@Module({
  imports: [TwoFactorModule],
  controllers: [configAdminController(PARTNER_USERS)],
})
export class PartnerGlobalModule {}
