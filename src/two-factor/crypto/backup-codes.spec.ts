import { randomBytes } from 'node:crypto';
import { BackupCodes } from './backup-codes';

const keyA = randomBytes(32);
const keyB = randomBytes(32);

describe(BackupCodes.name, () => {
  const codes = new BackupCodes({ encryptionKeys: [keyA] });

  it('generates ten distinct codes of the form XXXXX-XXXXX in Crockford base32', () => {
    const set = codes.generateSet();
    expect(set).toHaveLength(10);
    expect(new Set(set).size).toBe(10);
    for (const code of set) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
  });

  it('forgives case, dashes and spaces, and nothing else', () => {
    expect(codes.normalize('abcde-fghjk')).toBe('ABCDEFGHJK');
    expect(codes.normalize(' ABCDE FGHJK ')).toBe('ABCDEFGHJK');
    expect(codes.normalize('ABCDE-FGHJ')).toBeNull();
    expect(codes.normalize('ABCDE-FGHJI')).toBeNull(); // I is not in the alphabet
    expect(codes.normalize('ＡBCDE-FGHJK')).toBeNull(); // fullwidth letter
    expect(codes.normalize('123456')).toBeNull();
  });

  it('refuses non-ASCII text that upper-cases to a code (long s, sharp s, ligatures, fullwidth digits)', () => {
    expect(codes.normalize('abcds-fghjk')).toBe('ABCDSFGHJK');
    for (const lookalike of [
      'abcdſ-fghjk',
      'abcß-fghjk',
      'abcﬅ-fghjk',
      'ABCDE-FGHJ１',
      'ABCDE\u00a0FGHJK',
      'ABCDE-FGHJK\u200b',
    ]) {
      expect({ lookalike, normalized: codes.normalize(lookalike) }).toEqual({ lookalike, normalized: null });
    }
  });

  it('hashes deterministically, bound to the owner, without the code in the hash', () => {
    const hash = codes.hash('ABCDEFGHJK', 'config-1');
    expect(codes.hash('ABCDEFGHJK', 'config-1')).toBe(hash);
    expect(codes.hash('ABCDEFGHJK', 'config-2')).not.toBe(hash);
    expect(codes.hash('ABCDEFGHJM', 'config-1')).not.toBe(hash);
    expect(hash).not.toContain('ABCDEFGHJK');
  });

  it('finds a code hashed under an older key after key rotation', () => {
    const stored = codes.hash('ABCDEFGHJK', 'config-1');
    const rotated = new BackupCodes({ encryptionKeys: [keyB, keyA] });
    expect(rotated.lookupHashes('ABCDEFGHJK', 'config-1')).toContain(stored);
    expect(rotated.hash('ABCDEFGHJK', 'config-1')).not.toBe(stored);
  });
});
