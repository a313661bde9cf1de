import { readdirSync } from 'node:fs';

// `npm run bench -- <name>`: runs bench/<name>.ts, which exports `run()` and ends by printing one JSON line.
const available = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('support'))
  .map((f) => f.slice(0, -3));
const name = process.argv[2];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>   (one of: ${available.join(', ')})`);
  process.exit(name ? 1 : 0);
}
const mod = (await import(`./${name}.ts`)) as { run: () => Promise<void> };
await mod.run();
