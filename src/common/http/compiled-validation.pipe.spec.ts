import { ArgumentMetadata, Type, ValidationPipe, ValidationPipeOptions } from '@nestjs/common';
import { IsOptional, ValidateNested } from 'class-validator';
import { DomainError } from '../errors/domain-error';
import { validationErrorFrom } from '../errors/validation-errors';
import { VerifyAgentCodeRequest } from '../../login/dto/verify-agent-code.dto';
import { VerifyPartnerUserCodeRequest } from '../../partner-login/dto/verify-partner-user-code.dto';
import { CreateSecretKeyRequest, VerifyTokenRequest } from '../../toolkit/dto/toolkit.dto';
import { UpdateConfigRequest } from '../../two-factor/http/config.dto';
import { TextField } from './fields';
import { CompiledValidationPipe, compileRules } from './compiled-validation.pipe';

/** The options of the app's global pipe (app.module.ts). */
const OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  exceptionFactory: validationErrorFrom,
};

const SECRET = 'KQ4GI6Z6OM6FIXSPPFOVOPTYGNZFCWD5NQSTS3TSMETDUMD2MNKQ';

class Inner {
  @TextField({ maxLength: 4 })
  name!: string;
}

class WithNested {
  @IsOptional()
  @ValidateNested()
  inner?: Inner;
}

/** Bodies per DTO: valid ones, and each way the full pipe refuses one. */
const CASES: [Type, unknown[]][] = [
  [
    VerifyAgentCodeRequest,
    [
      { agentid: 'agent-007', code: '081804' },
      { agentid: 'agent-007', code: '08180412' },
      { agentid: 'agent-007', code: '0818' },
      { agentid: 'agent-007', code: 81804 },
      { agentid: 'agent\u0000', code: '081804' },
      { agentid: '', code: '081804' },
      { agentid: 'a'.repeat(129), code: '081804' },
      { agentid: 'agent-007' },
      { agentid: 'agent-007', code: '081804', extra: 1 },
      { agentid: 'agent-007', code: '081804', constructor: 'x' },
      { agentid: { nested: true }, code: '081804' },
      { agentid: ['agent-007'], code: '081804' },
      { agentid: null, code: '081804' },
      {},
    ],
  ],
  [
    VerifyPartnerUserCodeRequest,
    [
      { partneruserid: 'p-1', code: '081804' },
      { partneruserid: 'p-1', code: 'abcdef' },
    ],
  ],
  [
    VerifyTokenRequest,
    [
      { secret: SECRET, token: '317729' },
      { secret: SECRET, token: '317729', algorithm: 'sha256', digits: 6, period: 30, encoding: 'base32' },
      { secret: SECRET, token: '317729', algorithm: 'MD5' },
      { secret: SECRET, token: '317729', digits: '6' },
      { secret: SECRET, token: '31772a' },
      { secret: SECRET, token: '317729', period: null },
      { token: '317729' },
    ],
  ],
  [CreateSecretKeyRequest, [{}, { account: 'alice@example.com' }, { account: 'a:b' }, { issuer: 7 }]],
  [UpdateConfigRequest, [{ rotateSecret: true }, { rotateSecret: false }, { enabled: false }, { enabled: 'no' }]],
  [WithNested, [{}, { inner: { name: 'ok' } }, { inner: { name: 'too long' } }]],
];

type Settled = { ok: true; value: unknown; type: unknown } | { ok: false; error: unknown };

/** What the API answers of a refusal: the DomainError's code, message and field errors. */
function refusal(error: unknown): unknown {
  const { name, code, message, errors } = error as DomainError;
  return { name, code, message, errors };
}

async function settle(pipe: ValidationPipe, body: unknown, metatype: Type): Promise<Settled> {
  const metadata: ArgumentMetadata = { type: 'body', metatype, data: undefined };
  try {
    // Each pipe gets its own copy, parsed as the app parses a body (the pipes may strip keys in place).
    const value: unknown = await pipe.transform(JSON.parse(JSON.stringify(body)), metadata);
    return { ok: true, value, type: (value as object)?.constructor };
  } catch (error) {
    return { ok: false, error: refusal(error) };
  }
}

describe('CompiledValidationPipe', () => {
  it.each(CASES)('answers every body of %p exactly as ValidationPipe does', async (metatype, bodies) => {
    const full = new ValidationPipe(OPTIONS);
    const compiled = new CompiledValidationPipe(OPTIONS);
    const fastPath = compileRules(metatype) !== null;
    for (const body of bodies) {
      const expected = await settle(full, body, metatype);
      const fullPath = jest.spyOn(ValidationPipe.prototype, 'transform');
      try {
        const actual = await settle(compiled, body, metatype);
        expect({ body, ...actual }).toEqual({ body, ...expected });
        // A body that passes never reaches class-validator's executor when the DTO's rules compile.
        expect({ body, fullPath: fullPath.mock.calls.length }).toEqual({
          body,
          fullPath: fastPath && expected.ok ? 0 : 1,
        });
      } finally {
        fullPath.mockRestore();
      }
    }
  });

  it('takes the fast path for valid bodies and leaves every refusal to ValidationPipe', async () => {
    const compiled = new CompiledValidationPipe(OPTIONS);
    const fullPath = jest.spyOn(ValidationPipe.prototype, 'transform');
    try {
      const metadata: ArgumentMetadata = { type: 'body', metatype: VerifyAgentCodeRequest, data: undefined };
      const accepted = await compiled.transform({ agentid: 'agent-007', code: '081804' }, metadata);
      expect(accepted).toBeInstanceOf(VerifyAgentCodeRequest);
      expect(fullPath).not.toHaveBeenCalled();

      await expect(compiled.transform({ agentid: 'agent-007', code: '0818' }, metadata)).rejects.toMatchObject({
        errors: expect.arrayContaining([
          expect.objectContaining({ fieldName: 'code', errorCode: 'Matches' }),
        ]) as unknown,
      });
      expect(fullPath).toHaveBeenCalledTimes(1);
    } finally {
      fullPath.mockRestore();
    }
  });

  it('compiles the rules of flat DTOs and leaves nested ones to class-validator', () => {
    expect(compileRules(VerifyAgentCodeRequest)?.properties.size).toBe(2);
    expect(compileRules(VerifyTokenRequest)?.properties.size).toBe(6);
    expect(compileRules(WithNested)).toBeNull();
  });
});
