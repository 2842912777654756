import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportInputFromBenchmark } from '../../kubectl-hpcbench/report/input.js';
import { renderReport } from '../../kubectl-hpcbench/report/report.js';
import {
  SWEEP_LOADS,
  singleLevelBenchmark,
  sweepReportInput,
} from '../../kubectl-hpcbench/report/testdata/sweep-fixture.js';

/**
 * The report as a person sees it: written to a file, opened in Debian's chromium with the network cut off,
 * charts found on the page, and a screenshot kept in test-output/report/ (git-ignored) for a human to look
 * at. test/all.sh installs chromium; this test installs nothing.
 */

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = fileURLToPath(new URL('../../test-output/report/', import.meta.url));
const missing = !existsSync(CHROMIUM);
if (missing) {
  console.warn(
    `report-browser: skipped, ${CHROMIUM} is missing (test/all.sh installs it: apt-get install -y chromium)`,
  );
}

interface Opened {
  page: Page;
  /** Requests for anything but the file itself: aborted, and there must be none. */
  outside: string[];
  consoleErrors: string[];
}

describe.skipIf(missing)(`the report in chromium (${CHROMIUM})`, () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function open(file: string, html: string): Promise<Opened> {
    await mkdir(OUTPUT, { recursive: true });
    const path = `${OUTPUT}${file}`;
    await writeFile(path, html);
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const outside: string[] = [];
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file://') || url.startsWith('about:')) return route.continue();
      outside.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith('file://') && !url.startsWith('about:') && !outside.includes(url))
        outside.push(url);
    });
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
    return { page, outside, consoleErrors };
  }

  it('should show every chart of a sweep with its data marks, load nothing, and leave a screenshot', async () => {
    const { page, outside, consoleErrors } = await open('sweep.html', await renderReport(sweepReportInput()));

    await expect(page.title()).resolves.toBe('gemma3-sweep-gpu-a100: inference benchmark report');
    const charts = page.locator('figure.chart svg');
    await expect(charts.count()).resolves.toBe(11);
    const levels = SWEEP_LOADS.length;
    const count = (chart: string, role: string) =>
      page.locator(`figure[data-chart="${chart}"] svg [aria-roledescription="${role}"]`).count();
    await expect(count('throughput', 'point')).resolves.toBe(levels);
    await expect(count('requests', 'point')).resolves.toBe(2 * levels);
    await expect(count('latency-ttftMs', 'point')).resolves.toBe(2 * levels);
    await expect(count('cdf-e2eMs', 'line mark')).resolves.toBe(levels);
    await expect(count('box-tpotMs', 'box')).resolves.toBe(levels);

    // Drawn, not just present: every chart has a real size on the page.
    for (const box of await Promise.all((await charts.all()).map((c) => c.boundingBox()))) {
      expect(box?.width).toBeGreaterThan(300);
      expect(box?.height).toBeGreaterThan(200);
    }
    await expect(page.locator('#slo').textContent()).resolves.toMatch(/SLO met/);
    await expect(page.locator('#environment').textContent()).resolves.toContain('A100');

    await page.screenshot({ path: `${OUTPUT}sweep.png`, fullPage: true });
    expect(outside).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('should show a benchmark as it is today (one level) and say which sections have no data', async () => {
    const html = await renderReport(reportInputFromBenchmark(singleLevelBenchmark()));
    const { page, outside, consoleErrors } = await open('single-level.html', html);

    await expect(page.locator('figure.chart svg').count()).resolves.toBe(5);
    await expect(
      page.locator('figure[data-chart="throughput"] svg [aria-roledescription="point"]').count(),
    ).resolves.toBe(1);
    await expect(page.locator('#distributions p.empty').textContent()).resolves.toContain(
      'No per-request samples',
    );
    await expect(page.locator('#results').textContent()).resolves.toContain('41.3');

    await page.screenshot({ path: `${OUTPUT}single-level.png`, fullPage: true });
    expect(outside).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
