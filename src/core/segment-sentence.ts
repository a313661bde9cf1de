import { assertNever } from './errors.js';
import type {
  Condition,
  Duration,
  EventStep,
  Measure,
  Metric,
  NumberTest,
  PropertyFilter,
  ValueTest,
  Window,
} from './segment-schema.js';

/**
 * A segment as one readable sentence, e.g. "Viewed Product at least 2 times in the last 7 days
 * and did not Purchase in the last 7 days". `segmentName` names referenced segments.
 */
export function describeCondition(c: Condition, segmentName: (id: string) => string = (id) => id): string {
  return describe(c, segmentName, false);
}

function describe(c: Condition, name: (id: string) => string, nested: boolean): string {
  switch (c.kind) {
    case 'all':
    case 'any': {
      if (c.conditions.length === 1) return describe(c.conditions[0]!, name, nested);
      const joined = c.conditions
        .map((x) => describe(x, name, true))
        .join(c.kind === 'all' ? ' and ' : ' or ');
      return nested ? `(${joined})` : joined;
    }
    case 'not':
      return `not (${describe(c.condition, name, false)})`;
    case 'attribute':
      return `${c.attribute} ${valueTest(c.test)}`;
    case 'trait':
      return `${c.trait} ${valueTest(c.test)}`;
    case 'event': {
      const what = `${c.event}${filters(c.where)}`;
      const when = window(c.window);
      if (c.performed === false) return `did not ${what}${when}`;
      return `${what}${measure(c.measure)}${when}`;
    }
    case 'sequence': {
      const verb = c.followed === false ? 'not followed by' : 'then';
      return `${step(c.first)}${window(c.window)} ${verb} ${step(c.next)} within ${duration(c.within)}`;
    }
    case 'segment':
      return `in segment ${name(c.segment)}`;
    case 'rank': {
      const size = c.percent !== undefined ? `${c.percent}%` : `${c.count}`;
      return `in the ${c.direction} ${size} by ${metric(c.metric)}`;
    }
    default:
      return assertNever(c);
  }
}

function step(s: EventStep): string {
  return `${s.event}${filters(s.where)}`;
}

function filters(where: readonly PropertyFilter[] | undefined): string {
  if (!where || where.length === 0) return '';
  return ` where ${where.map((f) => `${f.property} ${valueTest(f.test)}`).join(' and ')}`;
}

function measure(m: Measure | undefined): string {
  if (!m) return '';
  if (m.kind === 'count') {
    if (m.test.operator === 'between') return ` between ${m.test.min} and ${m.test.max} times`;
    return ` ${numberOperator(m.test.operator)} ${m.test.value} ${m.test.value === 1 ? 'time' : 'times'}`;
  }
  const fn = m.function === 'distinct_count' ? 'distinct count' : m.function;
  return ` with ${fn} of ${m.property} ${numberTest(m.test)}`;
}

function metric(m: Metric): string {
  switch (m.kind) {
    case 'attribute':
      return m.attribute;
    case 'trait':
      return m.trait;
    case 'event': {
      const of = m.function === 'count' ? 'count' : `${m.function.replace('_', ' ')} of ${m.property}`;
      return `${of} of ${m.event}${filters(m.where)}${window(m.window)}`;
    }
    default:
      return assertNever(m);
  }
}

function window(w: Window | undefined): string {
  if (!w || w.kind === 'ever') return w ? ' ever' : '';
  if (w.kind === 'last') return ` in the last ${duration(w)}`;
  return ` between ${w.from} and ${w.to}`;
}

function duration(d: Duration): string {
  return `${d.amount} ${d.amount === 1 ? d.unit.slice(0, -1) : d.unit}`;
}

function numberOperator(op: Exclude<NumberTest['operator'], 'between'>): string {
  return op.replace('_', ' ');
}

function numberTest(t: NumberTest): string {
  if (t.operator === 'between') return `between ${t.min} and ${t.max}`;
  return `${numberOperator(t.operator)} ${t.value}`;
}

function valueTest(t: ValueTest): string {
  switch (t.operator) {
    case 'equals':
      return `is ${JSON.stringify(t.value)}`;
    case 'not_equals':
      return `is not ${JSON.stringify(t.value)}`;
    case 'in':
      return `is one of ${t.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'contains':
      return `contains ${JSON.stringify(t.value)}`;
    case 'starts_with':
      return `starts with ${JSON.stringify(t.value)}`;
    case 'greater_than':
    case 'less_than':
      return `is ${t.operator.replace('_', ' ')} ${t.value}`;
    case 'between':
      return `is between ${t.min} and ${t.max}`;
    case 'exists':
      return 'exists';
    case 'is_empty':
      return 'is empty';
    case 'before':
    case 'after':
      return `is ${t.operator} ${t.value}`;
    case 'within_last':
      return `is within the last ${duration(t)}`;
    case 'within_next':
      return `is within the next ${duration(t)}`;
    default:
      return assertNever(t);
  }
}
