import { Module } from '@nestjs/common';
import { Clock, SystemClock } from '../common/clock';
import { BackupCodes } from './crypto/backup-codes';
import { SecretCipher } from './crypto/secret-cipher';
import { QrCodeRenderer } from './qr-code';
import { SpeakeasyTotpProvider, TotpProvider } from './totp/totp.provider';

/** The core 2FA toolkit: TOTP (the only speakeasy user), secret encryption, backup codes, QR images. */
@Module({
  providers: [
    { provide: TotpProvider, useClass: SpeakeasyTotpProvider },
    { provide: Clock, useClass: SystemClock },
    SecretCipher,
    BackupCodes,
    QrCodeRenderer,
  ],
  exports: [TotpProvider, Clock, SecretCipher, BackupCodes, QrCodeRenderer],
})
export class TwoFactorModule {}
