import { z } from 'zod';
import { UserError } from '../../core/index.js';
import { checkFilenameTemplate } from './filename-template.js';

export const FILE_FORMATS = ['csv', 'tsv', 'pipe', 'ndjson', 'parquet'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

const ARMORED_PUBLIC_KEY = /-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]+-----END PGP PUBLIC KEY BLOCK-----/;

/**
 * How a file destination writes its files, whatever carries them (folder, S3, SFTP). Every check
 * sits on its field, so the fields can be spread into a connector's flat config schema.
 */
export const FileOptionsSchema = z.object({
  format: z.enum(FILE_FORMATS).default('csv').describe('csv, tsv, pipe (|-separated), ndjson or parquet'),
  compression: z
    .enum(['none', 'gzip', 'zstd'])
    .default('none')
    .describe('Wraps the whole file (.gz, .zst); for parquet it is the column codec inside the file'),
  header: z.boolean().default(true).describe('First line names the fields (csv, tsv and pipe only)'),
  filenameTemplate: z
    .string()
    .min(1)
    .default('{{activation_name}}_{{group_name}}_{{date:yyyy-MM-dd}}')
    .superRefine((template, ctx) => {
      try {
        checkFilenameTemplate(template);
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        ctx.addIssue({ code: 'custom', message: err.message });
      }
    })
    .describe(
      'File name without extension: {{activation_name}} (or {{campaign_name}}), {{group_name}}, {{run_id}}, ' +
        '{{batch}}, {{date:yyyy-MM-dd HH:mm:ss}} (UTC)',
    ),
  doneMarker: z
    .boolean()
    .default(false)
    .describe('Write an empty <file>.DONE once every data file is in place'),
  pgpPublicKey: z
    .string()
    .regex(
      ARMORED_PUBLIC_KEY,
      'must be an ASCII-armored OpenPGP public key (-----BEGIN PGP PUBLIC KEY BLOCK-----)',
    )
    .optional()
    .describe('Encrypt every file to this OpenPGP public key (adds .gpg)'),
  maxRowsPerFile: z
    .int()
    .positive()
    .optional()
    .describe('Split into numbered parts (name_part001.csv, ...) past this many rows'),
});

export type FileOptions = z.output<typeof FileOptionsSchema>;

/** The extension a file gets from its options: `.csv.gz`, `.ndjson.zst`, `.parquet`, `.tsv.gpg`. */
export function fileExtension(options: Pick<FileOptions, 'format' | 'compression' | 'pgpPublicKey'>): string {
  const encrypted = options.pgpPublicKey === undefined ? '' : '.gpg';
  // Parquet compresses its columns inside the file: the name stays `.parquet`.
  if (options.format === 'parquet') return `.parquet${encrypted}`;
  return `.${DATA_EXTENSIONS[options.format]}${COMPRESSION_EXTENSIONS[options.compression]}${encrypted}`;
}

const DATA_EXTENSIONS: Record<Exclude<FileFormat, 'parquet'>, string> = {
  csv: 'csv',
  tsv: 'tsv',
  pipe: 'psv',
  ndjson: 'ndjson',
};

const COMPRESSION_EXTENSIONS: Record<FileOptions['compression'], string> = {
  none: '',
  gzip: '.gz',
  zstd: '.zst',
};
