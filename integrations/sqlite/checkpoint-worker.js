// Plain JavaScript on purpose: a worker thread does not inherit the CLI's TypeScript loader, and
// this one only opens the step log and checkpoints it, so it starts in milliseconds.
import { workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
// PASSIVE never waits for the writer or readers: it copies what it can and returns. A failure
// ends the worker, and the writer goes back to checkpointing by itself.
setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), workerData.intervalMs);
