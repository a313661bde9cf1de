import type { IncomingMessage } from 'node:http';
import { gunzip } from 'node:zlib';
import { UserError } from '../core/index.js';

/**
 * Reads a request body up to `maxBytes` (after decompression), gunzipping when
 * `Content-Encoding: gzip`. Oversize and corrupt bodies are UserErrors (HTTP 400).
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) {
    req.resume();
    throw tooLarge(maxBytes);
  }
  const raw = await collect(req, maxBytes);
  const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipLimited(raw, maxBytes);
  if (encoding !== '' && encoding !== 'identity') {
    throw new UserError(
      'unsupported_encoding',
      `Content-Encoding ${encoding} is not supported (use gzip or none)`,
    );
  }
  return raw;
}

// Plain 'data' events: the async iterator costs more than the parsing on single-event requests.
function collect(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(maxBytes));
      } else chunks.push(chunk);
    });
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function gunzipLimited(raw: Buffer, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(raw, { maxOutputLength: maxBytes }, (err, out) => {
      if (!err) return resolve(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') reject(tooLarge(maxBytes));
      else reject(new UserError('invalid_gzip', `the body is not valid gzip: ${err.message}`));
    });
  });
}

function tooLarge(maxBytes: number): UserError {
  return new UserError('payload_too_large', `the request body exceeds ${maxBytes} bytes`);
}
