// A chart opened after the firmware has run a while shows its last seconds at once,
// not a spike at the right edge: the device keeps a short history of its sensors and
// sends it with the WebSocket's first message for the set (core/dash/API.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, contextWithSession, firmwareWithBrowser, problemLog } from './dashboard-lib.mjs';

const env = firmwareWithBrowser();
const log = problemLog();

// Polls until the device's uptime reaches s seconds (generously bounded)
async function ranFor(s) {
  const deadline = Date.now() + 60000;
  while ((await api(env.firmware.url, 'GET', 'api/sets/device', undefined, env.cookie)).body.uptime < s) {
    assert.ok(Date.now() < deadline, `the firmware did not reach ${s} s of uptime`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test('a chart opened after the device ran for seconds shows those seconds at once', async () => {
  await ranFor(6);  // One sample a second: several before the page opens
  const context = await contextWithSession(env.browser, env.firmware.url, env.cookie, { viewport: { width: 1280, height: 800 } });
  const page = log.watch(await context.newPage());
  await page.goto(env.firmware.url);
  const opened = await page.evaluate(() => performance.timeOrigin);
  for (const field of ['temperature', 'humidity']) {
    const line = page.locator(`[data-testid="chart-${field}"] path[data-points]`);
    await line.waitFor({ state: 'attached', timeout: 30000 });  // Its first points, however slow the machine
    const points = Number(await line.getAttribute('data-points'));
    const oldest = Number(await line.getAttribute('data-oldest'));
    assert.ok(points >= 4, `${field}: ${points} points when the chart first drew`);
    assert.ok(oldest <= opened - 3000, `${field}: the oldest point is ${opened - oldest} ms older than the page, not seconds`);
  }
  await context.close();
  assert.deepEqual(log.problems, []);
});
