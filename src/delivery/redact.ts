/** A message with every secret value replaced, whatever a library put in it: secrets never reach logs or receipts. */
export function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const s of secrets) {
    if (s.length < 4) continue;
    // Also as a library may have shown it: percent-encoded in a URL, base64 in an auth header.
    for (const form of new Set([s, encodeURIComponent(s), Buffer.from(s).toString('base64')])) {
      out = out.replaceAll(form, '[secret]');
    }
  }
  return out;
}
