// The real legacy Node SDK (npm qcloudapi-sdk@0.2.1), unmodified, against the emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, sdkClient, sdkCall, seedTask, storedTask } from './emulator.mjs';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

/** One call of the real SDK; options may set the method. */
const call = (data, options = {}) => sdkCall(sdkClient(emu), data, options);

for (const method of ['POST', 'GET']) {
  test(`the seed task as nested objects by ${method}`, async () => {
    const body = await call(seedTask(), { method });
    assert.equal(body.code, 0);
    assert.equal(body.message, '');
    assert.equal(body.codeDesc, 'Success');
    assert.deepEqual(Object.keys(body), ['code', 'message', 'codeDesc', 'data']);
    const row = storedTask(emu, body.data.jobId);
    assert.equal(row.job_name, 'myJobName');
    assert.equal(row.status, 1);
    assert.equal(row.src_instance_id, 'cdb-c1nl9rpv');
    assert.deepEqual(JSON.parse(row.src_db_info), [{ database: 'myDB', table: ['myTable0', 'myTable1'] }]);
    assert.equal(row.dst_instance_id, 'cdb-d2sagyed');
    assert.equal(row.dst_region_id, 4);
    assert.equal(row.dst_zone_id, 200001);
  });

  test(`a Chinese jobName with + / = & % is stored exactly by ${method}`, async () => {
    const name = '测试 job+/=&%20 灾备';
    const table = 'tbl+a/b=c&d%e';
    const task = seedTask(name);
    task.srcInfo[0].dbInfo[0].table = [table];
    const body = await call(task, { method });
    assert.equal(body.code, 0, JSON.stringify(body));
    const row = storedTask(emu, body.data.jobId);
    assert.equal(row.job_name, name);
    assert.deepEqual(JSON.parse(row.src_db_info)[0].table, [table]);
  });
}

test('an unknown destination gets the 9572 envelope through the SDK', async () => {
  const task = seedTask();
  task.dstInfo[0].cdbUInstanceId = 'cdb-nothere0';
  const body = await call(task);
  assert.deepEqual(body, {
    code: 9572,
    message: 'instance does not exist: dstInfo.0.cdbUInstanceId "cdb-nothere0"',
    codeDesc: 'InstanceNotExists',
  });
});
