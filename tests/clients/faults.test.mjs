// Injected faults (issue 6) as the real legacy Node SDK (npm qcloudapi-sdk@0.2.1, unmodified)
// sees them. The SDK sends with `request` (json: true) and hands its callback only
// `(error, body)`: the HTTP status and headers never reach the caller. What each transport
// fault turns into is asserted exactly as observed, with the reason next to it.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startEmulator, uniqueNonce, sdkClient } from './emulator.mjs';

const require = createRequire(import.meta.url);
// The HTTP library the SDK itself uses (its own dependency), to show what the SDK hides.
const request = require('request');

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});
beforeEach(async () => {
  // A clean emulator per test: no tasks, rules or journal.
  const res = await control('POST', '/_emulator/reset', {});
  assert.equal(res.status, 200);
});

/** A control-plane call; returns { status, body } with the body parsed. */
async function control(method, path, body) {
  const res = await fetch(`http://${emu.host}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function addFault(rule) {
  const res = await control('POST', '/_emulator/faults', rule);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

async function journal(query = '') {
  return (await control('GET', `/_emulator/requests${query}`)).body;
}

/**
 * One SDK call that always resolves with what the SDK's callback got: { error, body }.
 * `extra` is the SDK's fourth argument, merged into the `request` options (e.g. headers).
 */
function call(data, options = {}, extra = undefined) {
  const capi = sdkClient(emu);
  return new Promise((resolve) => {
    capi.request(
      { Nonce: uniqueNonce(), ...data },
      { ...capi.defaults, ...options },
      (error, body) => resolve({ error, body }),
      extra,
    );
  });
}

/** The same signed request the SDK would send, through `request` directly: { error, response, body }. */
function rawCall(data, method) {
  const capi = sdkClient(emu);
  const opts = { ...capi.defaults, method };
  const signed = capi.generateQueryString({ Nonce: uniqueNonce(), ...data }, opts);
  const option = { url: capi.generateUrl(opts), method, json: true };
  if (method === 'POST') {
    option.form = Object.fromEntries(new URLSearchParams(signed));
  } else {
    option.url += `?${signed}`;
  }
  return new Promise((resolve) => {
    request(option, (error, response, body) => resolve({ error, response, body }));
  });
}

function seedTask(jobName = 'faults') {
  return {
    Action: 'CreateCdbDataSyncTask',
    jobName,
    srcInfo: [{ cdbUInstanceId: 'cdb-c1nl9rpv', isOverrideRoot: 0 }],
    dstInfo: [{ cdbUInstanceId: 'cdb-d2sagyed', regionId: 'sh', zoneId: 200001 }],
  };
}

for (const method of ['POST', 'GET']) {
  test(`{"http":502} by ${method}: the SDK callback gets no error and an undefined body`, async () => {
    const id = await addFault({ action: 'GetCdbDataSyncTaskList', http: 502, times: 1 });
    const got = await call({ Action: 'GetCdbDataSyncTaskList' }, { method });
    // `request` treats any complete HTTP response as success (no error for a 5xx); the body is
    // empty, so with json: true it stays undefined (JSON.parse of nothing throws and request
    // swallows it). The SDK passes only (error, body) on, so the 502 itself is invisible: the
    // caller sees error === null and body === undefined, and `body.code` would throw a TypeError.
    assert.equal(got.error, null);
    assert.equal(got.body, undefined);

    // The status really was 502: the same request through `request` directly shows it.
    await addFault({ action: 'GetCdbDataSyncTaskList', http: 502, times: 1 });
    const raw = await rawCall({ Action: 'GetCdbDataSyncTaskList' }, method);
    assert.equal(raw.error, null);
    assert.equal(raw.response.statusCode, 502);
    assert.equal(raw.body, undefined);

    const { entries } = await journal('?action=GetCdbDataSyncTaskList');
    assert.equal(entries.length, 2);
    assert.equal(entries[0].faultId, id);
    assert.equal(entries[0].transport, 'http502');
    assert.equal(entries[0].method, method);
    assert.equal(entries[0].params.Signature, '(redacted)');
    assert.equal(entries[0].params.RequestClient, 'SDK_NODEJS_0.2.1');
    // The rule expired after one firing; the next call gets the real answer.
    assert.deepEqual((await control('GET', '/_emulator/faults')).body, { faults: [] });
    const real = await call({ Action: 'GetCdbDataSyncTaskList' }, { method });
    assert.equal(real.error, null);
    assert.equal(real.body.code, 0);
  });
}

test('{"http":503} on a Create changes nothing: the SDK retry with the same Nonce is no replay', async () => {
  await addFault({ action: 'CreateCdbDataSyncTask', http: 503, times: 1 });
  const nonce = uniqueNonce();
  const first = await call({ ...seedTask(), Nonce: nonce });
  assert.equal(first.error, null);
  assert.equal(first.body, undefined); // as for 502: the status is lost in the SDK
  assert.equal((await control('GET', '/_emulator/health')).body.tasks, 0);
  const retry = await call({ ...seedTask(), Nonce: nonce });
  assert.equal(retry.error, null);
  assert.deepEqual(retry.body, { code: 0, message: '', codeDesc: 'Success', data: { jobId: retry.body.data?.jobId } });
  assert.equal(typeof retry.body.data.jobId, 'number');
  assert.equal((await control('GET', '/_emulator/health')).body.tasks, 1);
});

for (const method of ['POST', 'GET']) {
  test(`{"emptyBody":true} by ${method}: the SDK callback gets no error and an undefined body`, async () => {
    const id = await addFault({ action: 'GetCdbDataSyncTaskList', emptyBody: true, times: 1 });
    const got = await call({ Action: 'GetCdbDataSyncTaskList' }, { method });
    // HTTP 200 with Content-Length: 0. `request` reads no bytes, so response.body is never set;
    // json: true then tries JSON.parse(undefined), which throws and is swallowed. The callback
    // gets (null, undefined): indistinguishable, for the SDK's caller, from the 502 above.
    assert.equal(got.error, null);
    assert.equal(got.body, undefined);

    await addFault({ action: 'GetCdbDataSyncTaskList', emptyBody: true, times: 1 });
    const raw = await rawCall({ Action: 'GetCdbDataSyncTaskList' }, method);
    assert.equal(raw.error, null);
    assert.equal(raw.response.statusCode, 200);
    assert.equal(raw.response.headers['content-length'], '0');
    assert.equal(raw.body, undefined);

    const { entries } = await journal('?action=GetCdbDataSyncTaskList');
    assert.equal(entries[0].faultId, id);
    assert.equal(entries[0].transport, 'emptyBody');
  });
}

for (const method of ['POST', 'GET']) {
  test(`{"truncatedBody":true} by ${method}: the SDK callback gets an "aborted" ECONNRESET error`, async () => {
    const id = await addFault({ action: 'GetCdbDataSyncTaskList', truncatedBody: true, times: 1 });
    const got = await call({ Action: 'GetCdbDataSyncTaskList' }, { method });
    // The emulator announces a whole envelope in Content-Length, sends half of it and closes the
    // connection. Node's HTTP client sees the response end early and fails it with
    // Error("aborted") (code ECONNRESET); `request` passes that error on without a body, and so
    // does the SDK: (error, undefined). Unlike the two faults above, the caller does get an error.
    assert.ok(got.error instanceof Error);
    assert.equal(got.error.message, 'aborted');
    assert.equal(got.error.code, 'ECONNRESET');
    assert.equal(got.body, undefined);

    const { entries } = await journal('?action=GetCdbDataSyncTaskList');
    assert.equal(entries.length, 1);
    assert.equal(entries[0].faultId, id);
    assert.equal(entries[0].transport, 'truncatedBody');

    // The emulator is fine afterwards.
    const real = await call({ Action: 'GetCdbDataSyncTaskList' }, { method });
    assert.equal(real.error, null);
    assert.equal(real.body.code, 0);
  });
}

test('an API-code fault reaches the SDK as the documented envelope, then the real answer', async () => {
  const id = await addFault({ action: 'StartCdbDataSyncTask', code: 30010, times: 1 });
  const got = await call({ Action: 'StartCdbDataSyncTask', jobId: 12345 });
  assert.equal(got.error, null);
  assert.deepEqual(got.body, {
    code: 30010,
    message: 'the task is running and cannot be modified',
    codeDesc: 'OperationDenied',
  });
  assert.deepEqual(Object.keys(got.body), ['code', 'message', 'codeDesc']);
  const { entries } = await journal('?action=StartCdbDataSyncTask');
  assert.equal(entries.length, 1);
  assert.equal(entries[0].code, 30010);
  assert.equal(entries[0].faultId, id);
  assert.equal(entries[0].params.jobId, '12345');
  // The rule fired once: the same call now gets the emulator's real answer (no such task).
  const real = await call({ Action: 'StartCdbDataSyncTask', jobId: 12345 });
  assert.equal(real.error, null);
  assert.equal(real.body.code, 9591);
  assert.equal(real.body.codeDesc, 'TaskNotExist');
});

test('a fault with its own message and a codeDesc reaches the SDK verbatim', async () => {
  await addFault({ action: 'CreateCdbDataSyncTask', codeDesc: 'InstanceNotExists', message: '实例不存在: cdb-x', times: 1 });
  const got = await call(seedTask());
  assert.equal(got.error, null);
  assert.deepEqual(got.body, { code: 9572, message: '实例不存在: cdb-x', codeDesc: 'InstanceNotExists' });
  assert.equal((await control('GET', '/_emulator/health')).body.tasks, 0);
});

test('the X-Emulator-Fault header passed through the SDK extra options forces one answer', async () => {
  const got = await call(seedTask(), {}, { headers: { 'X-Emulator-Fault': '9572' } });
  assert.equal(got.error, null);
  assert.deepEqual(got.body, { code: 9572, message: 'instance does not exist', codeDesc: 'InstanceNotExists' });
  const { entries } = await journal();
  assert.equal(entries.length, 1);
  assert.equal(entries[0].faultId, 'header');
  const real = await call(seedTask());
  assert.equal(real.body.code, 0);
});
