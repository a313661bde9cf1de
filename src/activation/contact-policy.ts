import { type ContactPolicy, ContactPolicySchema, durationMs, parseOrThrow } from '../core/index.js';
import type { Store } from '../store/index.js';

const SETTING = 'contact_policy';

/** Who an activation is about to contact on a channel, and for which run. */
export interface ContactRequest {
  profileIds: readonly string[];
  channel: string;
  activationId: string;
  runId: string;
  at: Date;
}

/**
 * The workspace-wide contact policy: frequency caps per channel and quiet hours in each profile's
 * time zone. `screen` says who must be held back; `record` logs the contacts made, which later
 * screens count. Campaigns, audience syncs and journeys all go through it.
 */
export class ContactPolicyService {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(): Promise<ContactPolicy> {
    return ContactPolicySchema.parse((await this.store.contacts.setting(SETTING)) ?? {});
  }

  async set(input: unknown): Promise<ContactPolicy> {
    const policy = parseOrThrow(ContactPolicySchema, input, 'contact policy');
    await this.store.contacts.putSetting(SETTING, policy, this.now());
    return policy;
  }

  /**
   * The profiles to hold back, each with why: `quiet_hours` (it is night where they are) or
   * `frequency_cap:<channel>:<max>/<amount><unit>` (they had that many contacts already).
   */
  async screen(
    request: Omit<ContactRequest, 'activationId' | 'runId'> & {
      /** Contacts on the channel not logged yet (made earlier in the same plan), one entry per contact. */
      alsoContacted?: readonly string[];
    },
  ): Promise<Map<string, string>> {
    const policy = await this.get();
    const held = new Map<string, string>();
    const quiet = policy.quietHours;
    if (quiet && (!quiet.channels || quiet.channels.includes(request.channel))) {
      const zones = await this.store.audienceSyncs.profileValues(request.profileIds, {
        attributes: [quiet.timeZoneAttribute],
        traits: [],
        namespaces: [],
      });
      const start = minutesOf(quiet.start);
      const end = minutesOf(quiet.end);
      for (const profileId of request.profileIds) {
        const zone = zones.get(profileId)?.get(quiet.timeZoneAttribute);
        const local = localMinutes(
          request.at,
          typeof zone === 'string' ? zone : quiet.defaultTimeZone,
          quiet.defaultTimeZone,
        );
        const inQuiet = start < end ? local >= start && local < end : local >= start || local < end;
        if (inQuiet) held.set(profileId, 'quiet_hours');
      }
    }
    for (const cap of policy.frequencyCaps.filter((c) => c.channel === request.channel)) {
      const open = request.profileIds.filter((p) => !held.has(p));
      const since = new Date(request.at.getTime() - durationMs(cap.per));
      const counts = await this.store.contacts.counts(open, cap.channel, since);
      for (const p of request.alsoContacted ?? []) counts.set(p, (counts.get(p) ?? 0) + 1);
      const reason = `frequency_cap:${cap.channel}:${cap.max}/${cap.per.amount}${cap.per.unit}`;
      for (const profileId of open) if ((counts.get(profileId) ?? 0) >= cap.max) held.set(profileId, reason);
    }
    return held;
  }

  async record(request: ContactRequest): Promise<void> {
    await this.store.contacts.record(
      request.profileIds.map((profileId) => ({
        profileId,
        channel: request.channel,
        activationId: request.activationId,
        runId: request.runId,
        at: request.at,
      })),
    );
  }
}

function minutesOf(clock: string): number {
  const [h, m] = clock.split(':').map(Number);
  return h! * 60 + m!;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** Minutes since local midnight at `at` in `zone` (the fallback zone when `zone` is not one). */
function localMinutes(at: Date, zone: string, fallback: string): number {
  let format = formats.get(zone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-GB', {
        timeZone: zone,
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      });
    } catch {
      return localMinutes(at, fallback, fallback);
    }
    formats.set(zone, format);
  }
  const parts = format.formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return part('hour') * 60 + part('minute');
}
