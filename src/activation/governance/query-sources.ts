/**
 * What an orchestration query sends, as the sources data-usage policies know (`<attribute>`,
 * `trait:<name>`, `identifier:<namespace>`), keyed by a name for each: every output column read as
 * an attribute, a trait and an identifier namespace of its name, plus the attributes and traits
 * the query reads by key (`attributes->>'email'`) and the namespaces it selects
 * (`namespace = 'email'`, `namespace IN ('email', 'phone')`).
 *
 * A best effort over the SQL text: a labelled value renamed and computed beyond recognition
 * escapes it, which is why the views expose attributes by their own names.
 */
export function querySources(query: string, columns: readonly string[]): Record<string, string> {
  const sources = new Set<string>();
  for (const c of columns) {
    sources.add(c);
    sources.add(`trait:${c}`);
    sources.add(`identifier:${c}`);
  }
  for (const m of query.matchAll(/\b(attributes|traits)\s*->>?\s*'([^']+)'/gi)) {
    sources.add(m[1]!.toLowerCase() === 'traits' ? `trait:${m[2]}` : m[2]!);
  }
  for (const m of query.matchAll(/\bnamespace\s*(?:=\s*'([^']+)'|in\s*\(([^)]*)\))/gi)) {
    if (m[1]) sources.add(`identifier:${m[1]}`);
    for (const v of m[2]?.matchAll(/'([^']+)'/g) ?? []) sources.add(`identifier:${v[1]}`);
  }
  return Object.fromEntries([...sources].map((s) => [s, s]));
}
