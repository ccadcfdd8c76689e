import { Ajv, _, str, type KeywordDefinition, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/**
 * `maxBytes`: a string's length in UTF-8 bytes, at most the given number. maxLength counts characters; bcrypt reads
 * bytes (72 characters of non-ASCII text are up to 288 of them).
 */
const maxBytes: KeywordDefinition = {
  keyword: 'maxBytes',
  type: 'string',
  schemaType: 'number',
  code: (cxt) => cxt.fail(_`Buffer.byteLength(${cxt.data}, 'utf8') > ${cxt.schema}`),
  error: {
    message: ({ schemaCode }) => str`must NOT have more than ${schemaCode} bytes in UTF-8`,
    params: ({ schemaCode }) => _`{limit: ${schemaCode}}`,
  },
};

/**
 * Two validators: bodies are JSON and are checked as sent (no type coercion, unknown fields rejected,
 * never silently dropped); path, query and headers arrive as strings and are coerced to their types.
 */
const common: Options = { allErrors: false, removeAdditional: false, useDefaults: true, strict: false };
const strict = addFormats(new Ajv({ ...common, coerceTypes: false }), ['email', 'date-time']).addKeyword(maxBytes);
const coercing = addFormats(new Ajv({ ...common, coerceTypes: true }), ['email', 'date-time']).addKeyword(maxBytes);

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? strict : coercing).compile(schema);
