// Plays a title in headless Chromium and checks window.edgeplanePlayer.
// Usage: node play.mjs URL [TIMEOUT_S] [TOLERATED_RE]
// Exit 0: played to the end with no player error; prints the state as JSON.
// TOLERATED_RE: player errors matching it (e.g. a segment dash.js could not
// get from a cluster that died, after which it goes on from another
// pathway) neither stop the run nor fail it; they stay in state.errors.
import puppeteer from 'puppeteer-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const url = process.argv[2];
const timeoutS = Number(process.argv[3] || 90);
const tolerated = process.argv[4] ? new RegExp(process.argv[4]) : null;
const fatal = (errors) => errors.filter((e) => !(tolerated && tolerated.test(e)));
const exe = process.env.CHROMIUM || '/usr/bin/chromium';
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ep-chromium-'));

const browser = await puppeteer.launch({
  executablePath: exe,
  headless: true,
  // FIELD-NOTES: Debian Chromium headless flags that work on this machine.
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required',
         `--user-data-dir=${profile}`],
});
let state = null;
let code = 1;
try {
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  await page.goto(url, { waitUntil: 'load' });
  const deadline = Date.now() + timeoutS * 1000;
  while (Date.now() < deadline) {
    state = await page.evaluate(() => window.edgeplanePlayer && JSON.parse(JSON.stringify(window.edgeplanePlayer)));
    if (state && (state.ended || fatal(state.errors).length > 0)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  state.consoleErrors = consoleErrors;
  console.log(JSON.stringify(state));
  const ok = state && state.ended && fatal(state.errors).length === 0 && state.bitrates.length > 0 &&
             state.ladder.length >= 3;
  code = ok ? 0 : 1;
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(code);
