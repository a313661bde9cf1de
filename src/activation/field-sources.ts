import { assertNever, BUILT_IN_NAMESPACES, type FieldMapping, type Issue } from '../core/index.js';
import type { DeliveryRecord } from '../delivery/index.js';
import type { Store } from '../store/index.js';

/**
 * What fills a destination field: `profile_id`, a profile attribute, `trait:<name>` or
 * `identifier:<namespace>`. Activations (campaigns, audience syncs) share these.
 */
export type FieldSource =
  | { kind: 'profile_id' }
  | { kind: 'attribute'; name: string }
  | { kind: 'trait'; name: string }
  | { kind: 'identifier'; namespace: string };

export function parseFieldSource(source: string): FieldSource {
  if (source === 'profile_id') return { kind: 'profile_id' };
  if (source.startsWith('trait:')) return { kind: 'trait', name: source.slice('trait:'.length) };
  if (source.startsWith('identifier:'))
    return { kind: 'identifier', namespace: source.slice('identifier:'.length) };
  return { kind: 'attribute', name: source };
}

/**
 * The mapping a destination starts from when an activation names no fields: each default field
 * from the same-named source, emails and phones from the identity graph (they are identifiers,
 * not attributes), and the profile id first.
 */
export function defaultMapping(fields: readonly string[]): FieldMapping {
  const source = (f: string) =>
    (BUILT_IN_NAMESPACES as readonly string[]).includes(f) ? `identifier:${f}` : f;
  return Object.fromEntries(
    ['profile_id', ...fields.filter((f) => f !== 'profile_id')].map((f) => [f, source(f)]),
  );
}

/** Sources that name nothing this store knows, each at `path.<field>`. */
export async function fieldSourceIssues(
  store: Store,
  fields: FieldMapping,
  path: (string | number)[],
): Promise<Issue[]> {
  const issues: Issue[] = [];
  const exists = async (sql: string, value: string) => (await store.db.query(sql, [value])).length > 0;
  for (const [field, text] of Object.entries(fields)) {
    const source = parseFieldSource(text);
    let problem: string | undefined;
    switch (source.kind) {
      case 'profile_id':
        break;
      case 'attribute':
        if (!(await exists('SELECT 1 FROM profile_attributes WHERE name = $1 LIMIT 1', source.name)))
          problem = `no profile has an attribute ${JSON.stringify(source.name)}`;
        break;
      case 'trait':
        if (!(await exists('SELECT 1 FROM computed_traits WHERE name = $1', source.name)))
          problem = `no computed trait ${JSON.stringify(source.name)}`;
        break;
      case 'identifier':
        if (
          !(BUILT_IN_NAMESPACES as readonly string[]).includes(source.namespace) &&
          !(await exists('SELECT 1 FROM identifiers WHERE namespace = $1 LIMIT 1', source.namespace))
        )
          problem = `no identifier namespace ${JSON.stringify(source.namespace)}`;
        break;
      default:
        assertNever(source);
    }
    if (problem) issues.push({ code: 'unknown_reference', path: [...path, field], message: problem });
  }
  return issues;
}

/** The destination rows of some profiles, in their order, each field filled from its source. */
export async function profileRows(
  store: Store,
  fields: FieldMapping,
  profileIds: readonly string[],
): Promise<DeliveryRecord[]> {
  const sources = Object.values(fields).map(parseFieldSource);
  const values = await store.audienceSyncs.profileValues(profileIds, {
    attributes: sources.flatMap((s) => (s.kind === 'attribute' ? [s.name] : [])),
    traits: sources.flatMap((s) => (s.kind === 'trait' ? [s.name] : [])),
    namespaces: sources.flatMap((s) => (s.kind === 'identifier' ? [s.namespace] : [])),
  });
  return profileIds.map((id) => {
    const row: DeliveryRecord = {};
    for (const [field, source] of Object.entries(fields)) {
      row[field] = cellOf(source === 'profile_id' ? id : values.get(id)?.get(source));
    }
    return row;
  });
}

/** A stored value as a destination cell: objects and arrays as their JSON text. */
function cellOf(value: unknown): DeliveryRecord[string] {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}
