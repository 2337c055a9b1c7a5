// run.mjs: the browser suite of the payconsole UI (issues 7 and 12).
// Debian's chromium driven by playwright-core; started by
// tests/integration/test_browser.py, which starts the servers, makes the
// users and passes them here:
//   PC_URL          server with the development policy (lockout 3,
//                   refunds above PC_REFUND_THRESHOLD need a second
//                   operator)
//   PC_URL_CLOSED   server whose allowed hours exclude now
//   PC_URL_IDLE     server with a 20 s idle timeout
//   PC_URL_LIMITED  server that blocks a source after 2 failures
//   PC_USERS        {"operator": {username, password, totp_secret_base32},
//                    "admin", "admin2", "auditor", "resetme", "wrongcode",
//                    "lockout", "closed", "idle", "limited", and per
//                    language L (ja, en) "sod_admin_L", "sod_auditor_L",
//                    "sod_op1_L", "sod_op2_L", "devices_ja", "devices_en",
//                    "devices_admin_en"}; each must change its
//                   password first
//   PC_REFUND_TXNS  {"ja"|"en": {id, order, amount}}: a captured
//                   transaction for each language's approved refund
//   PC_REFUND_THRESHOLD  the main server's refund_approval_threshold
//   PC_TOTP_CHECK   [{secret, t, code}] from pyotp: our TOTP must agree
//   PC_JSONB_CHECK  [{json, sha256}] from PostgreSQL: SHA-256 of
//                   jsonb::text, which assets/pure.mjs must reproduce
//   PC_HELPER       JSON argv: + ["age-reauth", username] ages re-auth
//   PC_ARTEFACTS    screenshot directory
//   PC_ONLY         optional comma-separated scenario names
// Prints "RESULT {json}" lines for the Python side to check against the
// database, and exits 1 on any failed scenario, console error, page error
// or CSP violation.
import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';

import { Problems, Shots, assert, assertEq, cspListener, fill, loadPure,
    loadTexts, nextCode, sha256hex, totpAt, wrongCode } from './lib.mjs';

const env = process.env;
const URL = env.PC_URL;
const USERS = JSON.parse(env.PC_USERS || '{}');
const T = loadTexts();
const JA = T.ja;
const PURE = loadPure();
const REFUND_TXNS = JSON.parse(env.PC_REFUND_TXNS || '{}');
const REFUND_THRESHOLD = Number(env.PC_REFUND_THRESHOLD || 0);
const problems = new Problems();
const shots = new Shots(env.PC_ARTEFACTS || 'artefacts');
const results = [];
const shared = {};
const t0 = Date.now();

function log(...a) {
	const s = ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
	console.log(`[${s}s]`, ...a);
}

function result(obj) {
	console.log('RESULT ' + JSON.stringify(obj));
}

function uniq(prefix) {
	return prefix + Math.random().toString(16).slice(2, 10);
}

function newPassword() {
	return 'Br0wser-' + Math.random().toString(36).slice(2, 12) + '-7q';
}

// --- self-check of the TOTP implementation --------------------------------

function checkTotp() {
	const cases = JSON.parse(env.PC_TOTP_CHECK || '[]');
	assert(cases.length > 0, 'PC_TOTP_CHECK is empty');
	for (const c of cases)
		assertEq(totpAt(c.secret, c.t), c.code, `TOTP at ${c.t}`);
	log(`TOTP agrees with pyotp on ${cases.length} codes`);
}

/*
 * The page names the operation it shows by the SHA-256 of PostgreSQL's
 * jsonb text: pure.mjs must write that text exactly, for what PostgreSQL
 * hashed (PC_JSONB_CHECK). Its other helpers (enrolment codes, password
 * rules) are unit-tested alone: tests/js/pure.test.mjs.
 */
function checkPure() {
	const cases = JSON.parse(env.PC_JSONB_CHECK || '[]');
	assert(cases.length > 0, 'PC_JSONB_CHECK is empty');
	for (const c of cases)
		assertEq(sha256hex(PURE.jsonbText(JSON.parse(c.json))), c.sha256,
		    'jsonb text of ' + c.json);
	log(`pure.mjs agrees with PostgreSQL on ${cases.length} jsonb texts`);
}

// --- browser helpers ---------------------------------------------------------

let browser;
const scenarioPages = {};
const pageLang = new WeakMap();	/* the language a page should show */

function pagesOf(scenario) {
	if (!scenarioPages[scenario])
		scenarioPages[scenario] = [];
	return scenarioPages[scenario];
}

async function newPage(name, opts = {}) {
	const ctx = await browser.newContext({
		ignoreHTTPSErrors: true,
		viewport: opts.viewport || { width: 1280, height: 800 },
		locale: 'ja-JP',
		timezoneId: 'Asia/Tokyo',
	});
	ctx.setDefaultTimeout(20000);
	await ctx.addInitScript(cspListener);
	const page = await ctx.newPage();
	problems.watch(page, name);
	pagesOf(opts.scenario || name).push(page);
	pageLang.set(page, opts.lang || 'ja');
	return page;
}

/* The texts of the language this page is meant to show. */
function textsOf(page) {
	return T[pageLang.get(page) || 'ja'];
}

/* Switches the page to its language with the header button (the choice
 * stays in the page's localStorage). */
async function useLang(page) {
	const want = pageLang.get(page) || 'ja';
	if (await page.evaluate(() => document.documentElement.lang) !== want) {
		await page.click('#lang');
		await page.waitForSelector(`html[lang="${want}"]`);
	}
}

function ageReauth(username) {
	assert(env.PC_HELPER, 'PC_HELPER is needed to age a re-authentication');
	const argv = JSON.parse(env.PC_HELPER).concat(['age-reauth', username]);
	const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
	assertEq(r.status, 0, 'age-reauth helper: ' + r.stderr);
}

/* Answers the re-authentication prompt the API asked for. */
async function reauth(page, user, shotName) {
	await page.waitForSelector('#reauth-password');
	await page.fill('#reauth-password', user.password);
	await page.fill('#reauth-otp', await nextCode(user));
	if (shotName)
		await shots.take(page, shotName);
	await page.click('#reauth-submit');
}

/* A code half is nowhere but on the screen: not in web storage, not in
 * the address. */
async function assertNotKept(page, code) {
	const kept = await page.evaluate((c) => {
		const bare = c.replace(/-/g, '');
		const out = [];
		for (const s of [localStorage, sessionStorage]) {
			for (let i = 0; i < s.length; i++) {
				const k = s.key(i);
				const v = k + '=' + s.getItem(k);
				if (v.includes(c) || v.includes(bare))
					out.push(k);
			}
		}
		if (location.href.includes(bare) || location.href.includes(c))
			out.push('location');
		return out;
	}, code);
	assertEq(kept.join(','), '', 'code half kept outside the screen');
}

async function text(page, sel) {
	return (await page.locator(sel).innerText()).trim();
}

async function waitView(page, view) {
	await page.waitForSelector(`main.view-${view}`);
}

/* Submits the login form; returns null on success or the error text. */
async function submitLogin(page, username, password, code) {
	await page.fill('#login-username', username);
	await page.fill('#login-password', password);
	await page.fill('#login-otp', code);
	await page.click('#login-submit');
	await page.waitForFunction(() =>
	    !document.querySelector('main.view-login') ||
	    (!document.querySelector('#login-error').hidden &&
	    !document.querySelector('#login-submit').disabled));
	if (await page.locator('main.view-login').count())
		return text(page, '#login-error');
	return null;
}

/* Signs in through the UI; changes the password when asked. */
async function login(page, url, user, shotName) {
	await page.goto(url + '/#/login');
	await waitView(page, 'login');
	await useLang(page);
	const err = await submitLogin(page, user.username, user.password,
	    await nextCode(user));
	assert(err === null, `login of ${user.username} refused: ${err}`);
	if (await page.locator('main.view-password').count()) {
		assert(await page.locator('#pw-forced').isVisible(),
		    'forced password change notice');
		assertEq(await page.locator('#nav').isVisible(), false,
		    'no navigation before the password change');
		if (shotName)
			await shots.take(page, shotName);
		await changePassword(page, user);
	}
}

async function changePassword(page, user) {
	const np = newPassword();
	await page.fill('#pw-current', user.password);
	await page.fill('#pw-otp', await nextCode(user));
	await page.fill('#pw-new', np);
	await page.fill('#pw-new2', np);
	await page.click('#pw-submit');
	await page.waitForSelector('main:not(.view-password)');
	user.password = np;
	assertEq(await text(page, '#notice'), textsOf(page).pw_done,
	    'password changed');
}

async function api(page, method, path, body, headers) {
	return page.evaluate(async ([method, path, body, headers]) => {
		const me = await (await fetch('/api/me')).json();
		const h = Object.assign({ 'X-CSRF-Token': me.csrf_token },
		    headers || {});
		if (body !== null)
			h['Content-Type'] = 'application/json';
		const r = await fetch(path, { method, headers: h,
		    body: body === null ? undefined : JSON.stringify(body) });
		let data = null;
		try {
			data = await r.json();
		} catch (e) {
			data = null;
		}
		return { status: r.status, data };
	}, [method, path, body === undefined ? null : body, headers || {}]);
}

// --- scenarios -------------------------------------------------------------------

/* Outside the allowed hours: the login page says so, a login is refused
 * with its own message; the language switch is remembered. */
async function scenarioClosed() {
	const page = await newPage('closed');
	const u = USERS.closed;
	await page.goto(env.PC_URL_CLOSED + '/');
	await waitView(page, 'login');
	await page.waitForSelector('#login-hours .badge');
	const hoursText = await text(page, '#login-hours');
	assert(hoursText.includes(env.PC_CLOSED_HOURS) &&
	    hoursText.includes(env.PC_TIMEZONE) &&
	    hoursText.includes(JA.hours_closed), 'hours shown: ' + hoursText);
	const err = await submitLogin(page, u.username, u.password,
	    await nextCode(u));
	assertEq(err, fill(JA.err_outside_hours_login, {
	    hours: env.PC_CLOSED_HOURS, tz: env.PC_TIMEZONE }),
	    'outside-hours message');
	assert(err !== JA.err_invalid_credentials, 'distinct from credentials');
	await shots.take(page, 'login-outside-hours');

	// English, remembered across a reload.
	await page.click('#lang');
	await page.waitForSelector('html[lang="en"]');
	assertEq(await text(page, 'main h1'), T.en.login_title, 'English');
	await page.reload();
	await page.waitForSelector('main.view-login');
	assertEq(await text(page, 'main h1'), T.en.login_title,
	    'English remembered');
	await shots.take(page, 'login-english');
	await page.click('#lang');
	await page.waitForSelector('html[lang="ja"]');
	await page.context().close();
}

/* A wrong code and a wrong password get the same generic message; then a
 * computed code signs in; keyboard order on the form. */
async function scenarioWrongCode() {
	const page = await newPage('wrongcode');
	const u = USERS.wrongcode;
	await page.goto(URL + '/');
	await waitView(page, 'login');
	await page.waitForSelector('#login-hours .badge');
	const hoursText = await text(page, '#login-hours');
	assert(hoursText.includes('00:00-24:00') &&
	    hoursText.includes('Asia/Tokyo'), 'hours: ' + hoursText);
	await shots.take(page, 'login');

	// Keyboard: username has focus, Tab walks the fields in order.
	assertEq(await page.evaluate(() => document.activeElement.id),
	    'login-username', 'focus starts on the username');
	const order = [];
	for (let i = 0; i < 3; i++) {
		await page.keyboard.press('Tab');
		order.push(await page.evaluate(() => document.activeElement.id));
	}
	assertEq(order.join(','), 'login-password,login-otp,login-submit',
	    'tab order');

	let err = await submitLogin(page, u.username, u.password, wrongCode(u));
	assertEq(err, JA.err_invalid_credentials, 'wrong code message');
	// Neither factor stays in the page; the name does, and the cursor
	// waits in the password field.
	assertEq(JSON.stringify(await page.evaluate(() => [
	    document.querySelector('#login-username').value,
	    document.querySelector('#login-password').value,
	    document.querySelector('#login-otp').value,
	    document.activeElement.id])),
	    JSON.stringify([u.username, '', '', 'login-password']),
	    'fields after a failure');
	await shots.take(page, 'login-wrong-code');
	err = await submitLogin(page, u.username, 'Not-' + u.password,
	    await nextCode(u));
	assertEq(err, JA.err_invalid_credentials, 'wrong password message');
	await login(page, URL, u, 'password-forced');
	await waitView(page, 'transactions');
	// A second tab of the same browser shares the session ...
	const other = await page.context().newPage();
	problems.watch(other, 'wrongcode');
	pagesOf('wrongcode').push(other);
	await other.goto(URL + '/');
	await waitView(other, 'transactions');
	// ... and follows a password change made in the first: the session
	// gets a new token and CSRF token, which this tab takes from the
	// answer, and the other asks /api/me for (the logout below reaches
	// the other tab only if both name the renewed session, and ends the
	// session only with the new CSRF token).
	// Registered before the change, which may wait up to a TOTP step
	// (30 s) for a fresh code: the bound only stops a hung tab.
	const otherAsks = other.waitForResponse((r) =>
	    r.url().endsWith('/api/me') && r.status() === 200,
	    { timeout: 90000 });
	await page.click('#nav-password');
	await waitView(page, 'password');
	await changePassword(page, u);
	await otherAsks;
	// The tag the page gives its session (see sessionTag in core.mjs).
	const tagOf = (p) => p.evaluate(async () => {
		const m = await (await fetch('/api/me')).json();
		const d = await crypto.subtle.digest('SHA-256',
		    new TextEncoder().encode(m.csrf_token));
		return Array.from(new Uint8Array(d).slice(0, 16),
		    (b) => b.toString(16).padStart(2, '0')).join('');
	});
	const oldTag = await tagOf(page);
	await page.click('#logout');
	await waitView(page, 'login');
	assertEq(await text(page, '#notice'), JA.notice_logged_out, 'logout');
	// ... and leaves its data at once, not at its next request.
	await waitView(other, 'login');
	assertEq(await text(other, '#notice'), JA.notice_logged_out_elsewhere,
	    'the other tab');
	assertEq(await other.locator('#tx-table, table').count(), 0,
	    'no data left in the other tab');
	await shots.take(other, 'logout-other-tab');
	const me = await page.evaluate(async () => (await fetch('/api/me'))
	    .status);
	assertEq(me, 401, 'session gone after logout');
	// A word from a tab of an earlier session ends nothing: signed in
	// again here, a message naming the old session is ignored, one
	// naming this session is not.
	await login(page, URL, u);
	await waitView(page, 'transactions');
	const say = (tag) => other.evaluate((t) => new BroadcastChannel(
	    'payconsole-session').postMessage({ ended: 'expired', session: t }),
	    tag);
	await say(oldTag);
	await page.waitForTimeout(1500);
	assertEq(await page.locator('main.view-transactions').count(), 1,
	    'a word about an earlier session ends nothing');
	await say(await tagOf(page));
	await waitView(page, 'login');
	assertEq(await text(page, '#notice'), JA.notice_expired,
	    'a word about this session ends it');
	await page.context().close();
}

/* Failures up to the lockout threshold, then even the right password and
 * code get the same generic message. */
async function scenarioLockout() {
	const page = await newPage('lockout');
	const u = USERS.lockout;
	const n = Number(env.PC_LOCKOUT_THRESHOLD || 3);
	await page.goto(URL + '/#/login');
	await waitView(page, 'login');
	for (let i = 0; i < n; i++) {
		const err = await submitLogin(page, u.username, u.password,
		    wrongCode(u));
		assertEq(err, JA.err_invalid_credentials, `failure ${i + 1}`);
	}
	const err = await submitLogin(page, u.username, u.password,
	    await nextCode(u));
	assertEq(err, JA.err_invalid_credentials, 'locked: same message');
	await shots.take(page, 'login-locked');
	result({ lockout: u.username });
	await page.context().close();
}

/* Operator: search, paging, detail, refund with a double click, capture,
 * a stale version, CSV export, Escape closes a dialog. */
async function scenarioOperator() {
	const page = await newPage('operator');
	const u = USERS.operator;
	await login(page, URL, u);
	await waitView(page, 'transactions');
	await page.waitForSelector('#tx-results table');
	const navs = await page.locator('#nav a').evaluateAll((as) =>
	    as.map((a) => a.id));
	assertEq(navs.join(','), 'nav-transactions,nav-approvals,nav-password',
	    'operator navigation');
	await shots.take(page, 'transactions');

	// Paging.
	await page.click('#tx-next');
	await page.waitForSelector('#tx-results .pager span:text-is("2 ページ目")');
	await page.click('#tx-prev');
	await page.waitForSelector('#tx-prev[disabled]');

	// Search captured transactions with a few filters.
	await page.selectOption('#tx-form select[name=status]', 'captured');
	await page.fill('#tx-form input[name=amount_min]', '2000');
	await page.click('#tx-search');
	await page.waitForFunction(() => {
		const b = document.querySelectorAll('#tx-results tbody tr');
		return b.length > 0 && Array.from(b).every((tr) =>
		    tr.textContent.includes('売上確定'));
	});
	const href = await page.getAttribute('#tx-export', 'href');
	assert(href.includes('status=captured') &&
	    href.includes('amount_min=2000'), 'export link: ' + href);
	const csv = await page.evaluate(async (h) => {
		const r = await fetch(h);
		return { status: r.status, type: r.headers.get('content-type'),
		    head: (await r.text()).split('\n')[0] };
	}, href);
	assertEq(csv.status, 200, 'CSV export');
	assert(/csv/.test(csv.type), 'CSV type ' + csv.type);

	const id = Number(await page.locator('#tx-results button[data-txn]')
	    .first().getAttribute('data-txn'));
	await page.click(`#tx-results button[data-txn="${id}"]`);
	await page.waitForSelector('#act-refund');
	assertEq(await text(page, '#detail-title'), fill(JA.txn_title, { id }),
	    'detail');

	// Escape closes the dialog and focus returns to its button.
	await page.click('#act-refund');
	await page.waitForSelector('dialog[open] #refund-amount');
	await page.keyboard.press('Escape');
	await page.waitForSelector('dialog', { state: 'detached' });
	assertEq(await page.evaluate(() => document.activeElement.id),
	    'act-refund', 'focus back on the refund button');

	// Amount checks in the dialog.
	await page.click('#act-refund');
	await page.waitForSelector('dialog[open] #refund-amount');
	const key = await page.getAttribute('dialog[open]',
	    'data-idempotency-key');
	assert(/^[0-9a-f-]{36}$/.test(key), 'idempotency key ' + key);
	await page.fill('#refund-amount', '999999999');
	await page.fill('#refund-reason', 'ブラウザテスト返金');
	await page.click('#op-next');
	await page.waitForSelector('#op-error:not([hidden])');
	assert((await text(page, '#op-error')).startsWith('返金額は'),
	    'amount check');
	const amount = 1234;
	await page.fill('#refund-amount', String(amount));
	await shots.take(page, 'refund-dialog');
	await page.click('#op-next');
	await page.waitForSelector('#op-confirm-text');
	assert((await text(page, '#op-confirm-text')).includes('1,234'),
	    'confirmation shows the amount');
	await shots.take(page, 'refund-confirm');
	// A double click charges once: the button is disabled in flight and
	// the dialog's Idempotency-Key makes any resend the same request.
	await page.dblclick('#op-execute');
	await page.waitForSelector('dialog', { state: 'detached' });
	await page.waitForSelector(`#tx-detail tr[data-refund]`);
	const rows = await page.locator('#tx-detail tr[data-refund]')
	    .allInnerTexts();
	const mine = rows.filter((r) => r.includes('ブラウザテスト返金'));
	assertEq(mine.length, 1, 'exactly one refund shown');
	assert(mine[0].includes('1,234') && mine[0].includes(u.username),
	    'refund row: ' + mine[0]);
	await shots.take(page, 'refund-done');
	result({ refund: { id, amount, operator: u.username } });

	// Capture an authorized transaction.
	await page.click('#tx-clear');
	await page.waitForSelector('#tx-results table');
	await page.selectOption('#tx-form select[name=status]', 'authorized');
	await page.click('#tx-search');
	await page.waitForFunction(() => {
		const b = document.querySelectorAll('#tx-results tbody tr');
		return b.length > 1 && Array.from(b).every((tr) =>
		    tr.textContent.includes('オーソリ済み'));
	});
	const ids = (await page.locator('#tx-results button[data-txn]')
	    .evaluateAll((bs) => bs.map((b) => Number(b.dataset.txn))));
	await page.click(`#tx-results button[data-txn="${ids[0]}"]`);
	await page.waitForSelector('#act-capture');
	await page.click('#act-capture');
	await page.waitForSelector('#op-confirm-text');
	await shots.take(page, 'capture-confirm');
	await page.click('#op-execute');
	await page.waitForSelector('dialog', { state: 'detached' });
	await page.waitForFunction(() => document.querySelector(
	    '#tx-detail .badge.st-captured'));
	result({ captured: ids[0] });

	// Someone else changes the next one first: a clear 412 message.
	await page.click(`#tx-results button[data-txn="${ids[1]}"]`);
	await page.waitForSelector('#act-cancel');
	await page.click('#act-cancel');
	await page.waitForSelector('#op-confirm-text');
	const detail = await api(page, 'GET', '/api/transactions/' + ids[1]);
	const other = await api(page, 'POST', '/api/transactions/' + ids[1] +
	    '/capture', null, { 'Idempotency-Key': uniq('other-'),
	    'If-Match': String(detail.data.transaction.version) });
	assertEq(other.status, 200, 'concurrent capture');
	await page.click('#op-execute');
	await page.waitForSelector('#op-error:not([hidden])');
	assertEq(await text(page, '#op-error'), JA.err_version_mismatch,
	    'stale version message');
	assert(await page.locator('#op-execute').isDisabled(),
	    'no retry of a stale operation');
	await shots.take(page, 'cancel-stale-version');
	await page.keyboard.press('Escape');
	await page.waitForFunction(() => document.querySelector(
	    '#tx-detail .badge.st-captured'));
	result({ stale_cancelled_not: ids[1] });

	// The wide screen.
	await page.setViewportSize({ width: 1920, height: 1080 });
	await shots.take(page, 'transactions-1920');
	await page.context().close();
}

/* Auditor: read-only screens, no action buttons, forged POSTs refused;
 * trail, chain check, alerts with acknowledgement, inventory, weekly
 * review with the first signature. */
async function scenarioAuditor() {
	const page = await newPage('auditor');
	const u = USERS.auditor;
	await login(page, URL, u);
	await waitView(page, 'events');
	await page.waitForSelector('#ev-results table');
	const navs = await page.locator('#nav a').evaluateAll((as) =>
	    as.map((a) => a.id));
	assertEq(navs.join(','), 'nav-transactions,nav-users,nav-approvals,' +
	    'nav-events,nav-verify,nav-alerts,nav-reviews,nav-inventory,' +
	    'nav-password', 'auditor navigation');
	await page.fill('#ev-form input[name=event]', 'login.success');
	await page.click('#ev-search');
	await page.waitForFunction(() => {
		const b = document.querySelectorAll('#ev-results tbody tr');
		return b.length > 0 && Array.from(b).every((tr) =>
		    tr.textContent.includes('login.success'));
	});
	await shots.take(page, 'audit-events');

	await page.click('#nav-verify');
	await page.waitForSelector('#verify-status .badge');
	assertEq(await text(page, '#verify-status'), JA.chain_ok, 'chain');
	await shots.take(page, 'audit-verify');

	await page.click('#nav-alerts');
	await page.waitForSelector('#alerts-list table, #alerts-list .empty');
	if (await page.locator('#alerts-list table').count()) {
		// Each alert says how many sources it covers (issue 13).
		const heads = await page.locator('#alerts-list th')
		    .allTextContents();
		assert(heads.includes(JA.alert_sources),
		    'alerts: no sources column: ' + heads.join('|'));
	}
	const ack = page.locator('#alerts-list button[data-alert]').first();
	if (await ack.count()) {
		const aid = await ack.getAttribute('data-alert');
		await ack.click();
		await page.fill('#ack-comment', '確認しました（ブラウザテスト）');
		await shots.take(page, 'alert-ack-dialog');
		await page.click('#ack-submit');
		await page.waitForSelector('dialog', { state: 'detached' });
		await page.waitForSelector(
		    `#alerts-list button[data-alert="${aid}"]`,
		    { state: 'detached' });
		result({ acked: Number(aid) });
	}
	await shots.take(page, 'alerts');

	await page.click('#nav-inventory');
	await page.waitForSelector('#inventory table');
	await shots.take(page, 'inventory');

	// Users: read-only.
	await page.click('#nav-users');
	await page.waitForSelector('#users-list table');
	assertEq(await page.locator('#user-create').count(), 0, 'no create');
	assertEq(await page.locator('#users-list button').count(), 0,
	    'no user actions');
	assert(await page.locator('#readonly-note').isVisible(),
	    'read-only note');
	await shots.take(page, 'users-auditor');

	// Transactions: detail without actions.
	await page.click('#nav-transactions');
	await page.waitForSelector('#tx-results button[data-txn]');
	const id = Number(await page.locator('#tx-results button[data-txn]')
	    .first().getAttribute('data-txn'));
	await page.click(`#tx-results button[data-txn="${id}"]`);
	await page.waitForSelector('#detail-title');
	assertEq(await page.locator('#txn-actions, #act-capture, #act-cancel,' +
	    ' #act-refund').count(), 0, 'no payment actions for auditors');
	await shots.take(page, 'transactions-auditor');

	// A forged POST from this page, with the real CSRF token: refused.
	const forged = await api(page, 'POST', `/api/transactions/${id}/refunds`,
	    { amount: 1, reason: 'forged' }, {
	    'Idempotency-Key': uniq('forged-'), 'If-Match': '1' });
	assertEq(forged.status, 403, 'forged refund status');
	assertEq(forged.data && forged.data.error, 'forbidden', 'forged refund');
	const forged2 = await api(page, 'POST', '/api/users', {
	    username: uniq('t_forged_'), display_name: 'x', role: 'admin' });
	assertEq(forged2.status, 403, 'forged user creation');
	result({ forged: [forged.status, forged2.status] });

	// Weekly reviews.
	await page.click('#nav-reviews');
	await page.waitForSelector('#reviews-list table, #reviews-missing');
	if (await page.locator('#reviews-missing').count()) {
		log('SKIP weekly reviews: GET /api/reviews is 404 on this build');
		result({ reviews: 'missing' });
		await shots.take(page, 'reviews-missing');
		await page.context().close();
		return;
	}
	await shots.take(page, 'reviews');
	const listed = await page.locator('#reviews-list tr[data-week]')
	    .evaluateAll((trs) => trs.map((tr) => tr.dataset.week));
	assert(listed.length > 0, 'weeks listed');
	await page.click(`#reviews-list a[href="#/reviews/${listed[0]}"]`);
	await page.waitForSelector('#charts svg.chart');
	assertEq(await page.locator('#charts svg.chart').count(), 4, 'charts');
	assertEq(await page.locator('#charts svg.chart').first()
	    .locator('rect.bar').count(), 7, 'seven days');
	await shots.take(page, 'review-current-week');

	// Daily reviews: yesterday's digest, one row per category.
	await page.click('#nav-reviews');
	await page.waitForSelector('#reviews-list table');
	const days = await page.locator('#reviews-list tr[data-day]')
	    .evaluateAll((trs) => trs.map((tr) => tr.dataset.day));
	assert(days.length > 0, 'days listed (an event two days ago)');
	await page.click(`#reviews-list a[href="#/reviews/${days[0]}"]`);
	await page.waitForSelector('#daily-review tr[data-category]');
	assertEq(await page.locator('#daily-review tr[data-category]').count(),
	    8, 'daily review categories');
	assertEq(await text(page, 'main h1'), fill(JA.dr_title,
	    { day: days[0] }), 'day opened');
	await shots.take(page, 'review-day');
	result({ days: days.length });

	// Finished weeks, newest first (from the Python side): the first one
	// without a sign-off is signed here, through the week picker.
	let week = null;
	for (const w of JSON.parse(env.PC_REVIEW_WEEKS || '[]')) {
		await page.click('#nav-reviews');
		await page.fill('#review-week', w);
		await page.click('#review-open');
		await page.waitForSelector(`#signoff`);
		assertEq(await text(page, 'main h1'), fill(JA.rv_title,
		    { week: w }), 'week opened');
		if (await page.locator('#signoff-submit').count()) {
			week = w;
			break;
		}
	}
	assert(week, 'a finished week to sign off');
	await page.fill('#signoff-comment', '週次レビュー（ブラウザテスト）');
	await page.click('#signoff-submit');
	await page.waitForSelector('#signoff-same');
	await shots.take(page, 'review-signed-off');
	const same = await api(page, 'POST', `/api/reviews/${week}/confirm`,
	    { comment: 'same person' });
	assertEq(same.status, 409, 'same person confirm');
	assertEq(same.data && same.data.error, 'same_person', 'same person');
	shared.week = week;
	result({ signed_off: week, signed_by: u.username });
	await page.context().close();
}

/* Admin: users screen; a password reset is a request (code half 1 here),
 * a second request for the same is refused, a second admin approves it
 * (half 2 there); the account then waits for first sign-in and the
 * admin withdraws that enrolment. Unlocks the account the lockout
 * scenario locked; confirms the auditor's weekly review. */
async function scenarioAdmin() {
	const page = await newPage('admin');
	const a = USERS.admin;
	await login(page, URL, a);
	await waitView(page, 'users');
	await page.waitForSelector('#users-list table');
	const navs = await page.locator('#nav a').evaluateAll((as) =>
	    as.map((x) => x.id));
	assertEq(navs.join(','), 'nav-users,nav-approvals,nav-alerts,' +
	    'nav-reviews,nav-inventory,nav-password', 'admin navigation');
	await shots.take(page, 'users');

	const target = USERS.resetme.username;
	const manageBtn = `#users-list button[data-user="${target}"]`;
	await page.click(manageBtn);
	await page.waitForSelector('#u-password');
	assertEq(await page.locator('dialog[open] input[type=password]')
	    .count(), 0, 'no password field anywhere');
	await shots.take(page, 'user-manage');
	await page.click('#u-password');
	await page.waitForSelector('#confirm-ok');
	assertEq(await text(page, 'dialog[open] .dlg-body p'), fill(
	    JA.reset_req_text, { user: target, approver: JA.approver_admin }),
	    'what a reset does');
	await page.click('#confirm-ok');
	await page.waitForSelector('#request-notice');
	const id = Number(await page.getAttribute('#request-notice',
	    'data-approval'));
	assertEq(await text(page, '#request-notice p'), fill(JA.req_sent_text,
	    { approver: JA.approver_admin }), 'who approves');
	assertEq(await page.getAttribute('#code-panel', 'data-part'), '1',
	    'the requester holds part 1');
	assertEq(await text(page, '#code-who'), fill(JA.code_give,
	    { part: 1, user: target }), 'part 1 for the user');
	const half1 = await text(page, '#code-value');
	assert(PURE.enrolCode(half1) === half1, 'a code half: ' + half1);
	await assertNotKept(page, half1);
	await shots.take(page, 'user-reset-requested');

	// The same request again waits behind the first.
	await page.click(manageBtn);
	await page.click('#u-password');
	await page.click('#confirm-ok');
	await page.waitForFunction((want) => {
		const el = document.querySelector('#toast');
		return el && !el.hidden && el.textContent.trim() === want;
	}, JA.err_approval_pending);

	// A second admin approves it, in their own browser.
	const p2 = await newPage('admin2', { scenario: 'admin' });
	const a2 = USERS.admin2;
	await login(p2, URL, a2);
	await waitView(p2, 'users');
	await p2.click('#nav-approvals');
	await waitView(p2, 'approvals');
	await p2.waitForSelector(`#appr-${id}[data-verified="true"]`);
	assertEq(await text(p2, `#appr-${id} dd[data-field="username"]`),
	    target, 'the account concerned');
	await p2.click(`#appr-approve-${id}`);
	await p2.click('#confirm-ok');
	await p2.waitForSelector('#code-panel');
	assertEq(await page.getAttribute('#code-panel', 'data-part'), '1',
	    'still part 1 on the requester\'s screen');
	assertEq(await p2.getAttribute('#code-panel', 'data-part'), '2',
	    'the approver holds part 2');
	const half2 = await text(p2, '#code-value');
	assert(PURE.enrolCode(half2) === half2 && half2 !== half1,
	    'another half: ' + half2);
	await shots.take(p2, 'user-reset-approved');
	await p2.context().close();

	// Back on the users screen (the half is gone once left): the account
	// waits for first sign-in; the admin withdraws that enrolment.
	await page.click('#nav-approvals');
	await waitView(page, 'approvals');
	await page.waitForSelector(
	    `#appr-past tr[data-approval="${id}"][data-status="approved"]`);
	await page.click('#nav-users');
	await waitView(page, 'users');
	const row = `#users-list tr[data-username="${target}"]`;
	await page.waitForSelector(`${row} .u-enrolling`);
	assertEq(await page.locator('#code-panel, #request-notice').count(), 0,
	    'the half is shown once');
	await page.click(manageBtn);
	await page.waitForSelector('#u-enrol-revoke');
	await page.click('#u-enrol-revoke');
	await page.click('#confirm-ok');
	await page.waitForFunction((want) => {
		const el = document.querySelector('#toast');
		return el && !el.hidden && el.textContent.trim() === want;
	}, fill(JA.done_enrol_revoke, { user: target, n: 1 }));
	await page.waitForSelector(`${row} .u-no-factors`);
	assertEq(await page.locator(`${row} .u-enrolling`).count(), 0,
	    'no longer waiting for first sign-in');
	await shots.take(page, 'user-enrolment-withdrawn');
	result({ reset: { username: target, approval: id,
	    requester: a.username, approver: a2.username } });

	// Unlock the account the lockout scenario locked.
	const locked = USERS.lockout.username;
	await page.waitForSelector(`#users-list tr[data-username="${locked}"]`);
	await page.fill('#users-filter', locked);
	const lrow = page.locator(`#users-list tr[data-username="${locked}"]`);
	assert((await lrow.innerText()).includes('ロック中'), 'shown locked');
	assertEq(await page.locator('#users-list tbody tr:not([hidden])')
	    .count(), 1, 'filter');
	await page.click(`#users-list button[data-user="${locked}"]`);
	await page.waitForSelector('#u-unlock');
	await page.click('#u-unlock');
	await page.click('#confirm-ok');
	// The toast may still show the previous action's words: wait for
	// this action's own, then compare (which names both).
	const unlocked = fill(JA.done_unlock, { user: locked });
	await page.waitForFunction((want) => {
		const el = document.querySelector('#toast');
		return el && !el.hidden && el.textContent.trim() === want;
	}, unlocked, { timeout: 15000 }).catch(() => {});
	assertEq(await text(page, '#toast'), unlocked, 'unlocked');
	await page.waitForFunction((n) => {
		const tr = document.querySelector(
		    `#users-list tr[data-username="${n}"]`);
		return tr && !tr.textContent.includes('ロック中');
	}, locked);
	result({ unlocked: locked });

	await page.click('#nav-alerts');
	await page.waitForSelector('#alerts-list table, #alerts-list .empty');
	await shots.take(page, 'alerts-admin');

	if (shared.week) {
		await page.goto(URL + '/#/reviews/' + shared.week);
		await page.waitForSelector('#signoff-submit');
		await page.fill('#signoff-comment', '承認（ブラウザテスト）');
		await page.click('#signoff-submit');
		await page.waitForSelector('#signoff .badge.ok');
		await shots.take(page, 'review-confirmed');
		result({ confirmed: shared.week, confirmed_by: a.username });
	}
	await page.context().close();
}

/* --- separation of duties (issue 12), once per language ----------------- */

/* Another half of the same shape: one character changed. */
function otherHalf(code) {
	const i = 6;	/* inside the second group */
	return code.slice(0, i) + (code[i] === 'A' ? 'B' : 'A') +
	    code.slice(i + 1);
}

/*
 * An admin requests an auditor account (half 1 of its enrolment code on
 * the admin's screen); an auditor approves it on the Approvals screen
 * (half 2 there), each in their own browser, both through the
 * re-authentication prompt; the new person does first sign-in with both
 * halves in a fresh browser, registers the QR code shown there (the
 * code computed from its URI) and signs in as an auditor.
 */
async function scenarioSodAccount(lang) {
	const L = T[lang];
	const tag = 'sod-account-' + lang;
	const a = USERS['sod_admin_' + lang];
	const v = USERS['sod_auditor_' + lang];
	const nu = { username: uniq('aud_'), display: lang === 'ja' ?
	    '監査 花子' : 'Hanako Audit', password: newPassword() };

	// The request.
	const page = await newPage(tag + '-admin', { scenario: tag, lang });
	await login(page, URL, a);
	await waitView(page, 'users');
	await page.waitForSelector('#users-list table');
	await page.click('#user-create');
	await page.waitForSelector('dialog[open] #new-username');
	assertEq(await page.locator('dialog[open] input[type=password]')
	    .count(), 0, 'no password field in the create form');
	await page.fill('#new-username', nu.username);
	await page.fill('#new-display', nu.display);
	await page.selectOption('#new-role', 'auditor');
	await shots.take(page, tag + '-request');
	ageReauth(a.username);
	await page.click('#create-submit');
	await reauth(page, a, tag + '-reauth');
	await page.waitForSelector('#request-notice');
	const id = Number(await page.getAttribute('#request-notice',
	    'data-approval'));
	const digest = await text(page, '#request-digest');
	assert(/^[0-9a-f]{64}$/.test(digest), 'request digest ' + digest);
	assertEq(await text(page, '#request-title'), fill(L.req_sent_title,
	    { id }), 'request notice');
	assertEq(await text(page, '#request-notice p'), fill(L.req_sent_text,
	    { approver: L.approver_auditor }), 'an auditor approves');
	assertEq(await page.getAttribute('#code-panel', 'data-part'), '1',
	    'part 1');
	assertEq(await text(page, '#code-who'), fill(L.code_give,
	    { part: 1, user: nu.username }), 'give part 1 in person');
	const code1 = await text(page, '#code-value');
	assert(PURE.enrolCode(code1) === code1, 'code half 1: ' + code1);
	await assertNotKept(page, code1);
	await shots.take(page, tag + '-requested');

	// The requester cannot decide their own request.
	await page.click('#nav-approvals');
	await waitView(page, 'approvals');
	await page.waitForSelector(`#appr-${id}`);
	assertEq(await page.locator(`#appr-approve-${id}, #appr-reject-${id}`)
	    .count(), 0, 'no decision on one\'s own request');
	assertEq(await page.locator(`#appr-withdraw-${id}`).count(), 1,
	    'its requester may withdraw it');
	assertEq(await text(page, `#appr-${id} .appr-why`), L.appr_mine,
	    'why not');
	await page.click('#nav-users');
	await waitView(page, 'users');
	await page.waitForSelector('#users-pending-creates');
	assert((await text(page, '#users-pending-creates')).includes(
	    nu.username), 'the account awaits approval');
	assertEq(await page.locator('#code-panel, #request-notice').count(), 0,
	    'part 1 is shown once');

	// The auditor approves, in their own browser.
	const vp = await newPage(tag + '-auditor', { scenario: tag, lang });
	await login(vp, URL, v);
	await waitView(vp, 'events');
	await vp.click('#nav-approvals');
	await waitView(vp, 'approvals');
	const card = `#appr-${id}`;
	await vp.waitForSelector(`${card}[data-verified="true"]`);
	const field = (k) => text(vp, `${card} dd[data-field="${k}"]`);
	assert((await field('kind')).startsWith(L.kind_user_create), 'kind');
	assertEq(await field('username'), nu.username, 'username shown');
	assertEq(await field('display_name'), nu.display, 'display name shown');
	assert((await field('role')).startsWith(L.role_auditor), 'role shown');
	assertEq(await text(vp, `${card} code.digest`), digest,
	    'the digest the requester saw');
	await vp.fill(`#appr-comment-${id}`, lang === 'ja' ?
	    '本人確認済み（ブラウザテスト）' : 'identity checked (browser test)');
	await shots.take(vp, tag + '-approve');
	ageReauth(v.username);
	await vp.click(`#appr-approve-${id}`);
	await vp.click('#confirm-ok');
	await reauth(vp, v, null);
	await vp.waitForSelector('#code-panel');
	assertEq(await text(vp, '#notice'), fill(L.appr_done_approve, { id }),
	    'approved');
	assertEq(await vp.getAttribute('#code-panel', 'data-part'), '2',
	    'part 2');
	assertEq(await text(vp, '#code-who'), fill(L.code_give,
	    { part: 2, user: nu.username }), 'give part 2 in person');
	const code2 = await text(vp, '#code-value');
	assert(PURE.enrolCode(code2) === code2 && code2 !== code1,
	    'code half 2: ' + code2);
	assert((await text(vp, '#code-until')).includes(nu.username),
	    'until when the halves work');
	await assertNotKept(vp, code2);
	await vp.waitForSelector(
	    `#appr-past tr[data-approval="${id}"][data-status="approved"]`);
	await shots.take(vp, tag + '-approved');
	await vp.click('#nav-events');
	await waitView(vp, 'events');
	await vp.click('#nav-approvals');
	await waitView(vp, 'approvals');
	await vp.waitForSelector(`#appr-past tr[data-approval="${id}"]`);
	assertEq(await vp.locator('#code-panel').count(), 0,
	    'part 2 is shown once');

	// Meanwhile the admin sees the account wait for first sign-in.
	await page.click('#nav-approvals');
	await waitView(page, 'approvals');
	await page.click('#nav-users');
	await page.waitForSelector(
	    `#users-list tr[data-username="${nu.username}"] .u-enrolling`);
	assertEq(await text(page, `#users-list tr[data-username="${
	    nu.username}"] .u-enrolling`), L.u_enrolling, 'enrolling shown');
	await shots.take(page, tag + '-enrolling');

	// First sign-in, in a fresh browser.
	const np = await newPage(tag + '-new', { scenario: tag, lang });
	await np.goto(URL + '/');
	await waitView(np, 'login');
	await useLang(np);
	await np.click('#enrol-link');
	await waitView(np, 'enrol');
	const typeAll = async (c1, c2) => {
		await np.fill('#enrol-username', nu.username);
		await np.fill('#enrol-code1', c1);
		await np.fill('#enrol-code2', c2);
		await np.fill('#enrol-password', nu.password);
		await np.fill('#enrol-password2', nu.password);
	};
	// A wrong half: one message, and neither half nor password stays.
	await typeAll(code1, otherHalf(code2));
	await np.click('#enrol-submit');
	await np.waitForSelector('#enrol-error:not([hidden])');
	assertEq(await text(np, '#enrol-error'), L.err_enrol_credentials,
	    'wrong half');
	assertEq(JSON.stringify(await np.evaluate(() => ['username', 'code1',
	    'code2', 'password', 'password2'].map((f) =>
	    document.querySelector('#enrol-' + f).value))),
	    JSON.stringify([nu.username, '', '', '', '']),
	    'fields after a failure');
	await shots.take(np, tag + '-wrong-half');
	// Typed as people type: lower case, spaces for dashes.
	await typeAll(code1.toLowerCase().replace(/-/g, ' '), code2);
	await shots.take(np, tag + '-first-signin');
	await np.click('#enrol-submit');
	await np.waitForSelector('svg.qr-svg');
	const uri = await np.inputValue('#enrol-uri');
	const m = /^otpauth:\/\/totp\/payconsole:([^?]+)\?secret=([A-Z2-7]+=*)&/
	    .exec(uri);
	assert(m && m[1] === nu.username, 'otpauth URI ' + uri);
	assertEq(await text(np, '#enrol-secret'), m[2], 'secret shown');
	nu.totp_secret_base32 = m[2];
	await shots.take(np, tag + '-qr');
	await np.fill('#enrol-otp', wrongCode(nu));
	await np.click('#enrol-finish');
	await np.waitForSelector('#enrol-finish-error:not([hidden])');
	assertEq(await text(np, '#enrol-finish-error'), L.err_enrol_code,
	    'wrong first code');
	assertEq(await np.inputValue('#enrol-otp'), '', 'code cleared');
	await np.fill('#enrol-otp', await nextCode(nu));
	await np.click('#enrol-finish');
	await waitView(np, 'login');
	assertEq(await text(np, '#notice'), L.enrolled_notice, 'enrolled');
	assertEq(await np.inputValue('#login-username'), nu.username,
	    'username kept');
	const err = await submitLogin(np, nu.username, nu.password,
	    await nextCode(nu));
	assert(err === null, 'first sign-in refused: ' + err);
	await waitView(np, 'events');
	assertEq(await text(np, '#who'), fill(L.who, { name: nu.display,
	    user: nu.username, role: L.role_auditor }), 'signed in as auditor');
	await shots.take(np, tag + '-new-auditor');
	result({ ['sod_account_' + lang]: { username: nu.username,
	    approval: id, digest, requester: a.username,
	    approver: v.username } });
	for (const p of [page, vp, np])
		await p.context().close();
}

/* Opens a transaction's detail through the search form. */
async function openTxn(page, txn) {
	await page.fill('#tx-form input[name=order_prefix]', txn.order);
	await page.click('#tx-search');
	await page.waitForFunction((id) => {
		const b = document.querySelectorAll('#tx-results button[data-txn]');
		return b.length === 1 && b[0].dataset.txn === String(id);
	}, txn.id);
	await page.click(`#tx-results button[data-txn="${txn.id}"]`);
	await page.waitForFunction((id) => {
		const h = document.querySelector('#detail-title');
		return h && h.textContent.includes('#' + id) &&
		    !document.querySelector('#tx-detail[aria-busy]');
	}, txn.id);
}

/*
 * A refund through the dialog, up to the server's answer. Above the
 * threshold the confirmation says, before anything is sent, that a
 * second operator decides.
 */
async function refundDialog(page, amount, reason, dbl) {
	await page.click('#act-refund');
	await page.waitForSelector('dialog[open] #refund-amount');
	await page.fill('#refund-amount', String(amount));
	await page.fill('#refund-reason', reason);
	await page.click('#op-next');
	await page.waitForSelector('#op-confirm-text');
	assertEq(await page.locator('#op-needs-approval').count(),
	    amount > REFUND_THRESHOLD ? 1 : 0, 'said before it is sent');
	if (dbl)
		await page.dblclick('#op-execute');
	else
		await page.click('#op-execute');
}

/*
 * An operator refunds more than the threshold: the dialog says it went
 * to another operator (202) and nothing moves; a second such request on
 * the same transaction; the requester cannot approve their own (the
 * screen offers nothing, the API says four_eyes). A second operator
 * rejects one and approves the other on the Approvals screen; the
 * approved refund shows once on the transaction.
 */
async function scenarioSodRefund(lang) {
	const L = T[lang];
	const tag = 'sod-refund-' + lang;
	const o1 = USERS['sod_op1_' + lang];
	const o2 = USERS['sod_op2_' + lang];
	const txn = REFUND_TXNS[lang];
	assert(txn, 'no transaction for ' + tag);
	const amount = REFUND_THRESHOLD + 1000;
	const other = REFUND_THRESHOLD + 500;
	assert(amount + other <= txn.amount, 'transaction too small');
	const reason = lang === 'ja' ? '高額返金（ブラウザテスト）' :
	    'Large refund (browser test)';
	const reason2 = lang === 'ja' ? '重複した依頼（却下予定）' :
	    'Duplicate request (to be rejected)';

	const p1 = await newPage(tag + '-op1', { scenario: tag, lang });
	await login(p1, URL, o1);
	await waitView(p1, 'transactions');
	await openTxn(p1, txn);
	// A double click asks once (the Python side counts the requests).
	await refundDialog(p1, amount, reason, true);
	await p1.waitForSelector('#op-pending');
	const id = Number(await p1.getAttribute('#op-pending', 'data-approval'));
	assertEq(await text(p1, '#op-pending'), fill(L.op_pending_refund,
	    { id }), 'sent for approval');
	await shots.take(p1, tag + '-sent');
	await p1.click('#op-close');
	await p1.waitForSelector('dialog', { state: 'detached' });
	await p1.waitForSelector(`#tx-pending li[data-approval="${id}"]`);
	assertEq(await p1.locator('#tx-detail tr[data-refund]').count(), 0,
	    'nothing refunded yet');
	await refundDialog(p1, other, reason2);
	await p1.waitForSelector('#op-pending');
	const id2 = Number(await p1.getAttribute('#op-pending',
	    'data-approval'));
	assert(id2 !== id, 'a second request');
	await p1.click('#op-close');
	await p1.waitForSelector(`#tx-pending li[data-approval="${id2}"]`);
	await shots.take(p1, tag + '-pending-in-detail');
	assertEq(await p1.locator('#tx-detail tr[data-refund]').count(), 0,
	    'still nothing refunded');

	await p1.click('#nav-approvals');
	await waitView(p1, 'approvals');
	await p1.waitForSelector(`#appr-${id}`);
	assertEq(await p1.locator(`#appr-approve-${id}, #appr-reject-${id}, ` +
	    `#appr-approve-${id2}, #appr-reject-${id2}`).count(), 0,
	    'no decision on one\'s own request');
	assertEq(await p1.locator(`#appr-withdraw-${id}`).count(), 1,
	    'its requester may withdraw it');
	const mine = (await api(p1, 'GET', '/api/approvals')).data.approvals
	    .find((x) => x.id === id);
	assert(mine && mine.mine && !mine.can_decide, 'listed as mine');
	const forged = await api(p1, 'POST', `/api/approvals/${id}/approve`,
	    { operation_sha256: mine.operation_sha256 });
	assertEq(forged.status, 403, 'own approval refused');
	assertEq(forged.data && forged.data.error, 'four_eyes', 'four eyes');
	await shots.take(p1, tag + '-requester-approvals');

	const p2 = await newPage(tag + '-op2', { scenario: tag, lang });
	await login(p2, URL, o2);
	await waitView(p2, 'transactions');
	await p2.click('#nav-approvals');
	await waitView(p2, 'approvals');
	const card = `#appr-${id}`;
	await p2.waitForSelector(`${card}[data-verified="true"]`);
	await p2.waitForSelector(`#appr-${id2}[data-verified="true"]`);
	const field = (k) => text(p2, `${card} dd[data-field="${k}"]`);
	assertEq(await field('transaction'), '#' + txn.id, 'transaction');
	assertEq(await field('merchant_order_id'), txn.order, 'order');
	assert((await field('amount')).replace(/[^0-9]/g, '') ===
	    String(amount), 'amount shown: ' + await field('amount'));
	assertEq(await field('currency'), 'JPY', 'currency');
	assertEq(await field('reason'), reason, 'reason');
	assert((await field('kind')).startsWith(L.kind_refund), 'kind');
	assertEq(await p2.locator(`${card} dl.op dd`).count(), 6,
	    'every field of the operation, no more');
	await shots.take(p2, tag + '-approvals');

	await p2.fill(`#appr-comment-${id2}`, lang === 'ja' ? '重複のため却下' :
	    'duplicate');
	await p2.click(`#appr-reject-${id2}`);
	await p2.click('#confirm-ok');
	await p2.waitForFunction((want) => {
		const n = document.querySelector('#notice');
		return n && n.textContent.trim() === want;
	}, fill(L.appr_done_reject, { id: id2 }));
	await p2.waitForSelector(`${card}[data-verified="true"]`);
	await p2.fill(`#appr-comment-${id}`, lang === 'ja' ? '確認しました' :
	    'checked');
	await p2.click(`#appr-approve-${id}`);
	await p2.click('#confirm-ok');
	await p2.waitForFunction((want) => {
		const n = document.querySelector('#notice');
		return n && n.textContent.trim() === want;
	}, fill(L.appr_done_approve, { id }));
	assertEq(await p2.locator('#code-panel').count(), 0,
	    'no code for a refund');
	await p2.waitForSelector(
	    `#appr-past tr[data-approval="${id}"][data-status="approved"]`);
	await p2.waitForSelector(
	    `#appr-past tr[data-approval="${id2}"][data-status="rejected"]`);
	await shots.take(p2, tag + '-decided');

	// The refund, once, with who asked and who approved.
	await p2.click('#nav-transactions');
	await waitView(p2, 'transactions');
	await openTxn(p2, txn);
	await p2.waitForSelector('#tx-detail tr[data-refund]');
	const rows = (await p2.locator('#tx-detail tr[data-refund]')
	    .allInnerTexts()).filter((r) => r.includes(reason) ||
	    r.includes(reason2));
	assertEq(rows.length, 1, 'exactly one refund shown');
	assert(rows[0].includes(reason) && rows[0].replace(/[^0-9]/g, '')
	    .includes(String(amount)) && rows[0].includes(o1.username) &&
	    rows[0].includes(fill(L.approved_by_line, { user: o2.username })),
	    'refund row: ' + rows[0]);
	assertEq(await p2.locator('#tx-pending').count(), 0,
	    'nothing left waiting');
	await shots.take(p2, tag + '-refund-visible');
	result({ ['sod_refund_' + lang]: { txn: txn.id, amount,
	    approval: id, rejected: id2, requester: o1.username,
	    approver: o2.username } });
	for (const p of [p1, p2])
		await p.context().close();
}

/* Session care: the idle countdown warns, "stay signed in" extends, and
 * at expiry the page returns to the login screen by itself. */
async function scenarioIdle() {
	const page = await newPage('idle');
	const u = USERS.idle;
	await login(page, env.PC_URL_IDLE, u);
	await waitView(page, 'transactions');
	assert((await text(page, '#timers')).includes('自動ログアウトまで'),
	    'countdown shown');
	await page.waitForSelector('#warn:not([hidden])', { timeout: 30000 });
	await shots.take(page, 'session-warning');
	await page.click('#warn-extend');
	await page.waitForSelector('#warn', { state: 'hidden' });
	await page.waitForSelector('#warn:not([hidden])', { timeout: 30000 });
	await page.waitForSelector('main.view-login', { timeout: 40000 });
	assertEq(await text(page, '#notice'), JA.notice_expired,
	    'expired notice');
	await shots.take(page, 'session-expired');
	await page.context().close();
}

/* A source blocked after repeated failures: the rate-limit message, not
 * the credentials one. Runs last: the block holds for every server of
 * this database (the Python side clears it). */
async function scenarioRateLimit() {
	const page = await newPage('ratelimit');
	const u = USERS.limited;
	await page.goto(env.PC_URL_LIMITED + '/#/login');
	await waitView(page, 'login');
	let err = null;
	for (let i = 0; i < 6; i++) {
		err = await submitLogin(page, u.username, u.password,
		    wrongCode(u));
		if (err !== JA.err_invalid_credentials)
			break;
	}
	const m = /^(.*?)(\d+)(.*)$/.exec(err || '');
	assert(m && fill(JA.err_rate_limited, { retry: m[2] }) === err,
	    'rate-limit message: ' + err);
	await shots.take(page, 'login-rate-limited');
	await page.context().close();
}

// --- trusted devices (issue 15) ---------------------------------------------

/* The toast of this action: waits for its own words, then compares. */
async function toastIs(page, want, what) {
	await page.waitForFunction((w) => {
		const el = document.querySelector('#toast');
		return el && !el.hidden && el.textContent.trim() === w;
	}, want, { timeout: 15000 }).catch(() => {});
	assertEq(await text(page, '#toast'), want, what);
}

/* Opens the trusted devices screen from the header: one device, this
 * browser's (its sign-in issued it). */
async function openDevices(page, L, tag) {
	await page.click('#devices-link');
	await waitView(page, 'devices');
	await page.waitForSelector('#devices-list table');
	assertEq(await text(page, 'main h1'), L.nav_devices, tag + ' title');
	assertEq(await page.locator('#devices-list tbody tr[data-device]')
	    .count(), 1, tag + ' one device');
	assertEq(await text(page, '#devices-list .badge.dev-current'),
	    L.dev_this_browser, tag + ' this browser marked');
}

async function devicesEmpty(page, L, what) {
	await page.waitForFunction(() => document.querySelector(
	    '#devices-list table') && !document.querySelector(
	    '#devices-list tr[data-device]'));
	assertEq(await text(page, '#devices-list tbody td'), L.no_rows, what);
}

/*
 * Japanese: the user revokes this browser from the panel, after a
 * confirmation that says it is this browser. English: an admin revokes
 * every device of the user from the users screen; the user's panel is
 * empty after a reload.
 */
async function scenarioDevices(lang) {
	const L = T[lang];
	const tag = 'devices-' + lang;
	const u = USERS['devices_' + lang];
	const page = await newPage(tag, { lang });
	await login(page, URL, u);
	await openDevices(page, L, tag);
	await shots.take(page, tag);
	if (lang === 'ja') {
		await page.click('#devices-list button.dev-revoke');
		await page.waitForSelector('#confirm-ok');
		const q = await text(page, 'dialog[open] .dlg-body p');
		assert(q.startsWith(L.dev_confirm_current.split('（')[0]),
		    'the confirmation names this browser: ' + q);
		await shots.take(page, tag + '-confirm');
		await page.click('#confirm-ok');
		await toastIs(page, L.dev_done, 'device revoked');
		await devicesEmpty(page, L, 'no device left');
		result({ devices_ja: u.username });
		await page.context().close();
		return;
	}
	const adm = USERS.devices_admin_en;
	const ap = await newPage(tag + '-admin', { scenario: tag, lang });
	await login(ap, URL, adm);
	await waitView(ap, 'users');
	await ap.waitForSelector(
	    `#users-list button[data-user="${u.username}"]`);
	await ap.click(`#users-list button[data-user="${u.username}"]`);
	await ap.waitForSelector('#u-devices-revoke');
	await ap.click('#u-devices-revoke');
	await ap.waitForSelector('#confirm-ok');
	assertEq(await text(ap, 'dialog[open] .dlg-body p'),
	    fill(L.confirm_devices_revoke, { user: u.username }),
	    'revoke-all confirmation');
	await shots.take(ap, tag + '-admin-confirm');
	await ap.click('#confirm-ok');
	await toastIs(ap, fill(L.done_devices_revoke, { user: u.username,
	    n: 1 }), 'all devices revoked');
	await page.reload();
	await waitView(page, 'devices');
	await devicesEmpty(page, L, 'revoked by the admin');
	await shots.take(page, tag + '-revoked');
	result({ devices_en: u.username, devices_admin_en: adm.username });
	await ap.context().close();
	await page.context().close();
}

// --- runner -----------------------------------------------------------------------

const SCENARIOS = {
	closed: scenarioClosed,
	wrongcode: scenarioWrongCode,
	lockout: scenarioLockout,
	operator: scenarioOperator,
	auditor: scenarioAuditor,
	admin: scenarioAdmin,
	'sod-account-ja': () => scenarioSodAccount('ja'),
	'sod-refund-ja': () => scenarioSodRefund('ja'),
	'sod-account-en': () => scenarioSodAccount('en'),
	'sod-refund-en': () => scenarioSodRefund('en'),
	idle: scenarioIdle,
	ratelimit: scenarioRateLimit,
	'devices-ja': () => scenarioDevices('ja'),
	'devices-en': () => scenarioDevices('en'),
};

async function runOne(name, failures) {
	log(`START ${name}`);
	try {
		await SCENARIOS[name]();
		log(`PASS  ${name}`);
	} catch (e) {
		failures.push(`${name}: ${e.stack || e}`);
		log(`FAIL  ${name}: ${e.message}`);
		for (const p of pagesOf(name)) {
			if (p.isClosed())
				continue;
			try {
				await shots.take(p, `FAILED-${name}`);
			} catch (x) { /* page gone */ }
		}
		for (const p of pagesOf(name))
			await p.context().close().catch(() => {});
	}
}

async function main() {
	checkTotp();
	checkPure();
	const only = env.PC_ONLY ? env.PC_ONLY.split(',') : null;
	const want = (n) => !only || only.includes(n);
	browser = await chromium.launch({
		executablePath: env.PC_CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic',
		    '--no-first-run', '--disable-background-networking',
		    '--disable-component-update', '--disable-sync'],
	});
	const failures = [];
	// The idle scenario mostly waits: it runs alongside the others.
	const side = want('idle') ? runOne('idle', failures) : null;
	for (const name of ['closed', 'wrongcode', 'lockout', 'operator',
	    'auditor', 'admin', 'sod-account-ja', 'sod-refund-ja',
	    'sod-account-en', 'sod-refund-en', 'devices-ja', 'devices-en']) {
		if (want(name))
			await runOne(name, failures);
	}
	if (side)
		await side;
	if (want('ratelimit') && env.PC_URL_LIMITED)
		await runOne('ratelimit', failures);
	await browser.close();

	log(`${shots.files.length} screenshots in ${shots.dir}`);
	log(`${problems.allowedNetwork} expected 4xx answers logged by the ` +
	    'browser (not counted as problems)');
	for (const p of problems.list)
		console.log('PROBLEM ' + p);
	for (const f of failures)
		console.log('FAILURE ' + f);
	if (failures.length || problems.list.length) {
		console.log(`browser suite: ${failures.length} failed scenarios, ` +
		    `${problems.list.length} console/page/CSP problems`);
		process.exit(1);
	}
	console.log('browser suite: all scenarios passed, no console errors, ' +
	    'no CSP violations');
}

main().catch((e) => {
	console.error(e);
	process.exit(2);
});
