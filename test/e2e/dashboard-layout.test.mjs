// The dashboard's frame on screens of every width: on a 1920 px screen the
// Overview uses the width (the device values in one row, little empty margin),
// a 1280 px laptop and a 390 px phone scroll only vertically, and the README's
// pictures (`make screenshots`) exist at the sizes it shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { contextWithSession, firmwareWithBrowser, problemLog } from './dashboard-lib.mjs';

const env = firmwareWithBrowser();
const log = problemLog();
const wide = { viewport: { width: 1920, height: 1080 } };
const laptop = { viewport: { width: 1280, height: 800 } };
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };


// Overview with its device values loaded
async function openOverview(options) {
  const context = await contextWithSession(env.browser, env.firmware.url, env.cookie, options);
  const page = log.watch(await context.newPage());
  await page.goto(env.firmware.url);
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  await page.getByTestId('uptime').locator('dd').filter({ hasText: /\d/ }).waitFor();
  return page;
}

const boxes = (page, selector) => page.locator(selector).evaluateAll((els) => els.map((e) => {
  const r = e.getBoundingClientRect();
  return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
}));

test('1920 px: the Overview uses the width, the device values in one row', async () => {
  const page = await openOverview(wide);
  const stats = await boxes(page, '[data-testid="overview"] > *');
  assert.equal(stats.length, 6);  // Name, version, uptime, connections, free and peak memory
  assert.equal(new Set(stats.map((s) => Math.round(s.top))).size, 1, `one row: ${JSON.stringify(stats)}`);
  // From the navigation's left edge to the page's right edge: the part of the screen in use
  const [nav] = await boxes(page, 'nav[aria-label="Main"]');
  const [section] = await boxes(page, 'main section[aria-labelledby="page-title"]');
  const empty = 1920 - (section.right - nav.left);
  assert.ok(empty <= 0.25 * 1920, `at most a quarter of the width left empty, not ${empty} px`);
  await page.context().close();
});

for (const [name, options] of [['a 1280 px laptop', laptop], ['a 390 px phone', phone]]) {
  test(`${name}: no horizontal scrolling, every device value on screen`, async () => {
    const page = await openOverview(options);
    const width = options.viewport.width;
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), 'no horizontal scrolling');
    for (const s of await boxes(page, '[data-testid="overview"] > *, [data-testid="sensors"], [data-testid="leds"]')) {
      assert.ok(s.left >= 0 && s.right <= width, `inside the ${width} px: ${JSON.stringify(s)}`);
    }
    await page.context().close();
  });
}

// PNG: the signature, then IHDR's width and height (big-endian)
function pngSize(file) {
  const b = fs.readFileSync(file);
  assert.equal(b.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', `${file} is a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bytes: b.length };
}

test('the README shows the dashboard and the phone, as `make screenshots` writes them', () => {
  const readme = fs.readFileSync('README.md', 'utf8');
  for (const [file, width, height] of [['docs/dashboard.png', 1280, 800], ['docs/dashboard-phone.png', 390, 844]]) {
    const size = pngSize(file);
    assert.deepEqual([size.width, size.height], [width, height], file);
    assert.ok(size.bytes < 300 * 1024, `${file} stays small: ${size.bytes} bytes`);
    assert.ok(readme.includes(`](${file})`) || readme.includes(`src="${file}"`), `README.md shows ${file}`);
  }
});

test('no console errors, failed requests or error responses at any width', () => {
  assert.deepEqual(log.problems, []);
});
