import { Module } from '@nestjs/common';
import { TwoFactorModule } from '../two-factor/two-factor.module';
import { AuditController } from './audit.controller';

/** GET /audit, scope audit:read. */
@Module({ imports: [TwoFactorModule], controllers: [AuditController] })
export class AuditModule {}
