import { Module } from '@nestjs/common';
import { configAdminController } from '../two-factor/http/config-controllers.factory';
import { AGENTS } from '../two-factor/http/subject-kinds';
import { TwoFactorModule } from '../two-factor/two-factor.module';

/** Agent 2FA admin: /globalapi/2faConfig (alias /global), scope agent:admin. */
@Module({
  imports: [TwoFactorModule],
  controllers: [configAdminController(AGENTS)],
})
export class GlobalApiModule {}
