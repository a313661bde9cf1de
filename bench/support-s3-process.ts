import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** What the benchmark needs of an S3-compatible server running in a process of its own. */
export interface S3Process {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  close(): Promise<void>;
}

/**
 * Starts s3rver (with its signature check) in a child process, as S3 is another machine: its
 * work does not share the event loop of the Sluice being measured. The child creates `bucket`.
 */
export async function startS3Process(bucket: string): Promise<S3Process> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./support-s3-child.ts', import.meta.url)), bucket],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const server = JSON.parse(line) as Omit<S3Process, 'close'>;
  return {
    ...server,
    async close() {
      child.stdin!.end();
      await once(child, 'exit');
    },
  };
}
