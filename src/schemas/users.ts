import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, TimestampSchema } from './common.js';

export const UsernameSchema = Type.String({ minLength: 3, maxLength: 32, pattern: '^[A-Za-z0-9_.-]+$' });
/** bcrypt reads a password's first 72 bytes (UTF-8) and silently ignores the rest. */
export const MAX_PASSWORD_BYTES = 72;
// Refused rather than truncated: `maxBytes` (src/validation.ts) counts UTF-8 bytes, as bcrypt does; 72 characters
// of non-ASCII text are up to 288 bytes.
export const PasswordSchema = Type.String({
  minLength: 8,
  maxLength: MAX_PASSWORD_BYTES,
  maxBytes: MAX_PASSWORD_BYTES,
  description: `8 or more characters, at most ${MAX_PASSWORD_BYTES} bytes in UTF-8 (what bcrypt reads)`,
});
export const EmailSchema = Type.String({ format: 'email', maxLength: 254 });
export const RoleSchema = Type.Union([Type.Literal('customer'), Type.Literal('admin')]);

export const UserSchema = Type.Object(
  {
    id: IdSchema,
    username: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    role: RoleSchema,
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  },
  { $id: 'User', additionalProperties: false },
);

export const RegisterBodySchema = Type.Object(
  { username: UsernameSchema, password: PasswordSchema, email: Type.Optional(EmailSchema) },
  { additionalProperties: false },
);

export const UpdateUserBodySchema = Type.Object(
  {
    username: Type.Optional(UsernameSchema),
    password: Type.Optional(PasswordSchema),
    email: Type.Optional(Type.Union([EmailSchema, Type.Null()])),
    role: Type.Optional(RoleSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);

export type User = Static<typeof UserSchema>;
export type Role = Static<typeof RoleSchema>;
export type RegisterBody = Static<typeof RegisterBodySchema>;
export type UpdateUserBody = Static<typeof UpdateUserBodySchema>;
