import { ArgumentMetadata, Type, ValidationPipe } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, ValidationArguments, ValidationTypes } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

type Condition = (object: object, value: unknown) => boolean;
type Check = (value: unknown, args: ValidationArguments) => unknown;

/** A DTO's rules, read once from class-validator's metadata: per property, its conditions and checks. */
interface CompiledRules {
  targetName: string;
  properties: Map<string, { conditions: Condition[]; checks: { check: Check; constraints: unknown[] }[] }>;
}

/**
 * The rules of `metatype` as class-validator would run them for the pipe's options (no groups), or null
 * when one of them is of a kind only class-validator's executor runs (nested objects, `each`, groups,
 * async constraints, @Allow, @IsDefined...): such a DTO always takes the full path.
 */
export function compileRules(metatype: Type): CompiledRules | null {
  const storage = getMetadataStorage();
  const metadatas: ValidationMetadata[] = storage.getTargetValidationMetadatas(
    metatype,
    undefined as unknown as string,
    false,
    false,
    undefined,
  );
  if (metadatas.length === 0) return null;
  const properties: CompiledRules['properties'] = new Map();
  for (const metadata of metadatas) {
    if (metadata.each || metadata.groups?.length || metadata.always !== undefined || metadata.validateIf) return null;
    let property = properties.get(metadata.propertyName);
    if (!property) {
      property = { conditions: [], checks: [] };
      properties.set(metadata.propertyName, property);
    }
    if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) {
      property.conditions.push(metadata.constraints[0] as Condition);
    } else if (metadata.type === ValidationTypes.CUSTOM_VALIDATION) {
      for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
        if (constraint.async) return null;
        const instance = constraint.instance as { validate: Check };
        property.checks.push({ check: instance.validate.bind(instance), constraints: metadata.constraints });
      }
    } else {
      return null;
    }
  }
  return { targetName: metatype.name, properties };
}

/**
 * True when class-validator, given `entity` and the pipe's options (whitelist, forbidNonWhitelisted,
 * forbidUnknownValues), would report no error. Only flat entities: a property holding an object
 * or an array (which class-transformer may have built into something else) answers false.
 */
export function passes(rules: CompiledRules, entity: Record<string, unknown>): boolean {
  for (const key of Object.keys(entity)) {
    if (!rules.properties.has(key)) return false; // not whitelisted: the full path names it
    const value = entity[key];
    if (value !== null && typeof value === 'object') return false;
  }
  for (const [property, { conditions, checks }] of rules.properties) {
    const value = entity[property];
    if (!conditions.every((condition) => condition(entity, value))) continue;
    for (const { check, constraints } of checks) {
      const args: ValidationArguments = { targetName: rules.targetName, property, object: entity, value, constraints };
      if (check(value, args) !== true) return false;
    }
  }
  return true;
}

/**
 * The global ValidationPipe with a fast path for bodies that pass. class-validator finds and groups a
 * DTO's rules again on every call (a walk over the metadata of every class) and builds an error object
 * per property even when all pass: about a tenth of the CPU of a stateless verify. Here the rules are
 * read once per DTO, and a body is transformed by class-transformer as before and checked by the same
 * constraint functions with the same arguments; anything short of a pass (or a DTO with rules the fast
 * path does not run) goes through ValidationPipe itself, which then builds the 400 exactly as before.
 */
export class CompiledValidationPipe extends ValidationPipe {
  private readonly rulesByType = new Map<Type, CompiledRules | null>();

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const metatype = metadata.metatype;
    if (this.fastPathApplies(metadata) && metatype && isPlainObject(value)) {
      let rules = this.rulesByType.get(metatype);
      if (rules === undefined) {
        rules = compileRules(metatype);
        this.rulesByType.set(metatype, rules);
      }
      if (rules) {
        this.stripProtoKeys(value);
        const entity = plainToInstance(metatype, value, this.transformOptions) as unknown;
        if (isObject(entity) && entity.constructor === metatype && passes(rules, entity as Record<string, unknown>)) {
          return entity;
        }
      }
    }
    return super.transform(value, metadata);
  }

  /** Bodies, validated and transformed, with the rules selected as without groups (compileRules). */
  private fastPathApplies(metadata: ArgumentMetadata): boolean {
    const { groups, always, strictGroups } = this.validatorOptions;
    return (
      metadata.type === 'body' &&
      this.isTransformEnabled &&
      this.expectedType === undefined &&
      !groups?.length &&
      !always &&
      !strictGroups &&
      this.toValidate(metadata)
    );
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isObject(value) || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
