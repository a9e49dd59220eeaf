import { reportStartFailure } from './start-failure';

/** The lines reportStartFailure writes to stderr (fd 2, synchronously through sonic-boom's fs.writeSync). */
function linesWritten(report: () => void): Record<string, unknown>[] {
  const fs = jest.requireActual<typeof import('node:fs')>('fs');
  let written = '';
  const writeSync = jest.spyOn(fs, 'writeSync').mockImplementation((fd: number, data: string | Buffer) => {
    if (fd !== 2) throw new Error(`unexpected write to fd ${fd}`);
    written += String(data);
    return Buffer.byteLength(data);
  });
  try {
    report();
  } finally {
    writeSync.mockRestore();
  }
  return written
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe(reportStartFailure.name, () => {
  it("logs an unexpected error's name, code and stack, not the other properties that may hold secrets", () => {
    // As `new URL` throws: its `input` is the whole URL it was given.
    const error = Object.assign(new TypeError('Invalid URL'), {
      code: 'ERR_INVALID_URL',
      input: 'mysql://twofa:se#cret@db.internal:3306/twofa',
      parameters: ['another-secret'],
    });
    const lines = linesWritten(() => reportStartFailure('twofa', error));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 60,
      msg: 'twofa failed to start: Invalid URL',
      err: { name: 'TypeError', code: 'ERR_INVALID_URL', stack: expect.stringContaining('TypeError: Invalid URL') },
    });
    expect(JSON.stringify(lines)).not.toMatch(/se#cret|another-secret/);
  });

  it('names a value thrown that is not an Error', () => {
    const lines = linesWritten(() => reportStartFailure('twofa cluster', 'no worker'));
    expect(lines).toEqual([expect.objectContaining({ level: 60, msg: 'twofa cluster failed to start: no worker' })]);
  });
});
