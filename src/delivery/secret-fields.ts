import { z } from 'zod';

/**
 * A config field that holds a credential: encrypted at rest, never returned by the API, never
 * logged. Marked with JSON Schema's `writeOnly`, so the OpenAPI document and the UI know it too.
 */
export function secret(description: string) {
  return z.string().min(1).meta({ writeOnly: true, description });
}

/** The top-level fields of a config schema made with `secret()`. */
export function secretFieldsOf(schema: z.ZodType): string[] {
  const shape = objectShape(schema);
  if (!shape) return [];
  return Object.entries(shape)
    .filter(([, field]) => isSecret(field))
    .map(([name]) => name);
}

function isSecret(field: z.ZodType): boolean {
  let current: z.ZodType | undefined = field;
  while (current) {
    if (current.meta()?.writeOnly === true) return true;
    const def = current._zod.def as { innerType?: z.ZodType };
    current = def.innerType;
  }
  return false;
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let current: z.ZodType | undefined = schema;
  while (current) {
    if (current instanceof z.ZodObject) return current.shape as Record<string, z.ZodType>;
    const def = current._zod.def as { innerType?: z.ZodType; in?: z.ZodType };
    current = def.innerType ?? def.in;
  }
  return undefined;
}
