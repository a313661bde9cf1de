/** What a workspace query on DuckDB may name (every name lower case, as DuckDB compares them). */
export interface QueryScope {
  /** The workspace views. */
  views: ReadonlySet<string>;
  /** The schema that holds them. */
  schema: string;
  /** The store's own catalog (database) name. */
  catalog: string;
  /** Every other relation in the catalogs (stored tables, system views): no WITH query may take one's name. */
  otherRelations: ReadonlySet<string>;
}

/** Table functions that compute rows from their arguments alone (no files, no catalog, no SQL text). */
const TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest', 'json_each', 'json_tree']);

/** FROM items made of other FROM items or expressions, which the walk checks in turn. */
const COMPOSITE_REFS = new Set(['SUBQUERY', 'JOIN', 'EXPRESSION_LIST', 'EMPTY', 'PIVOT']);

type Node = Record<string, unknown>;

/**
 * Why a query, as DuckDB's own parser reads it (`json_serialize_sql`), could reach beyond the
 * workspace views; undefined when it cannot. Every FROM item anywhere in the tree (subqueries in
 * expressions, CTEs, joins, set operations) must be a workspace view, a WITH query, a table
 * function from a short list, or made of those: stored tables, files (`FROM 'x.csv'`),
 * `read_csv(...)`, `query(...)`, `SUMMARIZE`/`DESCRIBE` and catalog functions are refused.
 *
 * A WITH query may not be named like another relation: DuckDB resolves a name that is out of the
 * WITH query's scope (or used before it is defined) in the catalogs, so a WITH query named
 * `api_keys` could otherwise let a reference elsewhere reach the stored table. Names of
 * workspace views are fine: the search path finds the view first.
 */
export function refusalOf(tree: unknown, scope: QueryScope): string | undefined {
  const ctes = new Set<string>();
  for (const node of nodes(tree)) {
    const map = (node.cte_map as { map?: { key: string }[] } | undefined)?.map ?? [];
    for (const { key } of map) {
      const name = key.toLowerCase();
      if (scope.otherRelations.has(name) && !scope.views.has(name)) {
        return `a WITH query may not be named ${JSON.stringify(key)}: that name is taken by a stored table`;
      }
      ctes.add(name);
    }
  }
  for (const node of nodes(tree)) {
    if ('class' in node || !('alias' in node) || !('sample' in node)) continue;
    const refusal = refusalOfRef(node, scope, ctes);
    if (refusal) return refusal;
  }
  return undefined;
}

function refusalOfRef(ref: Node, scope: QueryScope, ctes: ReadonlySet<string>): string | undefined {
  const type = String(ref.type);
  if (type === 'BASE_TABLE') {
    const name = String(ref.table_name ?? '');
    const schema = String(ref.schema_name ?? '').toLowerCase();
    const catalog = String(ref.catalog_name ?? '').toLowerCase();
    const lower = name.toLowerCase();
    const inWorkspace =
      (schema === '' || schema === scope.schema) && (catalog === '' || catalog === scope.catalog);
    const known = scope.views.has(lower) || (schema === '' && catalog === '' && ctes.has(lower));
    if (inWorkspace && known) return undefined;
    const qualified = [catalog, schema, name].filter((part) => part !== '').join('.');
    return `${JSON.stringify(qualified)} is not a workspace view (${[...scope.views].join(', ')})`;
  }
  if (type === 'TABLE_FUNCTION') {
    const fn = ref.function as Node | undefined;
    const name = String(fn?.function_name ?? '').toLowerCase();
    const schema = String(fn?.schema ?? '');
    if (schema === '' && TABLE_FUNCTIONS.has(name)) return undefined;
    return `the table function ${name}() is not allowed (only ${[...TABLE_FUNCTIONS].join(', ')})`;
  }
  if (COMPOSITE_REFS.has(type)) return undefined;
  return `${type.toLowerCase().replaceAll('_', ' ')} is not allowed in FROM`;
}

/** Every object in a parse tree, depth first. */
function* nodes(value: unknown): Generator<Node> {
  if (Array.isArray(value)) {
    for (const item of value) yield* nodes(item);
  } else if (value !== null && typeof value === 'object') {
    yield value as Node;
    for (const child of Object.values(value)) yield* nodes(child);
  }
}
