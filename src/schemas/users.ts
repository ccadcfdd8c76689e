import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, TimestampSchema } from './common.js';

export const UsernameSchema = Type.String({ minLength: 3, maxLength: 32, pattern: '^[A-Za-z0-9_.-]+$' });
// bcrypt reads at most 72 bytes: a longer password would be silently truncated.
export const PasswordSchema = Type.String({ minLength: 8, maxLength: 72 });
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
