// Starts the real emulator binary on a free port for client tests and stops it afterwards.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

const QcloudApi = createRequire(import.meta.url)('qcloudapi-sdk');

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
    /** Stops the emulator; throws unless it exits cleanly (status 0: no crash, no sanitizer report). */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
      if (child.exitCode !== 0) {
        throw new Error(`the emulator exited with status ${child.exitCode} (signal ${child.signalCode})`);
      }
    },
  };
}

/** A real qcloudapi-sdk client for `emu` with the default key; `settings` are extra constructor defaults. */
export function sdkClient(emu, settings = {}) {
  return new QcloudApi({
    SecretId: 'AKIDEMULATORDEFAULTKEY',
    SecretKey: 'emulator-default-secret',
    Region: 'gz',
    serviceType: 'cdb',
    protocol: 'http',
    host: emu.host,
    ...settings,
  });
}

/**
 * One SDK call with an explicit unique Nonce (unless `data` brings its own). The options object
 * always carries the client's defaults: without host and protocol the SDK would call the real host.
 */
export function sdkCall(capi, data, options = {}) {
  return new Promise((resolve, reject) => {
    capi.request({ Nonce: uniqueNonce(), ...data }, { ...capi.defaults, ...options }, (error, body) =>
      error ? reject(error) : resolve(body),
    );
  });
}

/** The seed page's CreateCdbDataSyncTask as the SDK takes it (nested objects). */
export function seedTask(jobName = 'myJobName') {
  return {
    Action: 'CreateCdbDataSyncTask',
    jobName,
    srcInfo: [
      {
        cdbUInstanceId: 'cdb-c1nl9rpv',
        dbInfo: [{ database: 'myDB', table: ['myTable0', 'myTable1'] }],
        isOverrideRoot: 0,
      },
    ],
    dstInfo: [{ cdbUInstanceId: 'cdb-d2sagyed', regionId: 'sh', zoneId: 200001 }],
  };
}

/** The stored row of task `jobId`. */
export function storedTask(emu, jobId) {
  const [row] = emu.query(`SELECT * FROM tasks WHERE job_id = ${Number(jobId)}`);
  return row;
}
