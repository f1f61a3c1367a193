/**
 * The compliance dashboard end to end in a real browser: Debian's Chromium driven by
 * playwright-core, against the local runtime on the emulators, with data seeded through the API.
 * Load, filter, drill down, re-drive, place and release a hold, download CSV, preview an erasure,
 * keyboard use; screenshots go to test-output/.
 *
 * The report panels depend on `GET /v1/reports/*`: against an API that serves them (status 200)
 * the tables, filters and charts are asserted on the runtime's own data; against one that does not
 * (404) the "not available" state is. A last test renders contract-shaped report answers
 * (test fixtures routed in the browser, not the runtime) to check the charts and table either way.
 *
 * Skipped, with a message, only when no Chromium is installed (`CHROMIUM_PATH`, else
 * /usr/bin/chromium; `.ci/run` installs Debian's package when it can).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErasureRequestReceipt } from '../../functions/api/types.js';
import { type ApiBody, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const browserFound = existsSync(CHROMIUM);
if (!browserFound) {
  console.warn(
    `dashboard browser test SKIPPED: no Chromium at ${CHROMIUM}. Install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH.`,
  );
}

const SHOTS = join('test-output');

/** playwright-core has no test runner matchers: poll a locator's state with vitest's expect.poll. */
const text = async (locator: Locator): Promise<string> => (await locator.textContent()) ?? '';
const focused = (locator: Locator): Promise<boolean> =>
  locator.evaluate((element) => element === (globalThis as unknown as BrowserGlobals).document.activeElement);
/** The few browser globals the page functions use (this file compiles without the DOM types). */
interface BrowserGlobals {
  readonly document: {
    readonly activeElement: unknown;
    readonly body: { readonly textContent: string | null };
  };
}

/** Report answers shaped as the /v1/reports contract says, for the fixture test. */
const FIXTURES = {
  deadlines: {
    asOf: '2026-12-26T12:00:00.000Z',
    summary: { open: 3, overdue: 1, dueWithin7Days: 1, extended: 1 },
    byDaysToDeadline: [
      { bucket: 'overdue', count: 1 },
      { bucket: '0-7', count: 1 },
      { bucket: '8-14', count: 0 },
      { bucket: '15-21', count: 0 },
      { bucket: '22-30', count: 1 },
      { bucket: '31+', count: 0 },
    ],
    requests: [
      {
        requestId: 'req_fixture_overdue',
        status: 'blocked',
        origin: 'api',
        dataClasses: ['customer-profile', 'cloud-video'],
        receivedAt: '2026-11-21T12:00:00.000Z',
        deadline: '2026-12-21T12:00:00.000Z',
        daysToDeadline: -5,
        overdue: true,
        extended: false,
        blockedBy: ['hold_fixture'],
        blockedSince: '2026-11-22T08:00:00.000Z',
      },
      {
        requestId: 'req_fixture_soon',
        status: 'dispatched',
        origin: 'schedule',
        dataClasses: ['suspended-account'],
        receivedAt: '2026-11-28T12:00:00.000Z',
        deadline: '2026-12-28T12:00:00.000Z',
        daysToDeadline: 2,
        overdue: false,
        extended: false,
      },
      {
        requestId: 'req_fixture_extended',
        status: 'received',
        origin: 'api',
        dataClasses: ['closed-account'],
        receivedAt: '2026-12-20T12:00:00.000Z',
        deadline: '2027-01-19T12:00:00.000Z',
        daysToDeadline: 24,
        overdue: false,
        extended: true,
      },
    ],
  },
  failures: {
    asOf: '2026-12-26T12:00:00.000Z',
    requests: [
      {
        requestId: 'req_fixture_failed',
        origin: 'api',
        dataClasses: ['marketing-contact'],
        receivedAt: '2026-12-10T12:00:00.000Z',
        deadline: '2027-01-09T12:00:00.000Z',
        redriveCount: 0,
        failedTasks: [
          {
            taskId: 'task_fixture',
            target: 'partner-services',
            dataClass: 'marketing-contact',
            action: 'delete',
            attempts: 5,
            errorCode: 'http_503',
            failedAt: '2026-12-10T12:05:00.000Z',
          },
        ],
      },
    ],
  },
  holds: {
    asOf: '2026-12-26T12:00:00.000Z',
    holds: [
      {
        holdId: 'hold_fixture',
        subjectId: 'customer-42',
        dataClasses: ['customer-profile'],
        reason: 'litigation-hold',
        placedAt: '2026-11-20T09:00:00.000Z',
        targets: ['customer-records'],
        blockedRequests: [{ requestId: 'req_fixture_overdue', status: 'blocked' }],
        heldDeletions: [
          {
            dataClass: 'closed-account',
            ruleRef: 'ALL-1',
            action: 'delete',
            dueAt: '2026-12-01T00:00:00.000Z',
            due: true,
          },
        ],
      },
    ],
  },
  erasures: {
    from: '2026-07',
    to: '2026-12',
    rows: [
      ['2026-07', 'cloud-video', 'IMOU-1', 41],
      ['2026-08', 'cloud-video', 'IMOU-1', 38],
      ['2026-09', 'cloud-video', 'IMOU-1', 52],
      ['2026-10', 'cloud-video', 'IMOU-1', 47],
      ['2026-11', 'cloud-video', 'IMOU-1', 60],
      ['2026-12', 'cloud-video', 'IMOU-1', 22],
      ['2026-08', 'customer-profile', 'ALU-2', 12],
      ['2026-09', 'customer-profile', 'ALU-2', 9],
      ['2026-10', 'customer-profile', 'ALU-2', 15],
      ['2026-11', 'customer-profile', 'ALU-2', 18],
      ['2026-12', 'customer-profile', 'ALU-2', 7],
      ['2026-09', 'suspended-account', 'ALL-3', 6],
      ['2026-11', 'suspended-account', 'ALL-3', 11],
      ['2026-12', 'suspended-account', 'ALL-3', 4],
    ].map(([month, dataClass, ruleRef, deletions]) => ({
      month,
      dataClass,
      ruleRef,
      deletions,
      anonymisations: 0,
      restrictions: 0,
      items: Number(deletions) * 3,
    })),
  },
} as const;

describe.runIf(browserFound)('the compliance dashboard in Chromium', () => {
  let rt: TestRuntime;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  /** What the runtime answers for each report: 200 (served) or 404 (not on this API version). */
  const reportStatus: Record<string, number> = {};
  const ids = { completed: '', blocked: '', failed: '', hold: '' };

  const call = (method: string, path: string, body?: unknown) =>
    rt.call<ApiBody>(method, path, { role: 'compliance', ...(body === undefined ? {} : { body }) });
  const submit = async (subjectId: string, dataClasses?: string[]) => {
    const answer = await rt.call<ErasureRequestReceipt>('POST', '/v1/erasure-requests', {
      body: {
        subjectId,
        reason: 'gdpr-art17-request',
        ...(dataClasses === undefined ? {} : { dataClasses }),
      },
      headers: { 'Idempotency-Key': `dashboard-${subjectId}` },
    });
    expect(answer.status).toBe(202);
    return answer.body.requestId;
  };
  /** The whole page, or the viewport with `section` scrolled to its top. */
  const shot = async (name: string, section?: string) => {
    if (section !== undefined) await page.locator(section).scrollIntoViewIfNeeded();
    if (section !== undefined) await page.evaluate(`document.querySelector('${section}').scrollIntoView()`);
    await page.screenshot({ path: join(SHOTS, `dashboard-${name}.png`), fullPage: section === undefined });
  };
  const openDashboard = async () => {
    await page.goto(`${rt.apiUrl}/dashboard`);
    await page.getByRole('heading', { level: 1, name: /Compliance/ }).waitFor();
    // Every report panel has settled: rendered, not available, or failed.
    await page.waitForFunction(
      () => !(globalThis as unknown as BrowserGlobals).document.body.textContent?.includes('Loading…'),
    );
  };

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    rt = await startTestRuntime('dashboard', { demoSubjects: 3, clockStart: '2026-11-21T12:00:00.000Z' });
    // A request held by a legal hold (open, blocked), received first: overdue by the end.
    const hold = await call('POST', '/v1/legal-holds', {
      subjectId: 'demo-subject-2',
      reason: 'litigation-hold',
    });
    expect(hold.status).toBe(201);
    ids.hold = String(hold.body.holdId);
    ids.blocked = await submit('demo-subject-2');
    // 20 days later: one that completes, verified, and one whose partner webhook keeps failing.
    rt.clock.set('2026-12-11T12:00:00.000Z');
    ids.completed = await submit('demo-subject-1', ['customer-profile', 'cloud-video', 'suspended-account']);
    await rt.drainQueue();
    rt.webhook.setFailure(503);
    ids.failed = await submit('demo-subject-3', ['marketing-contact']);
    await rt.drainQueue();
    rt.webhook.setFailure(undefined);
    expect((await call('GET', `/v1/erasure-requests/${ids.completed}`)).body.status).toBe('completed');
    expect((await call('GET', `/v1/erasure-requests/${ids.failed}`)).body.status).toBe('partially_failed');
    expect((await call('POST', '/v1/audit/anchors')).status).toBeLessThan(300);
    // An account suspended 2026-10-05: deleted 3 months later (ALL-3), 10 days after the page's day.
    const suspended = await rt.call('POST', '/v1/lifecycle-events', {
      body: {
        subjectId: 'dashboard-suspended-1',
        type: 'account.suspended',
        occurredAt: '2026-10-05T12:00:00.000Z',
      },
    });
    expect(suspended.status).toBe(202);
    // 15 days on: the held request is past its 30 days, the failed one has 15 left.
    rt.clock.set('2026-12-26T12:00:00.000Z');
    for (const name of ['deadlines', 'failures', 'holds', 'erasures', 'upcoming']) {
      reportStatus[name] = (await call('GET', `/v1/reports/${name}`)).status;
      expect([200, 404]).toContain(reportStatus[name]);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // A 4xx is an answer the page shows (a report this API lacks, a refused action); Chromium logs it too.
      if (message.type() === 'error' && !/status of 4\d\d/.test(message.text()))
        problems.push(message.text());
    });
    page.on('response', (response) => {
      // The API's 404s are answers the page shows; anything else missing is the page's own fault.
      const { pathname } = new URL(response.url());
      if (response.status() === 404 && !pathname.startsWith('/v1/')) problems.push(`not found: ${pathname}`);
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(rt.apiUrl) && !request.url().startsWith('blob:'))
        problems.push(`fetched from outside: ${request.url()}`);
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await rt?.stop();
  });

  it('loads from the runtime with nothing from elsewhere, each report panel rendered or marked not available', async () => {
    await openDashboard();
    await shot('overview');
    // A subject's chain can be verified from the start, before any request is opened.
    await page.getByRole('button', { name: 'Verify chain' }).waitFor();

    const notes = page.locator('.unavailable');
    if (reportStatus.deadlines === 200) {
      await page.locator('#deadline-chart').waitFor();
      const overdue = page.locator(`#requests-table tr[data-request-id="${ids.blocked}"]`);
      await expect.poll(() => overdue.getAttribute('class')).toMatch(/row-overdue/);
      await expect.poll(() => text(overdue)).toContain('Overdue by 5 days');
      await expect.poll(() => text(page.locator('.cards'))).toContain('Overdue');
    } else {
      await expect
        .poll(() => text(page.locator('#deadline-chart-panel .unavailable')))
        .toContain('GET /v1/reports/deadlines');
    }
    if (reportStatus.erasures === 200) await page.locator('#erasure-chart').waitFor();
    else
      await expect
        .poll(() => text(page.locator('#erasure-chart-panel .unavailable')))
        .toContain('GET /v1/reports/erasures');
    if (reportStatus.failures === 200)
      await expect
        .poll(() => text(page.locator(`#requests-table tr[data-request-id="${ids.failed}"]`)))
        .toContain('partner-services');
    if (reportStatus.holds !== 200)
      await expect.poll(() => text(page.locator('#holds .unavailable'))).toContain('/v1/reports/holds');
    // Coming up: the suspended account's deletion, 10 days ahead; none within 5 days.
    if (reportStatus.upcoming === 200) {
      const upcoming = page.locator('#upcoming-table tbody tr', { hasText: 'suspended-account' });
      await expect.poll(() => text(upcoming)).toContain('ALL-3');
      await shot('upcoming', '#upcoming');
      await page.locator('#upcoming-days').fill('5');
      await page.locator('#upcoming').getByRole('button', { name: 'Show' }).click();
      await expect
        .poll(() => page.locator('#upcoming-table tbody tr', { hasText: 'suspended-account' }).count())
        .toBe(0);
    } else {
      await expect.poll(() => text(page.locator('#upcoming .unavailable'))).toContain('/v1/reports/upcoming');
    }
    // deadlines: its chart and its table; erasures: its chart; failures and holds: one each.
    const expected =
      (reportStatus.deadlines === 404 ? 1 : 0) + // its chart
      (reportStatus.erasures === 404 ? 1 : 0) +
      (reportStatus.deadlines === 404 || reportStatus.failures === 404 ? 1 : 0) + // the requests table
      (reportStatus.holds === 404 ? 1 : 0) +
      (reportStatus.upcoming === 404 ? 1 : 0);
    expect(await notes.count()).toBe(expected);
    expect(problems).toEqual([]);
  });

  it('filters the requests by status, data class and overdue', async () => {
    if (reportStatus.deadlines !== 200) {
      // Nothing to filter without the deadlines report: the filters are not offered.
      await expect
        .poll(() => page.locator('#filter-status').count())
        .toBe(reportStatus.failures === 200 ? 1 : 0);
      return;
    }
    const rows = page.locator('#requests-table tbody tr');
    await page.getByLabel('Status', { exact: true }).selectOption('blocked');
    await expect.poll(() => rows.count()).toBe(1);
    await expect.poll(() => rows.first().getAttribute('data-request-id')).toBe(ids.blocked);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('Overdue only').check();
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('Data class', { exact: true }).selectOption('marketing-contact');
    expect(await rows.count()).toBeGreaterThanOrEqual(1);
    await expect.poll(() => text(page.locator('#requests-count'))).toContain('shown');
    await page.getByRole('button', { name: 'Clear filters' }).click();
  });

  it('drills down into a request: facts, tasks, audit entries, and the subject chain with its verification mark', async () => {
    await page.getByLabel('Request id', { exact: true }).fill(ids.completed);
    await page.getByRole('button', { name: 'Open request' }).click();
    const detail = page.locator('#detail');
    await expect
      .poll(() => focused(detail.getByRole('heading', { name: `Request ${ids.completed}` })))
      .toBe(true);
    await expect.poll(() => text(detail.locator('.facts'))).toContain('completed');
    const tasks = detail.locator('#tasks-table tbody tr');
    expect(await tasks.count()).toBeGreaterThanOrEqual(3);
    for (const status of await tasks.locator('td .badge').allTextContents()) expect(status).toBe('verified');
    await expect.poll(() => text(detail.locator('table.audit').first())).toContain('request.completed');
    await expect.poll(() => text(detail.locator('table.audit').first())).toContain('task.verified');

    await page.getByLabel('Subject id', { exact: true }).first().fill('demo-subject-1');
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await expect.poll(() => text(page.locator('#verification-mark'))).toContain('Verified');
    await expect.poll(() => text(page.locator('#verification-mark'))).toContain('anchored in anchor');
    await shot('detail', '#detail');
  });

  it('downloads the request audit CSV and the signed certificate', async () => {
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#detail').getByRole('button', { name: 'Audit CSV' }).click(),
    ]);
    expect(csv.suggestedFilename()).toBe(`audit-${ids.completed}.csv`);
    const csvText = await readFile(await csv.path(), 'utf8');
    const [header, ...lines] = csvText.trimEnd().split('\r\n');
    expect(header?.split(',').slice(0, 4)).toEqual(['at', 'type', 'chainId', 'seq']);
    expect(lines.some((line) => line.includes(',request.completed,') && line.includes(ids.completed))).toBe(
      true,
    );
    expect(lines.every((line) => !line.includes('demo-subject-1'))).toBe(true);

    const [certificate] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Certificate (JSON)' }).click(),
    ]);
    const signed = JSON.parse(await readFile(await certificate.path(), 'utf8'));
    expect(JSON.stringify(signed)).toContain(ids.completed);
    await expect.poll(() => text(page.locator('#notice'))).toContain('Certificate downloaded');

    if (reportStatus.deadlines === 200) {
      const [report] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'deadlines.csv' }).click(),
      ]);
      const rows = (await readFile(await report.path(), 'utf8')).trimEnd().split(/\r?\n/);
      expect(rows[0]).toBe(
        'requestId,status,origin,dataClasses,receivedAt,deadline,daysToDeadline,overdue,extended,blockedBy,blockedSince',
      );
      expect(rows.some((row) => row.startsWith(`${ids.blocked},blocked,`))).toBe(true);
    } else {
      await page.getByRole('button', { name: 'deadlines.csv' }).click();
      await expect.poll(() => text(page.locator('#notice'))).toContain('deadlines.csv: 404');
    }
  });

  it('re-drives a partially failed request once the cause is fixed', async () => {
    await page.getByLabel('Request id', { exact: true }).fill(ids.failed);
    await page.getByRole('button', { name: 'Open request' }).click();
    await expect.poll(() => text(page.locator('#detail .facts'))).toContain('partially failed');
    await expect.poll(() => text(page.locator('#detail #tasks-table'))).toContain('503');
    await page.getByRole('button', { name: 'Re-drive failed tasks' }).click();
    await expect.poll(() => text(page.locator('#notice'))).toContain('Re-drive: done');
    await expect.poll(() => text(page.locator('#detail .facts'))).toContain('dispatched');
    await expect
      .poll(() => page.getByRole('button', { name: 'Re-drive failed tasks' }).isDisabled())
      .toBe(true);
    await rt.drainQueue();
    expect((await call('GET', `/v1/erasure-requests/${ids.failed}`)).body.status).toBe('completed');
  });

  it('places a legal hold (once, however often the button is clicked) and releases it, both in the audit trail', async () => {
    const holdsPlaced = async () =>
      (
        (await call('GET', '/v1/audit?subjectId=demo-subject-1&limit=200')).body.entries as { type: string }[]
      ).filter((entry) => entry.type === 'hold.placed').length;
    const before = await holdsPlaced();
    await page.locator('#hold-subject').fill('demo-subject-1');
    await page.locator('#hold-reason').fill('litigation-hold');
    await page.locator('#hold-classes').fill('customer-profile, cloud-video');
    await page
      .locator('#hold-identifiers')
      .fill('email=customer1@example.test\ndeviceId=CAM-0001\ndeviceId=CAM-001F');
    await page.getByRole('button', { name: 'Place hold' }).dblclick();
    await expect.poll(() => text(page.locator('#notice'))).toMatch(/Hold hold_\S+ placed/);
    await expect.poll(holdsPlaced).toBe(before + 1);
    const holdId = /Hold (\S+) placed/.exec((await page.locator('#notice').textContent()) ?? '')?.[1] ?? '';
    // The identifiers typed are the hold's: they protect that data from other subjects' requests.
    expect((await rt.deps.holds.find(holdId))?.identifiers).toEqual({
      email: ['customer1@example.test'],
      deviceId: ['CAM-0001', 'CAM-001F'],
    });
    const placed = page.locator('#placed-holds tbody tr', { hasText: holdId });
    await expect.poll(() => text(placed)).toContain('active');
    if (reportStatus.holds === 200) {
      const row = page.locator(`#holds-table tr[data-hold-id="${holdId}"]`);
      await row.waitFor();
      // The identifier names the hold protects from any subject's request (never their values).
      await expect.poll(() => text(row)).toContain('deviceId, email');
      expect(await text(row)).not.toContain('customer1@example.test');
      // The scheduled deletions the hold stops, as the report lists them.
      const reported = (await call('GET', '/v1/reports/holds')).body.holds as {
        holdId: string;
        heldDeletions: { dataClass: string; ruleRef: string }[];
      }[];
      const held = reported.find((hold) => hold.holdId === holdId)?.heldDeletions ?? [];
      const shown =
        held.length === 0
          ? 'none'
          : held.length <= 3
            ? `${held[0]?.dataClass} (${held[0]?.ruleRef}), due`
            : `${held.length} deletions`;
      expect(await text(row)).toContain(shown);
    }
    await shot('holds', '#holds');

    await placed.getByRole('button', { name: `Release ${holdId}` }).click();
    await expect.poll(() => text(page.locator('#notice'))).toContain(`Hold ${holdId} released`);
    await expect.poll(() => text(placed)).toContain('released');
    const trail = await call('GET', '/v1/audit?subjectId=demo-subject-1&limit=200');
    const types = (trail.body.entries as { type: string; detail?: { holdId?: string } }[])
      .filter((entry) => entry.detail?.holdId === holdId)
      .map((entry) => entry.type);
    expect(types).toEqual(['hold.placed', 'hold.released']);
    // A hold that does not exist: the API's refusal is shown as it is.
    await page.locator('#release-hold-id').fill('hold_unknown');
    await page.getByRole('button', { name: 'Release hold', exact: true }).click();
    await expect.poll(() => text(page.locator('#notice'))).toContain('Release hold_unknown: 404');
    // The answer shows where the user is: the notice stays in view however far down the form is.
    const box = await page.locator('#notice').boundingBox();
    const viewport = page.viewportSize();
    expect(box).not.toBeNull();
    expect(box?.y).toBeGreaterThanOrEqual(0);
    expect((box?.y ?? 0) + (box?.height ?? 0)).toBeLessThanOrEqual(viewport?.height ?? 0);
    await page.screenshot({ path: join(SHOTS, 'dashboard-notice.png') });
  });

  it('previews an erasure of a held subject: blocked with the hold id shown, and nothing changed', async () => {
    const trail = async () =>
      (
        (await call('GET', '/v1/audit?subjectId=demo-subject-2&limit=200')).body.entries as { type: string }[]
      ).map((entry) => entry.type);
    const before = {
      trail: await trail(),
      request: (await call('GET', `/v1/erasure-requests/${ids.blocked}`)).body,
      deadlines: await call('GET', '/v1/reports/deadlines'),
      schedule: (await call('GET', '/v1/subjects/demo-subject-2/schedule')).body,
    };

    await page.locator('#preview-subject').fill('demo-subject-2');
    await page.locator('#preview-classes').fill('customer-profile, cloud-video');
    // A broken identifiers line is named and nothing is sent.
    await page.locator('#preview-identifiers').fill('email');
    await page.getByRole('button', { name: 'Preview erasure' }).click();
    await expect.poll(() => text(page.locator('#preview-status'))).toContain('line 1: expected name=value');
    await page.locator('#preview-identifiers').fill('');
    // From the keyboard: Enter in a field submits the form.
    await page.locator('#preview-reason').press('Enter');
    await expect.poll(() => text(page.locator('#preview-status'))).toContain('Nothing was changed');

    const rows = page.locator('#preview-table tbody tr');
    expect(await rows.count()).toBeGreaterThanOrEqual(2);
    // Every planned task is held (the hold covers every class); a target keyed by an identifier
    // not given (its own "Unaddressed" row) has no task to hold.
    const planned = await rows.locator('td .badge:not(.outcome-unaddressed)').allTextContents();
    expect(planned.length).toBeGreaterThanOrEqual(2);
    for (const outcome of planned) expect(outcome).toBe(`Blocked by ${ids.hold}`);
    const records = page.locator('#preview-table tr[data-target="customer-records"]').first();
    await expect.poll(() => text(records)).toMatch(/dynamodb-items.*delete/);
    await expect.poll(() => text(records)).toMatch(/\d+ items?|unknown: /);
    await expect.poll(() => text(page.locator('#preview-totals'))).toContain('blocked by legal holds');
    await expect.poll(() => text(page.locator('#preview-unchanged'))).toContain('Nothing was changed');
    await shot('preview', '#preview');

    // Nothing changed: one request.previewed entry more on the subject's chain, and nothing else.
    expect(await trail()).toEqual([...before.trail, 'request.previewed']);
    expect((await call('GET', `/v1/erasure-requests/${ids.blocked}`)).body).toEqual(before.request);
    expect((await call('GET', '/v1/subjects/demo-subject-2/schedule')).body).toEqual(before.schedule);
    const deadlines = await call('GET', '/v1/reports/deadlines');
    expect(deadlines.status).toBe(before.deadlines.status);
    expect(deadlines.body).toEqual(before.deadlines.body);
    expect(problems).toEqual([]);
  });

  it('works from the keyboard: skip link, lookup, focus moved to the request and visibly outlined', async () => {
    await openDashboard();
    await page.keyboard.press('Tab');
    await expect.poll(() => focused(page.getByRole('link', { name: 'Skip to requests' }))).toBe(true);
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    await expect.poll(() => focused(page.locator('#lookup-request'))).toBe(true);
    await page.keyboard.type(ids.completed);
    await page.keyboard.press('Enter');
    await expect.poll(() => focused(page.locator('#detail-heading'))).toBe(true);
    // Tab reaches the detail's controls; the focused one shows a visible outline.
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(
      `(() => { const element = document.activeElement; return element === null ? 'none' : getComputedStyle(element).outlineStyle + ' ' + element.tagName; })()`,
    );
    expect(outline).toMatch(/^solid (INPUT|BUTTON)$/);
    await shot('keyboard');
    expect(problems).toEqual([]);
  });

  it('renders contract-shaped reports: summary, both charts with their tables, overdue rows in words, holds', async () => {
    // Test fixtures routed in this browser page only (the runtime is not changed): the report
    // rendering is checked whatever this API version serves.
    // Tall enough for the summary, both charts and the requests table (README's picture).
    const fixturePage = await browser.newPage({ viewport: { width: 1280, height: 1240 } });
    try {
      await fixturePage.route(/\/v1\/reports\/(deadlines|failures|holds|erasures)(\?.*)?$/, async (route) => {
        const name = /\/v1\/reports\/(\w+)/.exec(route.request().url())?.[1] as keyof typeof FIXTURES;
        await route.fulfill({
          status: 200,
          contentType: 'application/json',
          body: JSON.stringify(FIXTURES[name]),
        });
      });
      await fixturePage.goto(`${rt.apiUrl}/dashboard`);
      await fixturePage.locator('#deadline-chart').waitFor();
      await fixturePage.locator('#erasure-chart').waitFor();
      await expect.poll(() => text(fixturePage.locator('.cards'))).toContain('Overdue');
      const rows = fixturePage.locator('#requests-table tbody tr');
      await expect.poll(() => rows.count()).toBe(4);
      const overdue = fixturePage.locator('tr[data-request-id="req_fixture_overdue"]');
      await expect.poll(() => text(overdue)).toContain('Overdue by 5 days');
      await expect.poll(() => text(overdue)).toContain('held by hold_fixture since 2026-11-22 08:00 UTC');
      await expect
        .poll(() => text(fixturePage.locator('tr[data-request-id="req_fixture_failed"]')))
        .toContain('partner-services: http_503');
      await expect
        .poll(() => text(fixturePage.locator('#holds-table')))
        .toContain('req_fixture_overdue (blocked)');
      expect(await text(fixturePage.locator('#holds-table'))).toContain(
        'closed-account (ALL-1), due since 2026-12-01 00:00 UTC',
      );
      expect(await fixturePage.locator('#deadline-chart').getAttribute('aria-label')).toContain('Overdue: 1');
      // The charts' numbers as tables (their text alternative).
      await fixturePage.getByText('Show as a table').first().click();
      await expect
        .poll(() => text(fixturePage.locator('#deadline-chart-panel table')))
        .toContain('22–30 days');
      const erasureTable = fixturePage.locator('#erasure-chart-panel table');
      await expect.poll(() => text(erasureTable.locator('thead'))).toContain('suspended-account');
      await expect.poll(() => erasureTable.locator('tbody tr').count()).toBe(6);
      await fixturePage.getByLabel('Overdue only').check();
      await expect.poll(() => rows.count()).toBe(1);
      await fixturePage.getByLabel('Overdue only').uncheck();
      await fixturePage.getByText('Show as a table').first().click();
      await fixturePage.evaluate('window.scrollTo(0, 0)');
      await fixturePage.screenshot({ path: join(SHOTS, 'dashboard-reports.png'), fullPage: false });
    } finally {
      await fixturePage.close();
    }
  });
});
