import { randomUUID } from 'node:crypto';
import {
  header,
  type ScriptedAnswer,
  type SeenRequest,
  startVendorServer,
  type VendorServer,
} from './vendor-server.js';

/** Mailchimp's list stand-in, with a way to make Mailchimp refuse some addresses. */
export interface MailchimpServer extends VendorServer {
  /** These addresses get a per-member error, as Mailchimp answers for contacts in a compliance state. */
  refuseEmails(emails: readonly string[]): void;
  /** Every member's status, subscribed or not. */
  statuses(): Record<string, string>;
}

const STATUSES = new Set(['subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional']);
const MAX_MEMBERS = 500;

/**
 * Starts a stand-in for Mailchimp Marketing API 3.0: `GET /3.0/lists/{list_id}` and the batch
 * subscribe-or-unsubscribe call `POST /3.0/lists/{list_id}` (`{ members: [{ email_address, status,
 * merge_fields }], update_existing }`, at most 500 members), HTTP Basic auth with the API key as
 * password. `audience()` is the subscribed addresses; `received()` counts members whose status
 * changed, so a resent batch counts once.
 */
export async function startMailchimpServer(options: {
  apiKey: string;
  listId: string;
}): Promise<MailchimpServer> {
  const members = new Map<string, string>();
  const refused = new Set<string>();
  let received = 0;
  const listPath = `/3.0/lists/${options.listId}`;

  const handle = (request: SeenRequest): ScriptedAnswer => {
    if (!authorized(request, options.apiKey)) {
      return problem(
        401,
        'API Key Invalid',
        "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
      );
    }
    if (request.path !== listPath)
      return problem(404, 'Resource Not Found', 'The requested resource could not be found.');
    if (request.method === 'GET')
      return {
        status: 200,
        body: {
          id: options.listId,
          name: 'Sluice test audience',
          stats: { member_count: count('subscribed') },
        },
      };
    if (request.method !== 'POST')
      return problem(405, 'Method Not Allowed', `${request.method} is not allowed here.`);
    const body = request.body as { members?: unknown; update_existing?: unknown } | undefined;
    const batch = body?.members;
    if (!Array.isArray(batch) || batch.length === 0)
      return invalid('members', 'Required fields were not provided: members');
    if (batch.length > MAX_MEMBERS)
      return invalid('members', `You may only subscribe or update ${MAX_MEMBERS} members at a time`);
    if (body?.update_existing !== undefined && typeof body.update_existing !== 'boolean')
      return invalid('update_existing', 'Must be a boolean');

    const created: unknown[] = [];
    const updated: unknown[] = [];
    const errors: { email_address: string; error: string; error_code: string }[] = [];
    for (const [i, member] of batch.entries()) {
      const m = member as { email_address?: unknown; status?: unknown; merge_fields?: unknown };
      if (typeof m.email_address !== 'string' || !STATUSES.has(String(m.status))) {
        return invalid(`members.${i}`, 'Each member needs email_address and a valid status');
      }
      if (m.merge_fields !== undefined && !isStringRecord(m.merge_fields))
        return invalid(`members.${i}.merge_fields`, 'Must be an object of strings');
      const email = m.email_address.trim().toLowerCase();
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
        errors.push({
          email_address: m.email_address,
          error: 'Please provide a valid email address.',
          error_code: 'ERROR_GENERIC',
        });
        continue;
      }
      if (refused.has(email)) {
        const error = `${m.email_address} is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.`;
        errors.push({ email_address: m.email_address, error, error_code: 'ERROR_GENERIC' });
        continue;
      }
      const before = members.get(email);
      if (before !== undefined && body?.update_existing !== true) {
        errors.push({
          email_address: m.email_address,
          error: `${m.email_address} is already a list member.`,
          error_code: 'ERROR_CONTACT_EXISTS',
        });
        continue;
      }
      const status = String(m.status);
      if (before !== status) received += 1;
      members.set(email, status);
      (before === undefined ? created : updated).push({ id: randomUUID(), email_address: email, status });
    }
    return {
      status: 200,
      body: {
        new_members: created,
        updated_members: updated,
        errors,
        total_created: created.length,
        total_updated: updated.length,
        error_count: errors.length,
      },
    };
  };

  const count = (status: string) => [...members.values()].filter((s) => s === status).length;
  const server = await startVendorServer(handle, {
    audience: () => [...members].filter(([, s]) => s === 'subscribed').map(([email]) => email),
    received: () => received,
  });
  return {
    ...server,
    refuseEmails: (emails) => {
      for (const e of emails) refused.add(e.toLowerCase());
    },
    statuses: () => Object.fromEntries(members),
  };
}

function authorized(request: SeenRequest, apiKey: string): boolean {
  const basic = /^Basic (.+)$/.exec(header(request, 'authorization') ?? '')?.[1];
  if (!basic) return false;
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1) === apiKey;
}

/** Mailchimp's error document (RFC 7807 problem details). */
function problem(status: number, title: string, detail: string, errors?: unknown[]): ScriptedAnswer {
  return {
    status,
    body: {
      type: 'https://mailchimp.com/developer/marketing/docs/errors/',
      title,
      status,
      detail,
      instance: randomUUID(),
      ...(errors ? { errors } : {}),
    },
  };
}

function invalid(field: string, message: string): ScriptedAnswer {
  return problem(400, 'Invalid Resource', 'The resource submitted could not be validated.', [
    { field, message },
  ]);
}

function isStringRecord(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string')
  );
}
