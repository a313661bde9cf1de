import { startS3Server } from '../src/test-support/s3-server.js';

// Child of support-s3-process.ts: serves S3 until its stdin closes.
const server = await startS3Server();
await server.bucket(process.argv[2] ?? 'bench');
process.stdout.write(
  `${JSON.stringify({ endpoint: server.endpoint, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey })}\n`,
);
process.stdin.resume();
process.stdin.on('end', () => {
  void server.close().then(() => process.exit(0));
});
