import { assertNever, type IdentityConfig, type SurvivorshipRule } from '../core/index.js';

/** One value an attribute had in one record or identify call. */
export interface AttributeObservation {
  name: string;
  value: unknown;
  /** The source's name. */
  source: string;
  at: Date;
  /** Where it came from, e.g. `record:CRM-1` or `event:42`. */
  ref: string;
}

/** The value a profile shows for an attribute, where it came from and by which rule. */
export interface UnifiedAttribute {
  value: unknown;
  source: string;
  ref: string;
  at: Date;
  rule: SurvivorshipRule['rule'];
  /** How many distinct values the profile's data holds for it. */
  candidates: number;
}

/**
 * Unifies a profile's attribute values with each attribute's survivorship rule. Empty values
 * (null, '') never win. `most_recent` breaks ties by order of arrival.
 */
export function unifyAttributes(
  observations: readonly AttributeObservation[],
  config: Pick<IdentityConfig, 'attributes' | 'defaultRule'>,
): Record<string, UnifiedAttribute> {
  const byName = new Map<string, AttributeObservation[]>();
  for (const o of observations) {
    if (o.value === null || o.value === undefined || o.value === '') continue;
    const list = byName.get(o.name);
    if (list) list.push(o);
    else byName.set(o.name, [o]);
  }
  const unified: Record<string, UnifiedAttribute> = {};
  for (const [name, values] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    const rule = config.attributes[name] ?? config.defaultRule;
    const winner = pick(values, rule);
    unified[name] = {
      value: winner.value,
      source: winner.source,
      ref: winner.ref,
      at: winner.at,
      rule: rule.rule,
      candidates: new Set(values.map((v) => JSON.stringify(v.value))).size,
    };
  }
  return unified;
}

function pick(values: AttributeObservation[], rule: SurvivorshipRule): AttributeObservation {
  // Stable sort by time: among equal times the later arrival (later in the list) is more recent.
  const byTime = values
    .map((v, i) => ({ v, i }))
    .sort((a, b) => a.v.at.getTime() - b.v.at.getTime() || a.i - b.i);
  const oldest = byTime[0]!.v;
  const newest = byTime[byTime.length - 1]!.v;
  switch (rule.rule) {
    case 'most_recent':
      return newest;
    case 'first_seen':
      return oldest;
    case 'most_frequent': {
      // The most frequent value; a tie goes to the value seen most recently.
      const counts = new Map<string, { n: number; last: number; value: AttributeObservation }>();
      byTime.forEach(({ v }, order) => {
        const key = JSON.stringify(v.value);
        counts.set(key, { n: (counts.get(key)?.n ?? 0) + 1, last: order, value: v });
      });
      let best: { n: number; last: number; value: AttributeObservation } | undefined;
      for (const c of counts.values())
        if (!best || c.n > best.n || (c.n === best.n && c.last > best.last)) best = c;
      return best!.value;
    }
    case 'source_priority': {
      for (const source of rule.sources) {
        const fromSource = byTime.filter(({ v }) => v.source === source);
        if (fromSource.length > 0) return fromSource[fromSource.length - 1]!.v;
      }
      return newest;
    }
    default:
      return assertNever(rule);
  }
}
