import { Type } from '@nestjs/common';

/**
 * A DTO class whose field names are only known at run time (partneruserid vs agentid). The decorators
 * are the ordinary class-validator / Swagger ones, applied to the generated class.
 */
export function defineDto(name: string, fields: Record<string, PropertyDecorator[]>, base?: Type): Type {
  const Dto = base ? class extends base {} : class {};
  Object.defineProperty(Dto, 'name', { value: name });
  for (const [field, decorators] of Object.entries(fields)) {
    for (const decorate of decorators) decorate(Dto.prototype, field);
  }
  return Dto;
}
