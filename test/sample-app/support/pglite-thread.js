// Hosts one PGlite in a worker thread, outside Jest's module sandbox: PGlite loads its runtime with dynamic
// import(), which Jest's VM refuses without --experimental-vm-modules. Messages: { id, sql, params } → { id, rows,
// affectedRows } or { id, error }.
const { parentPort } = require('node:worker_threads');
const { PGlite } = require('@electric-sql/pglite');

const db = new PGlite();
parentPort.on('message', async ({ id, sql, params }) => {
  try {
    await db.waitReady;
    if (sql === '__close__') {
      await db.close();
      parentPort.postMessage({ id, rows: [], affectedRows: 0 });
      return;
    }
    const result = await db.query(sql, params);
    parentPort.postMessage({ id, rows: result.rows, affectedRows: result.affectedRows ?? 0 });
  } catch (error) {
    parentPort.postMessage({ id, error: { message: error.message, code: error.code } });
  }
});
