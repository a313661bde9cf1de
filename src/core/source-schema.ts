import { z } from 'zod';

export const SOURCE_KINDS = ['events', 'profiles'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** Body of `POST /api/sources`. */
export const CreateSourceSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[\w .-]+$/, 'use letters, digits, spaces, dots, dashes and underscores'),
  kind: z.enum(SOURCE_KINDS),
  description: z.string().max(1000).optional(),
});
export type CreateSource = z.output<typeof CreateSourceSchema>;

export interface Source {
  id: string;
  name: string;
  kind: SourceKind;
  description: string | null;
  writeKey: string;
  createdAt: Date;
}
