import { Response } from 'supertest';

/** Asserts a status, showing the body when it differs. */
export function expectStatus(res: Response, status: number): Response {
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status });
  return res;
}

/** The fieldName of every error in the response's error envelope, in order. */
export function fieldNames(res: Response): string[] {
  return (res.body.responseStatus.errors as { fieldName: string }[]).map((error) => error.fieldName);
}
