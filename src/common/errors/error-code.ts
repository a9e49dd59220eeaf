/** Stable error words of the docs/api.md envelope, each with its one HTTP status. */
export enum ErrorCode {
  ValidationError = 'ValidationError',
  Unauthorized = 'Unauthorized',
  Forbidden = 'Forbidden',
  NotFound = 'NotFound',
  Conflict = 'Conflict',
  TooManyAttempts = 'TooManyAttempts',
  PayloadTooLarge = 'PayloadTooLarge',
  UnsupportedMediaType = 'UnsupportedMediaType',
  ServiceUnavailable = 'ServiceUnavailable',
  InternalError = 'InternalError',
}

export const HTTP_STATUS_OF = {
  [ErrorCode.ValidationError]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.TooManyAttempts]: 429,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.ServiceUnavailable]: 503,
  [ErrorCode.InternalError]: 500,
} as const satisfies Record<ErrorCode, number>;
