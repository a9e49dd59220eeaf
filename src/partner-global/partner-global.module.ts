import { Module } from '@nestjs/common';
import { TwoFactorModule } from '../two-factor/two-factor.module';
import { PartnerGlobalAliasController, PartnerGlobalController } from './partner-global.controller';

/** Partner-user 2FA admin: /partnerglobalapi/2faConfig (alias /partnerglobal), scope partner:admin. */
@Module({
  imports: [TwoFactorModule],
  controllers: [PartnerGlobalController, PartnerGlobalAliasController],
})
export class PartnerGlobalModule {}
