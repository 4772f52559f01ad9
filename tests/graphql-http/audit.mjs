// Audits a running server against the GraphQL-over-HTTP specification with
// graphql-http's auditServer, prints every result, and fails on any MUST that fails.
// Usage: node audit.mjs http://127.0.0.1:8000/graphql
import { auditServer } from 'graphql-http';

const url = process.argv[2] ?? 'http://127.0.0.1:8000/graphql';
const results = await auditServer({ url });
const counts = { ok: 0, warn: 0, notice: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  if (result.status !== 'ok') {
    const reason = typeof result.reason === 'string' ? result.reason : JSON.stringify(result.reason);
    console.log(`${result.status.toUpperCase()} ${result.id} ${result.name}: ${reason}`);
  }
}
console.log(`graphql-http audit: ${counts.warn} SHOULD warnings, ${counts.notice} MAY notices`);
console.log(`audit: ${counts.ok} passed, ${counts.error} failed`);
process.exit(counts.error === 0 ? 0 : 1);
