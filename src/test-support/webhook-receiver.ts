import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/** One request as the receiver saw it; `status` 0 means it dropped the connection without answering. */
export interface WebhookAttempt {
  id: string | undefined;
  /** When the request arrived (ms since the epoch). */
  at: number;
  status: number;
}

/** A message the receiver accepted: signature verified, first time it saw this `webhook-id`. */
export interface AcceptedWebhook {
  id: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the sender chose.
  body: any;
  receivedAt: number;
}

/**
 * A scripted answer. `status` 2xx: wait `delayMs`, then accept as usual (a slow receiver, which
 * may still count a message whose sender gave up waiting). `status` 0: wait, then drop the
 * connection without answering. Any other status: wait, then answer it without accepting.
 */
export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  delayMs?: number;
}

/** Called per request with its number (from 1, counting every request) and its `webhook-id`. */
export type WebhookResponder = (attempt: number, id: string | undefined) => ScriptedAnswer | undefined;

export interface WebhookReceiver {
  url: string;
  /** The `whsec_` secret the receiver verifies signatures with. */
  secret: string;
  /** Accepted messages in order, one per distinct `webhook-id`. */
  messages(): AcceptedWebhook[];
  /** Keys (`records[i][keyField]`) of every accepted `audience.add` minus `audience.remove`, applied in order; sorted. */
  audience(keyField: string): string[];
  /** Every request, refused ones included, in the order they were answered. */
  attempts(): WebhookAttempt[];
  /** Scripts the answers (undefined: accept every verified request). */
  respond(fn: WebhookResponder | undefined): void;
  /** Records in accepted audience messages, each message counted once however often it was resent. */
  recordsReceived(): number;
  close(): Promise<void>;
}

/** A fresh `whsec_` secret of 24 random bytes, the size Standard Webhooks senders commonly use. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/**
 * A real HTTP webhook receiver on 127.0.0.1 that verifies every request with the independent
 * `standardwebhooks` package (401 when it does not verify) and dedupes by `webhook-id`, so that
 * `messages()` is what a careful receiver processes exactly once. `port` reuses a port (to bring a
 * receiver back after `close()`); by default a free one is picked.
 */
export async function startWebhookReceiver(
  options: { secret?: string; port?: number } = {},
): Promise<WebhookReceiver> {
  const secret = options.secret ?? newWebhookSecret();
  const verifier = new Webhook(secret);
  const accepted: AcceptedWebhook[] = [];
  const seen = new Set<string>();
  const attempts: WebhookAttempt[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let responder: WebhookResponder | undefined;
  let requestCount = 0;

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  function accept(id: string | undefined, body: string, headers: Record<string, string>, at: number) {
    let parsed: unknown;
    try {
      parsed = verifier.verify(body, headers);
    } catch (err) {
      return err instanceof WebhookVerificationError ? 401 : 400;
    }
    if (id !== undefined && !seen.has(id)) {
      seen.add(id);
      accepted.push({ id, body: parsed, receivedAt: at });
    }
    return 200;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const at = Date.now();
    requestCount += 1;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = flatHeaders(req);
    const id = headers['webhook-id'];
    const scripted = responder?.(requestCount, id);
    if (scripted?.delayMs) await wait(scripted.delayMs);
    if (scripted && scripted.status === 0) {
      attempts.push({ id, at, status: 0 });
      req.socket.destroy();
      return;
    }
    const status =
      scripted && (scripted.status < 200 || scripted.status > 299)
        ? scripted.status
        : accept(id, body, headers, at);
    attempts.push({ id, at, status });
    res.writeHead(status, { 'content-type': 'application/json', ...scripted?.headers });
    res.end(JSON.stringify(status === 200 ? { ok: true } : { error: `status ${status}` }));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/hooks/sluice`,
    secret,
    messages: () => accepted.map((m) => ({ ...m })),
    audience(keyField) {
      const keys = new Set<string>();
      for (const { body } of accepted) {
        const records: Record<string, unknown>[] = Array.isArray(body?.records) ? body.records : [];
        for (const record of records) {
          const key = record[keyField];
          if (key === undefined || key === null) continue;
          if (body.type === 'audience.add') keys.add(String(key));
          else if (body.type === 'audience.remove') keys.delete(String(key));
        }
      }
      return [...keys].sort();
    },
    attempts: () => attempts.map((a) => ({ ...a })),
    respond(fn) {
      responder = fn;
    },
    recordsReceived: () =>
      accepted.reduce((sum, { body }) => sum + (Array.isArray(body?.records) ? body.records.length : 0), 0),
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
