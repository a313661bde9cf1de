import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/index.js';
import { checkFilenameTemplate, type FilenameContext, renderFilename } from './filename-template.js';

const batch: FilenameContext = {
  activation: { id: 'cmp_1', name: 'Spring Sale' },
  group: 'Treatment A',
  runId: 'run_42',
  runAt: new Date('2026-03-04T07:08:09Z'),
  index: 0,
  count: 1,
};

describe('renderFilename', () => {
  it('renders every token, the date in UTC', () => {
    expect(
      renderFilename(
        '{{activation_name}}-{{campaign_name}}-{{group_name}}-{{run_id}}-{{batch}}-{{date:yyyyMMdd_HHmmss}}',
        batch,
      ),
    ).toBe('Spring Sale-Spring Sale-Treatment A-run_42-001-20260304_070809');
  });

  it('renders the default pattern for a bare {{date}} and the documented default template', () => {
    expect(renderFilename('{{date}}', batch)).toBe('2026-03-04');
    expect(renderFilename('{{activation_name}}_{{group_name}}_{{date:yyyy-MM-dd}}', batch)).toBe(
      'Spring Sale_Treatment A_2026-03-04',
    );
  });

  it('renders a missing group as nothing', () => {
    expect(renderFilename('{{activation_name}}_{{group_name}}', { ...batch, group: undefined })).toBe(
      'Spring Sale_',
    );
  });

  it('replaces path separators and control characters in values, so a value never makes a path', () => {
    const hostile = { ...batch, activation: { id: 'x', name: '../../etc/passwd' }, group: 'a\\b\nc\u0000d' };
    const name = renderFilename('{{activation_name}}_{{group_name}}', hostile);
    expect(name).not.toMatch(/[/\\\n]/);
    expect(name).not.toContain('\u0000');
    expect(name).not.toContain('..');
    expect(name).toBe('____etc_passwd_a_b_c_d');
  });

  it('never starts a name with a dot (hidden files, temporary names)', () => {
    expect(
      renderFilename('{{activation_name}}', { ...batch, activation: { id: 'x', name: '.hidden' } }),
    ).toBe('hidden');
    expect(renderFilename('{{group_name}}', { ...batch, group: '' })).toBe('export');
  });

  it('keeps names within file-system limits', () => {
    const long = { ...batch, activation: { id: 'x', name: 'é'.repeat(300) } };
    const name = renderFilename('{{activation_name}}', long);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
    expect(name).toBe('é'.repeat(100));
  });

  it('adds the batch number when a run has several batches and the template lacks it', () => {
    const names = [0, 1, 2].map((index) =>
      renderFilename('{{activation_name}}', { ...batch, index, count: 3 }),
    );
    expect(names).toEqual(['Spring Sale_batch001', 'Spring Sale_batch002', 'Spring Sale_batch003']);
    expect(renderFilename('{{batch}}_{{activation_name}}', { ...batch, index: 1, count: 3 })).toBe(
      '002_Spring Sale',
    );
  });

  it('gives the same batch the same name every time', () => {
    const again = { ...batch, index: 4, count: 9 };
    expect(renderFilename('{{activation_name}}_{{date}}', again)).toBe(
      renderFilename('{{activation_name}}_{{date}}', { ...again }),
    );
  });
});

describe('checkFilenameTemplate', () => {
  const problem = (template: string) => {
    try {
      checkFilenameTemplate(template);
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).issues[0]?.path).toEqual(['filenameTemplate']);
      return (err as UserError).message;
    }
    return undefined;
  };

  it('names an unknown token', () => {
    expect(problem('{{activation_name}}_{{segment_name}}')).toMatch(/unknown token \{\{segment_name\}\}/);
  });

  it('refuses date patterns with letters it does not know', () => {
    expect(problem('{{date:YYYY-MM-DD}}')).toMatch(/date pattern "YYYY-MM-DD"/);
  });

  it('refuses arguments on tokens that take none, and malformed tokens', () => {
    expect(problem('{{run_id:short}}')).toMatch(/takes no argument/);
    expect(problem('{{activation_name}')).toMatch(/malformed/);
  });

  it('refuses templates that could name a path', () => {
    expect(problem('exports/{{activation_name}}')).toMatch(/may not contain/);
    expect(problem('..{{activation_name}}')).toMatch(/may not contain/);
    expect(problem('a\\{{date}}')).toMatch(/may not contain/);
  });

  it('accepts every documented form', () => {
    expect(
      problem('{{campaign_name}}_{{group_name}}_{{date:yyyy-MM-dd}}_{{run_id}}_{{batch}}'),
    ).toBeUndefined();
  });
});
