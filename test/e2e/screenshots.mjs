// `make screenshots`: the README's pictures of the dashboard, an admin on the
// Overview with live values, on a 1280x800 screen and a 390x844 phone.
// Usage: node test/e2e/screenshots.mjs [DIR] (default docs/); SCREENSHOT_POINTS
// sets how many samples each chart shows first (default 60, one a second).
import path from 'node:path';
import { api, contextWithSession, launchBrowser, session, startFirmware } from './dashboard-lib.mjs';

const dir = process.argv[2] || 'docs';
const points = Number(process.env.SCREENSHOT_POINTS || 60);
const shots = [
  ['dashboard.png', { viewport: { width: 1280, height: 800 } }],
  ['dashboard-phone.png', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }],
];

const firmware = await startFirmware();
const browser = await launchBrowser();
try {
  const cookie = await session(firmware.url);
  await api(firmware.url, 'POST', 'api/sets/leds', { led1: true, led3: true }, cookie);  // a switch or two on
  // Both pages at once: their charts fill in the same minute
  await Promise.all(shots.map(async ([file, options]) => {
    const context = await contextWithSession(browser, firmware.url, cookie, { ...options, colorScheme: 'light' });
    const page = await context.newPage();
    await page.goto(firmware.url);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    for (const field of ['temperature', 'humidity']) {
      await page.waitForFunction(([f, n]) => Number(document.querySelector(`[data-testid="chart-${f}"] path[data-points]`)?.dataset.points) >= n,
        [field, points], { timeout: (points + 30) * 1000 });
    }
    await page.screenshot({ path: path.join(dir, file) });
    console.log(`screenshots: ${path.join(dir, file)}`);
    await context.close();
  }));
} finally {
  await browser.close();
  await firmware.stop();
}
