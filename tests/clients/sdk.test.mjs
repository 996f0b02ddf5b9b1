// The real legacy Node SDK (npm qcloudapi-sdk@0.2.1), unmodified, against the emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startEmulator, uniqueNonce } from './emulator.mjs';

const require = createRequire(import.meta.url);
const Capi = require('qcloudapi-sdk');

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

function client() {
  return new Capi({
    SecretId: 'AKIDEMULATORDEFAULTKEY',
    SecretKey: 'emulator-default-secret',
    Region: 'gz',
    serviceType: 'cdb',
    protocol: 'http',
    host: emu.host,
  });
}

/** One SDK call; options must carry host and protocol or the SDK falls back to the real host. */
function call(data, options = {}) {
  const capi = client();
  return new Promise((resolve, reject) => {
    capi.request({ Nonce: uniqueNonce(), ...data }, { ...capi.defaults, ...options }, (error, body) =>
      error ? reject(error) : resolve(body),
    );
  });
}

function seedTask(jobName = 'myJobName') {
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

function storedTask(jobId) {
  const [row] = emu.query(`SELECT * FROM tasks WHERE job_id = ${Number(jobId)}`);
  return row;
}

for (const method of ['POST', 'GET']) {
  test(`the seed task as nested objects by ${method}`, async () => {
    const body = await call(seedTask(), { method });
    assert.equal(body.code, 0);
    assert.equal(body.message, '');
    assert.equal(body.codeDesc, 'Success');
    assert.deepEqual(Object.keys(body), ['code', 'message', 'codeDesc', 'data']);
    const row = storedTask(body.data.jobId);
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
    const row = storedTask(body.data.jobId);
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
