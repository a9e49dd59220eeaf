import { Module } from '@nestjs/common';
import { Clock, SystemClock } from '../common/clock';
import { AuditQueryService } from './audit-query.service';
import { BackupCodes } from './crypto/backup-codes';
import { SecretCipher } from './crypto/secret-cipher';
import { QrCodeRenderer } from './qr-code';
import { SpeakeasyTotpProvider, TotpProvider } from './totp/totp.provider';
import { TwoFactorSessionService } from './two-factor-session.service';
import { TwoFactorService } from './two-factor.service';

/**
 * The core: TOTP (the only speakeasy user), secret encryption, backup codes, QR images, and the
 * per-user 2FA rules (TwoFactorService), the only code that touches the 2FA tables.
 */
@Module({
  providers: [
    { provide: TotpProvider, useClass: SpeakeasyTotpProvider },
    { provide: Clock, useClass: SystemClock },
    SecretCipher,
    BackupCodes,
    QrCodeRenderer,
    TwoFactorService,
    TwoFactorSessionService,
    AuditQueryService,
  ],
  exports: [
    TotpProvider,
    Clock,
    SecretCipher,
    BackupCodes,
    QrCodeRenderer,
    TwoFactorService,
    TwoFactorSessionService,
    AuditQueryService,
  ],
})
export class TwoFactorModule {}
