import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SpawnedServer {
  url: string;
  process: ChildProcess;
  /** SIGTERM and wait for the exit (a clean shutdown). */
  stop(): Promise<void>;
  /** SIGKILL: the process dies at once, mid-write if it was writing. */
  kill(): Promise<void>;
}

/** Runs `sluice serve` in a process of its own and waits until `/health` answers. */
export async function spawnServer(env: Record<string, string>, port?: number): Promise<SpawnedServer> {
  const listen = port ?? (await freePort());
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(listen)],
    {
      cwd: ROOT,
      env: { ...process.env, SLUICE_DEMO: 'false', ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${listen}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null)
      throw new Error(`sluice serve exited with ${child.exitCode} before answering /health`);
    if (i > 600) throw new Error('sluice serve did not answer /health within 60 s');
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    process: child,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
