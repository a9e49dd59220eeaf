import { TextField } from './fields';

/**
 * User ids (partneruserid, agentid, a session's user_id, a reset target): no control characters and no
 * lone surrogates. Spelt without `\p{...}` so that the OpenAPI `pattern` means the same to validators that
 * compile it without the `u` flag (a surrogate pair is then matched by the second alternative).
 */
export const SUBJECT_ID_RULES = {
  maxLength: 128,
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  pattern: /^(?:[^\u0000-\u001f\u007f-\u009f\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff]){1,128}$/,
  patternMessage: '$property must not contain control characters',
};

/** A user-id field: 1..128 characters without control characters. */
export function SubjectIdField(doc: {
  description: string;
  example?: string;
  optional?: boolean;
  required?: boolean;
  deprecated?: boolean;
}): PropertyDecorator {
  return TextField({ ...SUBJECT_ID_RULES, ...doc });
}
