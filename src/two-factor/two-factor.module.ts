import { Module } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { lockoutConfig } from '../config/app.config';
import { Clock, SystemClock } from '../common/clock';
import { AuditQueryService } from './audit-query.service';
import { BackupCodes } from './crypto/backup-codes';
import { SecretCipher } from './crypto/secret-cipher';
import { LockoutPolicy } from './lockout-policy';
import { QrCodeRenderer } from './qr-code';
import { SpeakeasyTotpProvider, TotpProvider } from './totp/totp.provider';
import { CodeVerificationService } from './code-verification.service';
import { ConfigSecrets } from './config-secrets';
import { KeyUsageReporter } from './key-usage.reporter';
import { TwoFactorConfigRepository } from './two-factor-config.repository';
import { TwoFactorConfigService } from './two-factor-config.service';
import { TwoFactorSessionService } from './two-factor-session.service';
import { SessionExpirySweeper } from './session-expiry.sweeper';

/**
 * The core: TOTP (the only speakeasy user), secret encryption, backup codes, QR images, and the
 * per-user 2FA rules: TwoFactorConfigService (administration), CodeVerificationService (login and reset)
 * over TwoFactorConfigRepository, the only code that touches the 2FA tables.
 */
@Module({
  providers: [
    { provide: TotpProvider, useClass: SpeakeasyTotpProvider },
    { provide: Clock, useClass: SystemClock },
    {
      provide: LockoutPolicy,
      inject: [lockoutConfig.KEY],
      useFactory: (lockout: ConfigType<typeof lockoutConfig>) => new LockoutPolicy(lockout),
    },
    SecretCipher,
    ConfigSecrets,
    BackupCodes,
    QrCodeRenderer,
    TwoFactorConfigRepository,
    TwoFactorConfigService,
    CodeVerificationService,
    TwoFactorSessionService,
    SessionExpirySweeper,
    AuditQueryService,
    KeyUsageReporter,
  ],
  exports: [
    TotpProvider,
    Clock,
    SecretCipher,
    BackupCodes,
    QrCodeRenderer,
    TwoFactorConfigService,
    CodeVerificationService,
    TwoFactorSessionService,
    AuditQueryService,
  ],
})
export class TwoFactorModule {}
