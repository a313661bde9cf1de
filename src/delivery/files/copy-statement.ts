import { assertNever } from '../../core/index.js';
import type { FileFormat, FileOptions } from './file-options-schema.js';
import type { ColumnType } from './row-spool.js';

/** What one DuckDB `COPY` turns into one file. */
export interface CopyRequest {
  spoolPath: string;
  /** `csv`: the row spool's CSV; `lines`: value lines (a JSON array of values per row), read as text. */
  spoolFormat: 'csv' | 'lines';
  fields: readonly string[];
  columnTypes: readonly ColumnType[];
  outputPath: string;
  options: Pick<FileOptions, 'format' | 'compression' | 'header'>;
}

/**
 * The DuckDB statement that reads one spool file and writes it in the requested format, e.g.
 * ```sql
 * COPY (SELECT "c0" AS "email", CAST("c1" AS BIGINT) AS "orders"
 *       FROM read_csv('/tmp/spool-001.csv', columns={'c0': 'VARCHAR', 'c1': 'VARCHAR'}, ...))
 * TO '/tmp/x.ndjson.gz' (FORMAT json, COMPRESSION gzip)
 * ```
 * Spool columns are positional (`c0`, `c1`, ...) so that any field name is safe; delimited
 * formats keep every value as the text the spool holds, typed formats cast to the column's type.
 */
export function copyStatement(request: CopyRequest): string {
  const { fields, columnTypes, options } = request;
  const typed = options.format === 'ndjson' || options.format === 'parquet';
  if (request.spoolFormat === 'lines') {
    // Positions, not names, pick the values: any field name is safe.
    // Read as text by DuckDB's JSON reader: about twice as fast as extracting each value as JSON.
    // Numbers keep their digits; only an exponent is written DuckDB's way (1e-7 as 1e-07).
    const values = fields.map((field, i) => `v[${i + 1}] AS ${sqlIdentifier(field)}`);
    const source = `read_json(${sqlString(request.spoolPath)}, format='newline_delimited', records=false, columns={'v': 'VARCHAR[]'})`;
    return `COPY (SELECT ${values.join(', ')} FROM ${source}) TO ${sqlString(request.outputPath)} (${formatOptions(options).join(', ')})`;
  }
  const columns = fields.map((field, i) => {
    const type = typed ? (columnTypes[i] ?? 'VARCHAR') : 'VARCHAR';
    const value = type === 'VARCHAR' ? `"c${i}"` : `CAST("c${i}" AS ${type})`;
    return `${value} AS ${sqlIdentifier(field)}`;
  });
  const spoolColumns = fields.map((_, i) => `'c${i}': 'VARCHAR'`).join(', ');
  // Every reader option is spelled out: nothing is sniffed from the data.
  const source =
    `read_csv(${sqlString(request.spoolPath)}, columns={${spoolColumns}}, header=false, delim=',', ` +
    `quote='"', escape='"', new_line='\\n', allow_quoted_nulls=false, auto_detect=false)`;
  return (
    `COPY (SELECT ${columns.join(', ')} FROM ${source}) ` +
    `TO ${sqlString(request.outputPath)} (${formatOptions(options).join(', ')})`
  );
}

function formatOptions(options: CopyRequest['options']): string[] {
  const format: FileFormat = options.format;
  switch (format) {
    case 'csv':
    case 'tsv':
    case 'pipe':
      return [
        'FORMAT csv',
        `DELIMITER ${sqlString(DELIMITERS[format])}`,
        `HEADER ${options.header ? 'true' : 'false'}`,
        `COMPRESSION ${options.compression}`,
      ];
    case 'ndjson':
      return ['FORMAT json', `COMPRESSION ${options.compression}`];
    case 'parquet':
      return [
        'FORMAT parquet',
        `COMPRESSION ${options.compression === 'none' ? 'uncompressed' : options.compression}`,
      ];
    default:
      return assertNever(format);
  }
}

const DELIMITERS = { csv: ',', tsv: '\t', pipe: '|' } as const;

function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
