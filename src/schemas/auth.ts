import { Type, type Static } from '@sinclair/typebox';
import { UserSchema } from './users.js';

// Any password is judged, even one no account can have (over 72 bytes): it is answered like every wrong password,
// so the answer tells nothing new. 1024 only bounds the body.
export const LoginBodySchema = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 32 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export const LoginResponseSchema = Type.Object({
  token: Type.String(),
  expiresIn: Type.Integer({ description: 'Seconds until the token expires' }),
  user: Type.Ref(UserSchema),
});

export type LoginBody = Static<typeof LoginBodySchema>;
