/** A record to match: a stable id and the values of its fields (missing: null, absent or ''). */
export interface MatchRecord {
  id: string;
  fields: Readonly<Record<string, string | number | null | undefined>>;
}

/** How one field contributed to a pair's match weight (shared between pairs, so read-only). */
export interface FieldWeight {
  readonly field: string;
  /** The comparison level the pair fell in: `exact`, `jaro_winkler>=0.92`, `else`, `null`, ... */
  readonly level: string;
  readonly weight: number;
}

/** A compared pair with its total match weight (log2 odds) and the probability it is one person. */
export interface ScoredPair {
  leftId: string;
  rightId: string;
  weight: number;
  probability: number;
  fields: FieldWeight[];
}
