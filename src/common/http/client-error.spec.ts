import type { Socket } from 'node:net';
import { replyToClientError } from './client-error';

/** What replyToClientError wrote to a socket, parsed back into status, headers and body. */
function answerTo(code: string): { status: number; headers: string; body: unknown; destroyed: boolean } {
  let written = '';
  let destroyed = false;
  const socket = {
    destroyed: false,
    writable: true,
    write: (text: string) => (written += text),
    destroy: () => (destroyed = true),
  } as unknown as Socket;
  replyToClientError(Object.assign(new Error('refused'), { code }), socket);
  const [head, body] = written.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head, body: JSON.parse(body), destroyed };
}

describe(replyToClientError.name, () => {
  it('answers a request not received in time with 408 and the error envelope', () => {
    const answer = answerTo('ERR_HTTP_REQUEST_TIMEOUT');
    expect(answer.status).toBe(408);
    expect(answer.body).toEqual({
      responseStatus: {
        errorCode: 'ValidationError',
        message: 'The request was not received within the time allowed',
        errors: [
          {
            errorCode: 'RequestTimeout',
            fieldName: 'request',
            message: 'The request was not received within the time allowed',
          },
        ],
      },
    });
    expect(answer.headers).toMatch(/\r\nX-Request-Id: [0-9a-f-]{36}\r\n/);
    expect(answer.destroyed).toBe(true);
  });

  it('answers oversized headers with 431 naming headers, and a malformed request with 400', () => {
    expect(answerTo('HPE_HEADER_OVERFLOW')).toMatchObject({
      status: 431,
      body: { responseStatus: { errors: [{ fieldName: 'headers' }] } },
    });
    expect(answerTo('HPE_INVALID_METHOD')).toMatchObject({
      status: 400,
      body: { responseStatus: { errors: [{ fieldName: 'request' }] } },
    });
  });
});
