/** An entity as the field/value list of its Redis hash: every value a string, undefined fields left out. */
export const hashFields = (values: object): string[] =>
  Object.entries(values)
    .filter(([, value]) => value !== undefined)
    .flatMap(([field, value]) => [field, String(value)]);
