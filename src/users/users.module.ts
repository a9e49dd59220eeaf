import { Module } from '@nestjs/common';
import { TwoFactorModule } from '../two-factor/two-factor.module';
import { UsersController } from './users.controller';

/** Seeds 001/004: PUT /users/2fa/generate-key (scope user), PUT /users/2fa/reset (scope users:reset). */
@Module({
  imports: [TwoFactorModule],
  controllers: [UsersController],
})
export class UsersModule {}
