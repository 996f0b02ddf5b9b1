// Starts the real emulator binary on a free port for client tests and stops it afterwards.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const binary = process.env.CDB_EMU_BINARY ?? new URL('../../build/cdb-sync-emulator', import.meta.url).pathname;

let nonce = process.pid * 100000;
/** A Nonce unique in this process: the SDK's own (0..65535) collide under load. */
export function uniqueNonce() {
  nonce += 1;
  return nonce;
}

/** Starts the emulator with a database in a fresh temporary directory. */
export async function startEmulator(extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'cdbemu-client-'));
  const db = join(dir, 'emulator.db');
  const child = spawn(binary, ['--port', '0', '--db', db, '--log-level', 'warn', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ready line within 10 s')), 10000);
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line));
    });
  });
  return {
    port: ready.port,
    host: `127.0.0.1:${ready.port}`,
    db,
    /** Rows of a read-only SQL query on the emulator's database (sqlite3 CLI, JSON mode). */
    query(sql) {
      const out = execFileSync('sqlite3', ['-readonly', '-json', db, sql], { encoding: 'utf8' });
      return out.trim() === '' ? [] : JSON.parse(out);
    },
    /** True while the emulator process has neither exited nor been killed by a signal. */
    isRunning() {
      return child.exitCode === null && child.signalCode === null;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
