// One whole task lifecycle driven by the real legacy Node SDK (npm qcloudapi-sdk@0.2.1), as an
// integration would: Create, Check, poll the list until verified, Start, poll until synced,
// Delete. The emulator runs with --progression polls:1 (a task moves one phase per List read of
// it), so the polling is deterministic and needs no clock control.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, sdkClient, sdkCall } from './emulator.mjs';

const MAX_POLLS = 20;

let emu;
before(async () => {
  emu = await startEmulator(['--progression', 'polls:1']);
});
after(async () => {
  await emu?.stop();
});

/** One call of the real SDK (POST, its default). */
const call = (data) => sdkCall(sdkClient(emu), data);

function createTask({ jobName = 'myJobName', src = 'cdb-c1nl9rpv', dst = 'cdb-d2sagyed', zoneId = 200001 } = {}) {
  return {
    Action: 'CreateCdbDataSyncTask',
    jobName,
    srcInfo: [{ cdbUInstanceId: src, dbInfo: [{ database: 'myDB', table: ['myTable0', 'myTable1'] }], isOverrideRoot: 0 }],
    dstInfo: [{ cdbUInstanceId: dst, regionId: 'sh', zoneId }],
  };
}

const SUCCESS_EMPTY = { code: 0, message: '', codeDesc: 'Success', data: [] };

async function create(options) {
  const body = await call(createTask(options));
  assert.equal(body.code, 0, JSON.stringify(body));
  assert.equal(typeof body.data.jobId, 'number');
  return body.data.jobId;
}

/** The task as GetCdbDataSyncTaskList shows it (filtered by jobId), or null when it is not listed. */
async function listed(jobId) {
  const body = await call({ Action: 'GetCdbDataSyncTaskList', jobId });
  assert.equal(body.code, 0, JSON.stringify(body));
  assert.ok(body.data.totalCount === 0 || body.data.totalCount === 1, JSON.stringify(body.data));
  assert.equal(body.data.jobList.length, body.data.totalCount);
  if (body.data.totalCount === 0) return null;
  const [job] = body.data.jobList;
  assert.equal(job.jobId, jobId);
  return job;
}

/** Polls until `done(job)` (bounded); returns every job seen, in order. */
async function pollUntil(jobId, done, what) {
  const seen = [];
  for (let poll = 0; poll < MAX_POLLS; poll += 1) {
    const job = await listed(jobId);
    assert.ok(job, `task ${jobId} vanished from the list while waiting for ${what}`);
    seen.push(job);
    if (done(job)) return seen;
  }
  assert.fail(`task ${jobId} not ${what} after ${MAX_POLLS} polls; statuses seen: ${seen.map((j) => j.status).join(' ')}`);
}

test('the SDK drives create, check, poll, start, poll, delete to the end', async () => {
  const jobId = await create();

  const created = await listed(jobId);
  assert.equal(created.status, 1);
  assert.deepEqual(created.detail.checkInfo, { checkFlag: 0, checkResult: [] });
  assert.deepEqual(created.detail.jobOutput, []);

  // Verify, then poll until verification has succeeded.
  assert.deepEqual(await call({ Action: 'CheckCdbDataSyncTask', jobId }), SUCCESS_EMPTY);
  const checking = await pollUntil(jobId, (job) => job.status === 4 || job.status === 3, 'verified');
  const checkStatuses = checking.map((job) => job.status);
  assert.equal(checkStatuses.at(-1), 4, `statuses while verifying: ${checkStatuses}`);
  assert.ok(checkStatuses.slice(0, -1).every((status) => status === 2), `statuses while verifying: ${checkStatuses}`);
  const verified = checking.at(-1);
  assert.equal(verified.detail.checkInfo.checkFlag, 1);
  const steps = verified.detail.checkInfo.checkResult.stepInfo;
  assert.equal(steps.length, 9);
  assert.deepEqual(
    steps.map((step) => step.stepNo),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.ok(steps.every((step) => step.code === 0), JSON.stringify(steps));
  assert.equal(verified.detail.checkInfo.checkResult.isSuccess, 1);
  assert.deepEqual(verified.detail.jobOutput, []);

  // Start, then poll until synced, recording everything seen.
  assert.deepEqual(await call({ Action: 'StartCdbDataSyncTask', jobId }), SUCCESS_EMPTY);
  const running = await pollUntil(jobId, (job) => job.status === 9 || job.status === 8, 'synced');
  const statuses = running.map((job) => job.status);
  const progress = running.map((job) => job.progress);
  assert.equal(statuses.at(-1), 9, `statuses while syncing: ${statuses}`);
  assert.ok(statuses.includes(5), `statuses while syncing: ${statuses}`);
  assert.ok(statuses.includes(6), `statuses while syncing: ${statuses}`);
  assert.ok(statuses.every((status) => [5, 6, 9].includes(status)), `statuses while syncing: ${statuses}`);
  for (let i = 1; i < running.length; i += 1) {
    assert.ok(statuses[i] >= statuses[i - 1], `status went back: ${statuses}`);
    assert.ok(progress[i] >= progress[i - 1], `progress went back: ${progress}`);
  }
  const finished = running.at(-1);
  assert.equal(finished.progress, 100);
  assert.equal(finished.detail.jobOutput.status, 'normal_finish');
  assert.equal(finished.detail.jobOutput.stepNow, 6);
  assert.equal(finished.detail.jobOutput.stepPercent, '100.00');

  // Delete: gone from the list; a second delete finds nothing.
  assert.deepEqual(await call({ Action: 'DelCdbDataSyncTask', jobId }), SUCCESS_EMPTY);
  const after = await call({ Action: 'GetCdbDataSyncTaskList', jobId });
  assert.equal(after.code, 0);
  assert.equal(after.data.totalCount, 0);
  assert.deepEqual(after.data.jobList, []);
  assert.deepEqual(await call({ Action: 'DelCdbDataSyncTask', jobId }), {
    code: 9591,
    message: `task does not exist: jobId ${jobId}`,
    codeDesc: 'TaskNotExist',
  });
});

test('a second Check of a verifying task is 30016 naming the status', async () => {
  // Other instances than the seed's, so that this task never holds the other test's instances.
  const jobId = await create({ jobName: 'checked twice', src: 'cdb-5u7czxdx', dst: 'cdb-ek0t57qd', zoneId: 200002 });
  assert.deepEqual(await call({ Action: 'CheckCdbDataSyncTask', jobId }), SUCCESS_EMPTY);
  assert.deepEqual(await call({ Action: 'CheckCdbDataSyncTask', jobId }), {
    code: 30016,
    message:
      `the operation is not allowed in the current sync status: task ${jobId} is at status 2 (verifying); ` +
      'CheckCdbDataSyncTask needs status 1',
    codeDesc: 'InvalidParameter',
  });
  // Still verifying: the refused Check changed nothing.
  const job = await listed(jobId);
  assert.equal(job.status, 2);
});
