import { describe, expect, it } from 'vitest';
import { FileOptionsSchema, fileExtension } from './file-options-schema.js';

const KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF...\n-----END PGP PUBLIC KEY BLOCK-----\n';

describe('FileOptionsSchema', () => {
  it('defaults to a plain CSV with a header, named for the activation, group and date', () => {
    expect(FileOptionsSchema.parse({})).toEqual({
      format: 'csv',
      compression: 'none',
      header: true,
      filenameTemplate: '{{activation_name}}_{{group_name}}_{{date:yyyy-MM-dd}}',
      doneMarker: false,
    });
  });

  it.each([
    [{ format: 'xlsx' }, 'format'],
    [{ compression: 'brotli' }, 'compression'],
    [{ header: 'yes' }, 'header'],
    [{ filenameTemplate: '{{nope}}' }, 'filenameTemplate'],
    [{ filenameTemplate: 'out/{{activation_name}}' }, 'filenameTemplate'],
    [{ doneMarker: 1 }, 'doneMarker'],
    [{ pgpPublicKey: 'not a key' }, 'pgpPublicKey'],
    [{ maxRowsPerFile: 0 }, 'maxRowsPerFile'],
    [{ maxRowsPerFile: 2.5 }, 'maxRowsPerFile'],
  ])('names the field of a bad setting: %j', (input, field) => {
    const result = FileOptionsSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path)).toEqual([[field]]);
  });

  it('explains an unknown template token in the issue', () => {
    const result = FileOptionsSchema.safeParse({ filenameTemplate: '{{activation_name}}_{{segment}}' });
    expect(result.error?.issues[0]?.message).toMatch(/unknown token \{\{segment\}\}/);
  });

  it('keeps its checks on the fields, so a connector can spread them into its own schema', () => {
    const spread = FileOptionsSchema.pick({ filenameTemplate: true }).extend({});
    expect(spread.safeParse({ filenameTemplate: '{{nope}}' }).success).toBe(false);
  });
});

describe('fileExtension', () => {
  it.each([
    [{ format: 'csv', compression: 'none' }, '.csv'],
    [{ format: 'csv', compression: 'gzip' }, '.csv.gz'],
    [{ format: 'tsv', compression: 'zstd' }, '.tsv.zst'],
    [{ format: 'pipe', compression: 'none' }, '.psv'],
    [{ format: 'ndjson', compression: 'zstd' }, '.ndjson.zst'],
    [{ format: 'parquet', compression: 'zstd' }, '.parquet'],
    [{ format: 'csv', compression: 'none', pgpPublicKey: KEY }, '.csv.gpg'],
    [{ format: 'ndjson', compression: 'gzip', pgpPublicKey: KEY }, '.ndjson.gz.gpg'],
    [{ format: 'parquet', compression: 'gzip', pgpPublicKey: KEY }, '.parquet.gpg'],
  ] as const)('%j → %s', (options, extension) => {
    expect(fileExtension(FileOptionsSchema.parse(options))).toBe(extension);
  });
});
