// Authentication (issue 4) through real, unmodified npm clients: qcloudapi-sdk@0.2.1 signing API 2.0
// requests (SHA-1 and SHA-256, GET and POST, HTTP and HTTPS) and @tencent-sdk/capi@2.0.3 in v1 mode.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { startEmulator, uniqueNonce, sdkClient, sdkCall, seedTask, storedTask } from './emulator.mjs';

const require = createRequire(import.meta.url);
const { Capi: TencentCapi } = require('@tencent-sdk/capi');

const SECRET_ID = 'AKIDEMULATORDEFAULTKEY';
const SECRET_KEY = 'emulator-default-secret';
const AUTH_FAILURE = { code: 4100, message: '身份认证失败，用户身份验证失败', codeDesc: 'AuthFailure' };
const tlsFile = (name) => fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url));

function countTasksNamed(emu, jobName) {
  const [row] = emu.query(`SELECT COUNT(*) AS n FROM tasks WHERE job_name = '${jobName.replaceAll("'", "''")}'`);
  return row.n;
}

function assertSuccess(body) {
  assert.equal(body.code, 0, JSON.stringify(body));
  assert.equal(body.codeDesc, 'Success');
  assert.equal(typeof body.data.jobId, 'number');
}

function assertReplay(body) {
  assert.equal(body.code, 4500, JSON.stringify(body));
  assert.equal(body.codeDesc, 'InvalidRequest.ReplayAttack');
  assert.deepEqual(Object.keys(body), ['code', 'message', 'codeDesc']);
}

const nowSeconds = () => Math.round(Date.now() / 1000);

/** The emulator is alive and still serves a normal signed SDK request. */
async function assertStillServing(emu, settings = {}) {
  assert.ok(emu.isRunning(), 'the emulator process exited');
  const body = await sdkCall(sdkClient(emu, settings), seedTask('still alive'));
  assertSuccess(body);
  assert.ok(emu.isRunning(), 'the emulator process exited');
}

describe('qcloudapi-sdk@0.2.1 and @tencent-sdk/capi@2.0.3 over HTTP', () => {
  let emu;
  before(async () => {
    emu = await startEmulator();
  });
  after(async () => {
    try {
      assert.ok(emu?.isRunning(), 'the emulator crashed during the tests');
    } finally {
      await emu?.stop();
    }
  });

  const jobNames = { plain: 'myJob', Chinese: '数据同步任务', special: 'a+b/c=d&e%f 测试' };
  for (const method of ['GET', 'POST']) {
    for (const [algorithm, settings] of [
      ['HmacSHA1', {}],
      ['HmacSHA256', { signatureMethod: 'sha256' }],
    ]) {
      for (const [kind, jobName] of Object.entries(jobNames)) {
        test(`${method} signed with ${algorithm}, ${kind} jobName ${JSON.stringify(jobName)}`, async () => {
          const body = await sdkCall(sdkClient(emu, settings), seedTask(jobName), { method });
          assertSuccess(body);
          assert.equal(storedTask(emu, body.data.jobId).job_name, jobName);
        });
      }
    }
  }

  // Index order and lexical order differ (tbl_10 < tbl_2), so the check proves index order is kept.
  const tables = Array.from({ length: 2000 }, (_, i) => `tbl_${i}`);
  function bigTask(jobName) {
    const task = seedTask(jobName);
    task.srcInfo[0].dbInfo[0].table = tables;
    return task;
  }

  test('a 2,000-table task by POST with maxKeys: 0 is stored with every table in order', async () => {
    const body = await sdkCall(sdkClient(emu), bigTask('two thousand tables'), { method: 'POST', maxKeys: 0 });
    assertSuccess(body);
    assert.deepEqual(JSON.parse(storedTask(emu, body.data.jobId).src_db_info), [{ database: 'myDB', table: tables }]);
  });

  test('without maxKeys the SDK itself drops keys past 1,000 (Signature included): 4000, nothing stored', async () => {
    const body = await sdkCall(sdkClient(emu), bigTask('truncated by the SDK'), { method: 'POST' });
    assert.deepEqual(body, {
      code: 4000,
      message: 'invalid parameter: missing required parameter Signature',
      codeDesc: 'InvalidParameter',
    });
    assert.equal(countTasksNamed(emu, 'truncated by the SDK'), 0);
  });

  for (const method of ['GET', 'POST']) {
    test(`a wrong SecretKey by ${method} gets exactly the 4100 body and does not use up the Nonce`, async () => {
      const nonce = uniqueNonce();
      const wrong = await sdkCall(sdkClient(emu), { ...seedTask(`wrong key ${method}`), Nonce: nonce }, {
        method,
        SecretKey: 'not-the-emulator-default-secret',
      });
      assert.deepEqual(wrong, AUTH_FAILURE);
      assert.equal(countTasksNamed(emu, `wrong key ${method}`), 0);
      // A nonce is recorded only after a valid signature: the same Nonce with the right key succeeds.
      const right = await sdkCall(sdkClient(emu), { ...seedTask(`wrong key ${method}`), Nonce: nonce }, { method });
      assertSuccess(right);
      assert.equal(countTasksNamed(emu, `wrong key ${method}`), 1);
    });
  }

  test('a SHA-256 signature sent as SignatureMethod=HmacSHA1 gets the 4100 body', async () => {
    const body = await sdkCall(sdkClient(emu, { signatureMethod: 'sha256' }), {
      ...seedTask('mislabelled sha256'),
      SignatureMethod: 'HmacSHA1',
    });
    assert.deepEqual(body, AUTH_FAILURE);
  });

  test('a reused Nonce gets 4500 InvalidRequest.ReplayAttack the second time', async () => {
    const nonce = uniqueNonce();
    const jobName = 'replayed nonce';
    const first = await sdkCall(sdkClient(emu), { ...seedTask(jobName), Nonce: nonce });
    assertSuccess(first);
    const second = await sdkCall(sdkClient(emu), { ...seedTask(jobName), Nonce: nonce });
    assertReplay(second);
    assert.equal(countTasksNamed(emu, jobName), 1);
  });

  test('a Timestamp 3 hours old gets 4500 and stores nothing', async () => {
    const jobName = 'three hours old';
    const body = await sdkCall(sdkClient(emu), { ...seedTask(jobName), Timestamp: nowSeconds() - 3 * 3600 });
    assertReplay(body);
    assert.equal(countTasksNamed(emu, jobName), 0);
  });

  test('a Timestamp 3 hours ahead gets 4500 too', async () => {
    const body = await sdkCall(sdkClient(emu), { ...seedTask('three hours ahead'), Timestamp: nowSeconds() + 3 * 3600 });
    assertReplay(body);
  });

  test('@tencent-sdk/capi@2.0.3 in v1 mode: PascalCased names and Version=undefined get 4100, no crash', async (t) => {
    const capiOptions = (host) => ({
      host,
      protocol: 'http',
      path: '/v2/index.php',
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
      serviceType: 'cdb',
      region: 'gz',
    });

    // 1. What capi puts on the wire, captured by a local server.
    const captured = [];
    const capture = createServer((req, res) => {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        captured.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(AUTH_FAILURE));
      });
    });
    await new Promise((resolve) => capture.listen(0, '127.0.0.1', resolve));
    try {
      await new TencentCapi(capiOptions(`127.0.0.1:${capture.address().port}`)).request(seedTask());
    } finally {
      capture.closeAllConnections();
      capture.close();
    }
    assert.equal(captured.length, 1);
    const [sent] = captured;
    assert.equal(sent.method, 'POST');
    assert.equal(sent.url, '/v2/index.php');
    assert.equal(sent.headers['content-type'], 'application/json'); // but the body is urlencoded
    const form = new URLSearchParams(sent.body);
    assert.equal(form.get('Action'), 'CreateCdbDataSyncTask');
    assert.equal(form.get('JobName'), 'myJobName');
    assert.equal(form.get('jobName'), null);
    assert.equal(form.get('SrcInfo.0.CdbUInstanceId'), 'cdb-c1nl9rpv');
    assert.equal(form.get('Version'), 'undefined'); // signed as `Version=`
    assert.equal(form.get('Region'), 'gz');
    assert.equal(form.get('SecretId'), SECRET_ID);
    assert.ok(form.get('Signature'));
    t.diagnostic(`capi sent: ${sent.method} ${sent.url} content-type ${sent.headers['content-type']} body ${sent.body}`);

    // 2. The same call against the emulator: an error envelope, never success or a crash.
    const body = await new TencentCapi(capiOptions(emu.host)).request(seedTask());
    t.diagnostic(`the emulator answered: ${JSON.stringify(body)}`);
    const missingParameter =
      body?.code === 4000 &&
      body.codeDesc === 'InvalidParameter' &&
      /^invalid parameter: missing required parameter \S+$/.test(body.message) &&
      Object.keys(body).length === 3;
    if (!missingParameter) assert.deepEqual(body, AUTH_FAILURE);

    // 3. The emulator is alive and serves the legacy SDK normally afterwards.
    await assertStillServing(emu);
  });

  test('the emulator is still running and serving after every test above', async () => {
    await assertStillServing(emu);
  });
});

describe('qcloudapi-sdk@0.2.1 over HTTPS', () => {
  let emu;
  before(async () => {
    emu = await startEmulator(['--tls-cert', tlsFile('cert.pem'), '--tls-key', tlsFile('key.pem')]);
  });
  after(async () => {
    try {
      assert.ok(emu?.isRunning(), 'the emulator crashed during the tests');
    } finally {
      await emu?.stop();
    }
  });

  for (const [algorithm, settings] of [
    ['HmacSHA1', {}],
    ['HmacSHA256', { signatureMethod: 'sha256' }],
  ]) {
    test(`protocol https (strictSSL false), ${algorithm}: code 0 and the task is stored`, async () => {
      const body = await sdkCall(sdkClient(emu, { protocol: 'https', ...settings }), seedTask('通过 HTTPS'));
      assertSuccess(body);
      assert.equal(storedTask(emu, body.data.jobId).job_name, '通过 HTTPS');
    });
  }

  test('plain HTTP to the HTTPS port does not reach the API', async () => {
    await assert.rejects(sdkCall(sdkClient(emu), seedTask('plain http to tls')));
    assert.equal(countTasksNamed(emu, 'plain http to tls'), 0);
  });

  test('the HTTPS emulator is still running and serving', async () => {
    await assertStillServing(emu, { protocol: 'https' });
  });
});
