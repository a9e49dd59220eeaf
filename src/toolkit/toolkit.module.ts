import { Module } from '@nestjs/common';
import { TwoFactorModule } from '../two-factor/two-factor.module';
import { ToolkitController } from './toolkit.controller';
import { ToolkitService } from './toolkit.service';

/** Public, stateless routes: /2fa/secretkey, /2fa/code:verify, /2fa/codes, /generate/*, /verify/token. */
@Module({
  imports: [TwoFactorModule],
  controllers: [ToolkitController],
  providers: [ToolkitService],
})
export class ToolkitModule {}
