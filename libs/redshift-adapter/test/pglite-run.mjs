// Runs SQL on PGlite (PostgreSQL compiled to WebAssembly) in its own Node process: PGlite is an ES module that
// loads its engine by dynamic import, which Jest's CommonJS runtime cannot. Reads { setup: string[], checks:
// { role?: string, sql: string }[] } on stdin; writes one { rows } or { error } per check on stdout.
import { PGlite } from '@electric-sql/pglite';

const input = JSON.parse(
  await new Promise((resolve) => {
    let text = '';
    process.stdin.on('data', (chunk) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
  }),
);
const db = new PGlite();
for (const sql of input.setup) await db.exec(sql);
const results = [];
for (const check of input.checks) {
  if (check.role) await db.exec(`SET ROLE ${check.role}`);
  try {
    results.push({ rows: (await db.query(check.sql)).rows });
  } catch (error) {
    results.push({ error: error.message });
  } finally {
    if (check.role) await db.exec('RESET ROLE');
  }
}
await db.close();
process.stdout.write(JSON.stringify(results));
