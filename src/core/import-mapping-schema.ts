import { z } from 'zod';
import { EVENT_TYPES } from './event-schema.js';

/** Types a mapped column is converted to; a value that does not convert rejects its row. */
export const FIELD_TYPES = ['string', 'number', 'integer', 'boolean', 'date', 'timestamp'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

const name = z.string().regex(/^[A-Za-z_][\w.-]*$/, 'use letters, digits, dots, dashes and underscores');
const namespace = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'an identifier namespace is lowercase, e.g. email or loyalty_id');
const column = z.string().min(1, 'a column name is required');

/** A column reference: `"Email"`, or `{ "column": "Points", "type": "integer" }`. */
export const ColumnSpecSchema = z.union([
  column,
  z.object({
    column,
    type: z.enum(FIELD_TYPES).default('string'),
    /** For `timestamp` and `date`: a pattern such as `M/d/yyyy H:mm` (default ISO-8601). */
    format: z.string().optional(),
  }),
]);
export type ColumnSpec = z.output<typeof ColumnSpecSchema>;

/** How a profile file's columns become identifiers and attributes. */
export const ProfileMappingSchema = z.object({
  kind: z.literal('profiles'),
  /** Column with a stable record id; without one, records are numbered by row within the file. */
  recordId: column.optional(),
  identifiers: z.record(namespace, z.union([column, z.array(column).min(1)])),
  attributes: z.record(name, ColumnSpecSchema).default({}),
});

/** How an event file's columns become Segment-style events. */
export const EventMappingSchema = z.object({
  kind: z.literal('events'),
  type: z.enum(EVENT_TYPES).default('track'),
  /** The event name: a constant (`{ "value": "Order Completed" }`) or a column. */
  event: z.union([z.object({ value: z.string().min(1) }), z.object({ column })]).optional(),
  messageId: column.optional(),
  userId: column.optional(),
  anonymousId: column.optional(),
  timestamp: ColumnSpecSchema.optional(),
  properties: z.record(name, ColumnSpecSchema).default({}),
  traits: z.record(name, ColumnSpecSchema).default({}),
});

export const ImportMappingSchema = z.discriminatedUnion('kind', [ProfileMappingSchema, EventMappingSchema]);
export type ImportMapping = z.output<typeof ImportMappingSchema>;
export type ProfileMapping = z.output<typeof ProfileMappingSchema>;
export type EventMapping = z.output<typeof EventMappingSchema>;

export const IMPORT_FORMATS = ['csv', 'tsv', 'ndjson', 'parquet'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
