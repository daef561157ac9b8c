import { DuckDBInstance } from '@duckdb/node-api';
const [file, ...sql] = process.argv.slice(2);
const db = await (await DuckDBInstance.create(file)).connect();
for (const s of sql) console.log(JSON.stringify((await db.runAndReadAll(s)).getRowObjectsJson()));
