import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Clock } from '../common/clock';
import { DomainError } from '../common/errors/domain-error';
import { totpConfig } from '../config/app.config';
import { BackupCodes } from '../two-factor/crypto/backup-codes';
import { QrCodeRenderer } from '../two-factor/qr-code';
import { decodeSecret, encodeNewSecret, SecretEncoding } from '../two-factor/totp/secret-encoding';
import { InvalidOtpauthLabelError, InvalidSecretError } from '../two-factor/totp/totp.errors';
import { TotpProvider } from '../two-factor/totp/totp.provider';
import { TotpParams } from '../two-factor/totp/totp.types';
import type {
  BackupCodeResponse,
  CreateSecretKeyRequest,
  GenerateSecretQuery,
  GenerateSecretResponse,
  GenerateTokenRequest,
  GenerateTokenResponse,
  SecretKeyResponse,
  TotpParamsRequest,
  VerifyCodeResponse,
  VerifyTokenRequest,
  VerifyTokenResponse,
} from './dto/toolkit.dto';

const DEFAULT_ACCOUNT = 'user';

/**
 * The stateless toolkit of seeds 002 and 003. It keeps nothing, so it cannot refuse a replayed
 * code: per-user verification with replay protection lives in the partner/agent login routes.
 */
@Injectable()
export class ToolkitService {
  constructor(
    private readonly totp: TotpProvider,
    private readonly clock: Clock,
    private readonly backupCodes: BackupCodes,
    private readonly qrCodes: QrCodeRenderer,
    @Inject(totpConfig.KEY) private readonly config: ConfigType<typeof totpConfig>,
  ) {}

  async createSecretKey(request: CreateSecretKeyRequest): Promise<SecretKeyResponse> {
    const key = this.totp.generateKey();
    let otpauthUrl: string;
    try {
      otpauthUrl = this.totp.otpauthUri({
        issuer: request.issuer ?? this.config.issuer,
        account: request.account ?? DEFAULT_ACCOUNT,
        key,
        params: this.config.defaults,
      });
    } catch (error) {
      if (error instanceof InvalidOtpauthLabelError) throw DomainError.invalidField(error.field, error.message);
      throw error;
    }
    return {
      secretKey: encodeNewSecret(key, 'base32'),
      qrcodeUrl: await this.qrCodes.toPngDataUrl(otpauthUrl),
      otpauthUrl,
    };
  }

  verifyCode(secretKey: string, code: string): VerifyCodeResponse {
    const params = this.config.defaults;
    const key = this.decode(secretKey, 'base32', 'secretKey');
    this.assertCodeFormat(code, params, 'code');
    const match = this.totp.verify(key, code, params, this.config.window, this.clock.now());
    return { result: match ? 'success' : 'fail' };
  }

  createBackupCode(): BackupCodeResponse {
    return { code: this.backupCodes.generate() };
  }

  generateSecret(query: GenerateSecretQuery): GenerateSecretResponse {
    return { secret: encodeNewSecret(this.totp.generateKey(query.length), query.encoding) };
  }

  generateToken(request: GenerateTokenRequest): GenerateTokenResponse {
    const params = this.paramsOf(request);
    const key = this.decode(request.secret, request.encoding ?? 'base32', 'secret');
    const now = this.clock.now();
    return { token: this.totp.codeAt(key, params, now), remaining: this.totp.secondsRemaining(params, now) };
  }

  verifyToken(request: VerifyTokenRequest): VerifyTokenResponse {
    const params = this.paramsOf(request);
    const key = this.decode(request.secret, request.encoding ?? 'base32', 'secret');
    this.assertCodeFormat(request.token, params, 'token');
    const now = this.clock.now();
    const match = this.totp.verify(key, request.token, params, this.config.window, now);
    const remaining = this.totp.secondsRemaining(params, now);
    return match ? { valid: true, remaining, delta: match.delta } : { valid: false, remaining };
  }

  /** Only the allowlisted fields are read: nothing else of the body can reach the TOTP provider. */
  private paramsOf(request: TotpParamsRequest): TotpParams {
    const defaults = this.config.defaults;
    return {
      algorithm: request.algorithm ?? defaults.algorithm,
      digits: request.digits ?? defaults.digits,
      period: request.period ?? defaults.period,
    };
  }

  private decode(secret: string, encoding: SecretEncoding, fieldName: string): Buffer {
    try {
      return decodeSecret(secret, encoding);
    } catch (error) {
      if (error instanceof InvalidSecretError) {
        throw DomainError.invalidField(
          fieldName,
          `${fieldName} is not a valid ${encoding} secret: ${error.reason}`,
          'InvalidSecret',
        );
      }
      throw error;
    }
  }

  private assertCodeFormat(code: string, params: TotpParams, fieldName: string): void {
    if (!this.totp.isWellFormedCode(code, params.digits)) {
      throw DomainError.invalidField(
        fieldName,
        `${fieldName} must be a string of exactly ${params.digits} digits`,
        'InvalidCode',
      );
    }
  }
}
