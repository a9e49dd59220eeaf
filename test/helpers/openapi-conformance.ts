import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { OpenAPIObject } from '@nestjs/swagger';

/**
 * Judges an answer by the OpenAPI document of the app that gave it: the status must be documented for
 * the operation, and the body must match that response's schema, read strictly (an object may carry
 * no property the document does not name). Aliases are judged as the operation they serve.
 */

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, OpenApiResponse> }>>;
  components?: unknown;
}

interface OpenApiResponse {
  content?: Record<string, { schema?: unknown }>;
}

/** The undocumented alias prefixes and paths, and the documented ones they serve (see each controller). */
const ALIASES: [RegExp, string][] = [
  [/^\/partnerglobal\/2faConfig(?=\/|$)/, '/partnerglobalapi/2faConfig'],
  [/^\/global\/2faConfig(?=\/|$)/, '/globalapi/2faConfig'],
  [/^\/global\/2fa:verify$/, '/loginapi/2fa:verify'],
  [/^\/2fa\/code$/, '/2fa/codes'],
];

interface Route {
  template: string;
  pattern: RegExp;
  /** Literal characters: the most specific template wins. */
  literalLength: number;
}

export interface Answer {
  status: number;
  contentType: string | undefined;
  /** The parsed JSON body, when the answer is JSON. */
  body: unknown;
  text: string;
}

export class OpenApiConformance {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly routes: Route[];
  private readonly validators = new Map<string, ValidateFunction>();

  private readonly document: OpenApiDocument;

  constructor(document: OpenAPIObject) {
    this.document = document as unknown as OpenApiDocument;
    addFormats(this.ajv);
    this.ajv.addSchema(closedObjects(structuredClone(document)), 'openapi');
    this.routes = Object.keys(document.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
      literalLength: template.replace(/\{[^}]+\}/g, '').length,
    }));
  }

  /** What is wrong with this answer to `method url`, or undefined (also for requests outside the document). */
  violation(method: string, url: string, answer: Answer): string | undefined {
    // The path as sent: URL would resolve dot segments the server does not.
    const template = this.templateOf(url.replace(/^[a-z]+:\/\/[^/]+/i, '').split(/[?#]/)[0]);
    const verb = method.toLowerCase();
    const operation = template === undefined ? undefined : this.document.paths[template][verb];
    if (!operation) return undefined;
    const where = `${method.toUpperCase()} ${template} answered ${answer.status}`;
    const response = operation.responses[String(answer.status)];
    if (!response) {
      const documented = Object.keys(operation.responses).join(', ');
      return `${where}, a status the OpenAPI document does not list (${documented}): ${answer.text.slice(0, 300)}`;
    }
    const mediaTypes = Object.keys(response.content ?? {});
    if (mediaTypes.length === 0) {
      return answer.text === '' ? undefined : `${where} with a body the document does not describe`;
    }
    const mediaType = mediaTypes.find((type) => answer.contentType?.startsWith(type));
    if (!mediaType) return `${where} with Content-Type ${answer.contentType}, documented: ${mediaTypes.join(', ')}`;
    if (mediaType !== 'application/json') return undefined;
    const validate = this.validatorOf(template!, verb, String(answer.status));
    if (validate(answer.body)) return undefined;
    return `${where}: the body does not match the document: ${this.ajv.errorsText(validate.errors)}\n${answer.text.slice(0, 500)}`;
  }

  private templateOf(rawPath: string): string | undefined {
    let path = rawPath.replace(/%3a/gi, ':').replace(/(.)\/+$/, '$1');
    for (const [alias, target] of ALIASES) path = path.replace(alias, target);
    const matches = this.routes.filter((route) => route.pattern.test(path));
    matches.sort((a, b) => b.literalLength - a.literalLength);
    return matches[0]?.template;
  }

  private validatorOf(template: string, verb: string, status: string): ValidateFunction {
    const pointer = ['paths', template, verb, 'responses', status, 'content', 'application/json', 'schema']
      .map((segment) => segment.replace(/~/g, '~0').replace(/\//g, '~1'))
      .join('/');
    const key = `openapi#/${pointer}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.getSchema(key);
      if (!validate) throw new Error(`no schema at ${key}`);
      this.validators.set(key, validate);
    }
    return validate;
  }
}

/** Every object schema that names its properties is closed: a property the document does not name fails. */
function closedObjects<T>(node: T): T {
  if (Array.isArray(node)) {
    node.forEach(closedObjects);
  } else if (node !== null && typeof node === 'object') {
    const schema = node as Record<string, unknown>;
    if (schema.properties && typeof schema.properties === 'object' && schema.additionalProperties === undefined) {
      schema.additionalProperties = false;
    }
    Object.values(schema).forEach(closedObjects);
  }
  return node;
}
