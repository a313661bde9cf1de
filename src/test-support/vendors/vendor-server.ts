import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as a vendor server saw it (`body` parsed: JSON, a form as an object, else text). */
export interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** A scripted answer, sent instead of the normal one. */
export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Only for a request whose path ends with this (e.g. `:run`); without it, for the next request. */
  path?: string;
}

/** A local stand-in for a vendor API that the lead can reuse in fault tests. */
export interface VendorServer {
  url: string;
  /** The people the vendor holds now (hashed identifiers, or emails for an email provider). */
  audience(): string[];
  /** Rows the vendor counted as received; a resent batch does not count twice. */
  received(): number;
  requests: SeenRequest[];
  /** Answers the next requests with these, in order, before handling any normally. */
  fail(next: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

export type VendorHandler = (request: SeenRequest, url: URL) => ScriptedAnswer | Promise<ScriptedAnswer>;

/** Starts a vendor stand-in on 127.0.0.1 at a random port. */
export async function startVendorServer(
  handle: VendorHandler,
  state: { audience(): string[]; received(): number },
): Promise<VendorServer> {
  const requests: SeenRequest[] = [];
  const scripted: ScriptedAnswer[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const seen: SeenRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        headers: req.headers,
        body: parseBody(req, await readBody(req)),
      };
      requests.push(seen);
      let answer: ScriptedAnswer;
      try {
        const at = scripted.findIndex((a) => a.path === undefined || seen.path.endsWith(a.path));
        answer = at >= 0 ? scripted.splice(at, 1)[0]! : await handle(seen, url);
      } catch (err) {
        answer = { status: 500, body: { error: String(err) } };
      }
      const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(text);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    audience: () => [...state.audience()].sort(),
    received: () => state.received(),
    requests,
    fail: (next) => scripted.push(...next),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** A header's single value. */
export function header(request: SeenRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Whether a value is a SHA-256 digest as the ad platforms want it: 64 lowercase hex. */
export function isLowerHexDigest(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(req: IncomingMessage, text: string): unknown {
  if (text === '') return undefined;
  const type = req.headers['content-type'] ?? '';
  try {
    if (type.includes('application/json')) return JSON.parse(text);
    if (type.includes('application/x-www-form-urlencoded'))
      return Object.fromEntries(new URLSearchParams(text));
  } catch {
    // Malformed JSON reaches the handler as text, which refuses it as the vendor would.
  }
  return text;
}

/** What a conformance target reads back from a vendor stand-in: the audience it holds, the rows it counted. */
export function vendorReadBack(server: VendorServer) {
  return {
    present: async () => server.audience(),
    received: async () => server.received(),
    close: () => server.close(),
  };
}
