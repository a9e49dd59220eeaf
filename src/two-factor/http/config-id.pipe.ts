import { ParseUUIDPipe } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';

/** A config id in the path is a UUID, or it is a 400 naming `id`. */
export const CONFIG_ID = new ParseUUIDPipe({
  exceptionFactory: () => DomainError.invalidField('id', 'id must be a UUID'),
});
