import { Module } from '@nestjs/common';
import { TwoFactorModule } from '../two-factor/two-factor.module';
import { SessionsController } from './sessions.controller';

/** Seed 000's TwoFactorSession API: /TwoFactorSession/, scope sessions:admin. */
@Module({
  imports: [TwoFactorModule],
  controllers: [SessionsController],
})
export class SessionsModule {}
