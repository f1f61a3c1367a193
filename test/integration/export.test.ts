/**
 * ALU-6 end to end: the export route of a local runtime reads the demo stores (DynamoDB Local,
 * fauxqs S3) and the demo partner service, and the copy is checked against what was seeded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditList, SubjectExport } from '../../functions/api/types.js';
import { demoIdentifiersOf, seedDemoSubject } from '../../local/demo.js';
import { remainingData, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/** One exported record of one source. */
type ExportRecord = SubjectExport['sources'][number]['records'][number];

const SUBJECT = 'export-subject-1';
const OTHER = 'export-subject-2';

let runtime: TestRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime('export', { demoSubjects: 0 });
  for (const subjectId of [SUBJECT, OTHER]) {
    await seedDemoSubject(runtime.clients, runtime.stores, subjectId, runtime.clock.now());
  }
  runtime.webhook.records.set(SUBJECT, 2);
  runtime.webhook.records.set(OTHER, 5);
});

afterAll(async () => {
  await runtime.stop();
});

const exportOf = (subjectId: string, body: unknown = {}, role: 'service' | 'compliance' = 'service') =>
  runtime.call<SubjectExport>('POST', `/v1/subjects/${subjectId}/export`, { body, role });

/** An exported object's content as text, whichever encoding the export chose. */
const contentOf = (record: ExportRecord): string =>
  record.encoding === 'base64'
    ? Buffer.from(String(record.content), 'base64').toString('utf8')
    : String(record.content);

describe('portability export, end to end', () => {
  it("ALU-6: a subject's export holds its customer record, alarms, video, files and partner records, and nothing else", async () => {
    // Act: with its identifiers, so the camera video and the marketing record are read too.
    const response = await exportOf(SUBJECT, { identifiers: demoIdentifiersOf(SUBJECT) });

    // Assess: the shape
    expect(response.status).toBe(200);
    const exported = response.body;
    expect(exported.format).toBe('erasure-orchestrator.export.v1');
    expect(exported.subjectId).toBe(SUBJECT);
    expect(exported.sources.map((source) => source.target).sort()).toEqual([
      'alarm-events',
      'cloud-video',
      'customer-records',
      'device-video',
      'marketing-list',
      'partner-services',
      'user-files',
    ]);
    const recordsOf = (target: string) => {
      const source = exported.sources.find((candidate) => candidate.target === target);
      expect(source, target).toMatchObject({ supported: true, truncated: false });
      return source?.records ?? [];
    };

    // Assess: each store's data, as seeded
    expect(recordsOf('customer-records')).toEqual([
      {
        subjectId: SUBJECT,
        name: 'Demo Customer 1',
        email: demoIdentifiersOf(SUBJECT).email,
        phone: '+31 20 555 0101',
        plan: 'cloud-30d',
      },
    ]);
    expect(
      recordsOf('alarm-events')
        .map((alarm) => [alarm.subjectId, alarm.alarmId, alarm.ipAddress])
        .sort(),
    ).toEqual([
      [SUBJECT, 'alarm-1', '192.0.2.1'],
      [SUBJECT, 'alarm-2', '192.0.2.2'],
      [SUBJECT, 'alarm-3', '192.0.2.3'],
    ]);
    expect(recordsOf('cloud-video').map((video) => [video.key, contentOf(video)])).toEqual([
      [`video/${SUBJECT}/clip-1.mp4`, 'demo video 1'],
      [`video/${SUBJECT}/clip-2.mp4`, 'demo video 2'],
      [`video/${SUBJECT}/clip-3.mp4`, 'demo video 3'],
    ]);
    expect(recordsOf('user-files').map((file) => [file.key, contentOf(file), file.size])).toEqual([
      [`files/${SUBJECT}/document-1.txt`, 'demo file 1', 11],
      [`files/${SUBJECT}/document-2.txt`, 'demo file 2', 11],
    ]);
    expect(recordsOf('device-video').map((video) => video.key)).toEqual(
      demoIdentifiersOf(SUBJECT).deviceId.map((serial) => `devices/${serial}/clip-1.mp4`),
    );
    expect(recordsOf('marketing-list')).toEqual([
      expect.objectContaining({ email: demoIdentifiersOf(SUBJECT).email, newsletter: 'weekly' }),
    ]);
    expect(recordsOf('partner-services')).toEqual([
      { subjectId: SUBJECT, source: 'partner-services', recordCount: 2 },
    ]);

    // Assess: nothing of the other subject
    expect(JSON.stringify(exported)).not.toContain(OTHER);

    // Assess: nothing was deleted, here or at the partner
    expect(await remainingData(runtime, SUBJECT)).toMatchObject({
      customer: expect.objectContaining({ subjectId: { S: SUBJECT } }),
      alarms: 3,
      videos: 3,
      files: 2,
      webhookErasures: [],
    });
    expect(runtime.webhook.records.get(SUBJECT)).toBe(2);

    // Assess: audited (ALE-5), with counts and without the subject id or any of the data
    const audit = await runtime.call<AuditList>('GET', `/v1/audit?subjectId=${SUBJECT}`, {
      role: 'compliance',
    });
    const generated = audit.body.entries.filter((entry) => entry.type === 'export.generated');
    expect(generated).toHaveLength(1);
    expect(generated[0]?.detail).toMatchObject({
      'customer-records.records': 1,
      'alarm-events.records': 3,
      'cloud-video.records': 3,
      'user-files.records': 2,
      'partner-services.records': 1,
      'cloud-video.truncated': false,
    });
    const stored = JSON.stringify(generated);
    for (const secret of [SUBJECT, demoIdentifiersOf(SUBJECT).email, 'demo video', '192.0.2.1']) {
      expect(stored).not.toContain(secret);
    }
  });

  it('ALU-6: an export of some data classes reads only their targets, for the compliance role too', async () => {
    // Act
    const response = await exportOf(OTHER, { dataClasses: ['cloud-video'] }, 'compliance');

    // Assess
    expect(response.status).toBe(200);
    expect(response.body.dataClasses).toEqual(['cloud-video']);
    expect(response.body.sources.map((source) => [source.target, source.records.length])).toEqual([
      ['cloud-video', 3],
      ['device-video', 0],
    ]);
    // Video per camera is keyed by the serials, which this export was not given: said, not hidden.
    expect(response.body.sources[1]?.unaddressed).toBe('deviceId');
    expect(JSON.stringify(response.body)).not.toContain(SUBJECT);
  });

  it('ALU-6: an unknown data class is a 400 naming its position, and nothing is audited', async () => {
    // Prepare
    const before = await runtime.call<AuditList>('GET', `/v1/audit?subjectId=${OTHER}`, {
      role: 'compliance',
    });

    // Act
    const response = await runtime.call('POST', `/v1/subjects/${OTHER}/export`, {
      body: { dataClasses: ['cloud-video', 'no-such-class'] },
    });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'validation_failed', field: 'dataClasses[1]' });
    const after = await runtime.call<AuditList>('GET', `/v1/audit?subjectId=${OTHER}`, {
      role: 'compliance',
    });
    expect(after.body.entries).toHaveLength(before.body.entries.length);
  });
});
