import { Module } from '@nestjs/common';
import { loginController } from '../two-factor/http/config-controllers.factory';
import { AGENTS } from '../two-factor/http/subject-kinds';
import { TwoFactorModule } from '../two-factor/two-factor.module';

/** Agent login verification: POST /loginapi/2fa:verify (alias /global/2fa:verify), scope agent:login. */
@Module({
  imports: [TwoFactorModule],
  controllers: [loginController(AGENTS)],
})
export class LoginModule {}
