import { z } from 'zod';

/** The call types of the Segment tracking API. */
export const EVENT_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const jsonObject = z.record(z.string(), z.unknown());
const timestamp = z.union([z.string(), z.number()]).optional().nullable();

// Fields shared by every call. Unknown fields are kept (passthrough) so nothing a client sends is lost.
const common = {
  messageId: z.string().min(1).max(200).optional(),
  userId: z.union([z.string(), z.number()]).optional().nullable(),
  anonymousId: z.union([z.string(), z.number()]).optional().nullable(),
  timestamp,
  originalTimestamp: timestamp,
  sentAt: timestamp,
  context: jsonObject.optional().nullable(),
  integrations: jsonObject.optional().nullable(),
  properties: jsonObject.optional().nullable(),
  traits: jsonObject.optional().nullable(),
};

const withIdentity = <T extends z.ZodRawShape>(shape: T) =>
  z.looseObject({ ...common, ...shape }).refine((e) => isPresentId(e.userId) || isPresentId(e.anonymousId), {
    message: 'userId or anonymousId is required',
    path: ['userId'],
  });

const requiredId = (name: string) =>
  z.union([z.string().min(1), z.number()], { error: `${name} is required (a string or number)` });

function isPresentId(v: unknown): boolean {
  return (typeof v === 'string' && v.trim() !== '') || typeof v === 'number';
}

/** One schema per call type; `event` (track), `groupId` (group) and `previousId` (alias) are required. */
export const eventSchemas = {
  identify: withIdentity({}),
  track: withIdentity({
    event: z.string({ error: 'event is required (a string)' }).min(1, 'event is required').max(500),
  }),
  page: withIdentity({
    name: z.string().max(500).optional().nullable(),
    category: z.string().optional().nullable(),
  }),
  screen: withIdentity({
    name: z.string().max(500).optional().nullable(),
    category: z.string().optional().nullable(),
  }),
  group: withIdentity({ groupId: requiredId('groupId') }),
  alias: withIdentity({ previousId: requiredId('previousId') }),
} satisfies Record<EventType, z.ZodType>;

export type IncomingEvent = z.output<(typeof eventSchemas)[EventType]> & {
  type?: string;
  event?: string;
  name?: string | null;
  groupId?: string | number;
  previousId?: string | number;
};

/** An event as Sluice stores it: ids resolved, times corrected, JSON parts kept as objects. */
export interface StoredEvent {
  messageId: string;
  sourceId: string;
  type: EventType;
  userId: string | null;
  anonymousId: string | null;
  /** `event` for track, `name` for page and screen. */
  event: string | null;
  groupId: string | null;
  previousId: string | null;
  timestamp: Date;
  originalTimestamp: Date | null;
  sentAt: Date | null;
  receivedAt: Date;
  properties: Record<string, unknown>;
  traits: Record<string, unknown>;
  context: Record<string, unknown>;
}
