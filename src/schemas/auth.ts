import { Type, type Static } from '@sinclair/typebox';
import { UserSchema } from './users.js';

export const LoginBodySchema = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 32 }), password: Type.String({ minLength: 1, maxLength: 72 }) },
  { additionalProperties: false },
);

export const LoginResponseSchema = Type.Object({
  token: Type.String(),
  expiresIn: Type.Integer({ description: 'Seconds until the token expires' }),
  user: Type.Ref(UserSchema),
});

export type LoginBody = Static<typeof LoginBodySchema>;
