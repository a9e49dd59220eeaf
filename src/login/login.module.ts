import { Module } from '@nestjs/common';
import { TwoFactorModule } from '../two-factor/two-factor.module';
import { LoginAliasController, LoginController } from './login.controller';

/** Agent login verification: POST /loginapi/2fa:verify (alias /global/2fa:verify), scope agent:login. */
@Module({
  imports: [TwoFactorModule],
  controllers: [LoginController, LoginAliasController],
})
export class LoginModule {}
