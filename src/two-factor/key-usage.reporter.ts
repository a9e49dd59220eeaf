import { Injectable } from '@nestjs/common';
import { Metrics } from '../common/metrics/metrics';
import { SecretCipher } from './crypto/secret-cipher';
import { TwoFactorConfigRepository } from './two-factor-config.repository';

/** Reports the TOTP secrets and unused backup codes per encryption key to /metrics (twofa_encrypted_rows). */
@Injectable()
export class KeyUsageReporter {
  constructor(metrics: Metrics, configs: TwoFactorConfigRepository, cipher: SecretCipher) {
    metrics.addKeyUsageSource(async () =>
      (await configs.rowsPerKeyId()).map((usage) => ({ ...usage, key: cipher.keyPlaceOf(usage.keyId) })),
    );
  }
}
