import { Module } from '@nestjs/common';
import { PublicRateLimitModule } from '../common/rate-limit/public-rate-limit';
import { TwoFactorModule } from '../two-factor/two-factor.module';
import { ToolkitController } from './toolkit.controller';
import { ToolkitService } from './toolkit.service';

/**
 * Public, stateless routes: /2fa/secretkey, /2fa/code:verify, /2fa/codes, /generate/*, /verify/token,
 * limited per client address.
 */
@Module({
  imports: [TwoFactorModule, PublicRateLimitModule],
  controllers: [ToolkitController],
  providers: [ToolkitService],
})
export class ToolkitModule {}
