import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/**
 * Two validators: bodies are JSON and are checked as sent (no type coercion, unknown fields rejected,
 * never silently dropped); path, query and headers arrive as strings and are coerced to their types.
 */
const common: Options = { allErrors: false, removeAdditional: false, useDefaults: true, strict: false };
const strict = addFormats(new Ajv({ ...common, coerceTypes: false }), ['email', 'date-time']);
const coercing = addFormats(new Ajv({ ...common, coerceTypes: true }), ['email', 'date-time']);

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? strict : coercing).compile(schema);
