import { Matches } from 'class-validator';

/** User ids (partneruserid, agentid, a session's user_id, a reset target): no control characters or lone surrogates. */
const SUBJECT_ID = /^[^\p{Cc}\p{Cs}]{1,128}$/u;

/** A user-id field: 1..128 characters without control characters (the length is checked by its own decorators). */
export function IsSubjectIdText(): PropertyDecorator {
  return Matches(SUBJECT_ID, { message: '$property must not contain control characters' });
}
