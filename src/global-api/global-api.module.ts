import { Module } from '@nestjs/common';
import { TwoFactorModule } from '../two-factor/two-factor.module';
import { GlobalApiAliasController, GlobalApiController } from './global-api.controller';

/** Agent 2FA admin: /globalapi/2faConfig (alias /global), scope agent:admin. */
@Module({
  imports: [TwoFactorModule],
  controllers: [GlobalApiController, GlobalApiAliasController],
})
export class GlobalApiModule {}
