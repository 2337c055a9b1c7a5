// lib.mjs: helpers of the browser suite. TOTP (RFC 6238, HMAC-SHA1,
// 6 digits, 30 s) with node's crypto, independent of the server's
// liboath; the UI's own texts (assets/i18n.mjs) so assertions compare
// what a user reads, and its pure helpers (assets/pure.mjs); problem
// collection (console errors, page errors, CSP violations); screenshots.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { TEXTS } from '../../assets/i18n.mjs';
import * as PURE from '../../assets/pure.mjs';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const TOP = path.resolve(HERE, '..', '..');
export const STEP = 30;

// --- TOTP ---------------------------------------------------------------

export function base32Decode(s) {
	const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	const clean = s.replace(/=+$/, '').toUpperCase();
	let bits = 0, value = 0;
	const out = [];
	for (const ch of clean) {
		const v = alpha.indexOf(ch);
		if (v < 0)
			throw new Error('bad base32 character ' + ch);
		value = (value << 5) | v;
		bits += 5;
		if (bits >= 8) {
			out.push((value >>> (bits - 8)) & 0xff);
			bits -= 8;
		}
	}
	return Buffer.from(out);
}

export function hotp(key, counter) {
	const msg = Buffer.alloc(8);
	msg.writeBigUInt64BE(BigInt(counter));
	const mac = crypto.createHmac('sha1', key).update(msg).digest();
	const off = mac[mac.length - 1] & 0x0f;
	const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) |
	    (mac[off + 2] << 8) | mac[off + 3];
	return String(bin % 1000000).padStart(6, '0');
}

export function totpAt(secret, unix) {
	return hotp(base32Decode(secret), Math.floor(unix / STEP));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export { sleep };

/*
 * A code for a step this user has not used yet. The server accepts the
 * previous, current and next step and each step once per user; starting
 * at the previous step lets one user prove both factors three times in a
 * row (confirm, login, password change) without waiting. Keeps clear of
 * step boundaries.
 */
export async function nextCode(user) {
	for (;;) {
		const now = Date.now() / 1000;
		if (now % STEP > STEP - 4) {
			await sleep((STEP - now % STEP + 0.3) * 1000);
			continue;
		}
		const cur = Math.floor(now / STEP);
		const step = Math.max(cur - 1, user.lastStep === undefined ?
		    cur - 1 : user.lastStep + 1);
		if (step > cur + 1) {
			await sleep(((step - 1) * STEP - now + 0.5) * 1000);
			continue;
		}
		user.lastStep = step;
		return hotp(base32Decode(user.totp_secret_base32), step);
	}
}

/* A code valid for no step near now. */
export function wrongCode(user) {
	const now = Date.now() / 1000;
	const near = new Set();
	for (let d = -3; d <= 3; d++)
		near.add(totpAt(user.totp_secret_base32, now + d * STEP));
	let c = Number(totpAt(user.totp_secret_base32, now));
	while (near.has(String(c).padStart(6, '0')))
		c = (c + 1) % 1000000;
	return String(c).padStart(6, '0');
}

// --- the UI's texts -----------------------------------------------------

/* The UI's texts, the very module the page imports. */
export function loadTexts() {
	return TEXTS;
}

/* The UI's pure helpers (assets/pure.mjs), as the page runs them. */
export function loadPure() {
	return PURE;
}

export function sha256hex(text) {
	return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

export function fill(template, vars) {
	return template.replace(/\{(\w+)\}/g, (m, k) =>
	    vars[k] === undefined ? m : String(vars[k]));
}

// --- problems and screenshots ---------------------------------------------

/*
 * Every console error, uncaught page error and CSP violation is a
 * problem, except the browser's own "Failed to load resource" line for a
 * 4xx answer: the suite provokes those on purpose (wrong codes, the
 * auditor's forged POST) and the UI shows them as messages.
 */
export class Problems {
	constructor() {
		this.list = [];
		this.allowedNetwork = 0;
	}

	watch(page, name) {
		page.on('console', (m) => {
			const text = m.text();
			const csp = /Content Security Policy|CSP violation/i.test(
			    text);
			if (!csp && /^Failed to load resource: the server responded with a status of 4\d\d/.test(text)) {
				this.allowedNetwork++;
				return;
			}
			if (m.type() === 'error' || m.type() === 'assert' || csp)
				this.list.push(`${name}: console ${m.type()}: ${text}`);
		});
		page.on('pageerror', (e) => this.list.push(
		    `${name}: page error: ${e.message}`));
		page.on('crash', () => this.list.push(`${name}: page crashed`));
	}
}

/* Reported from inside the page: CSP violations as console errors. */
export function cspListener() {
	document.addEventListener('securitypolicyviolation', (e) => {
		console.error('CSP violation: ' + e.violatedDirective + ' ' +
		    e.blockedURI + ' ' + (e.sourceFile || '') + ':' +
		    (e.lineNumber || 0));
	});
}

export class Shots {
	constructor(dir) {
		this.dir = dir;
		this.n = 0;
		this.files = [];
		fs.mkdirSync(dir, { recursive: true });
	}

	async take(page, name) {
		this.n++;
		const file = path.join(this.dir, String(this.n).padStart(2, '0') +
		    '-' + name.replace(/[^a-z0-9_-]+/gi, '-') + '.png');
		await page.screenshot({ path: file, fullPage: true });
		this.files.push(file);
		return file;
	}
}

export function assert(cond, msg) {
	if (!cond)
		throw new Error('assertion failed: ' + msg);
}

export function assertEq(got, want, msg) {
	if (got !== want)
		throw new Error(`assertion failed: ${msg}: got ${JSON.stringify(
		    got)}, want ${JSON.stringify(want)}`);
}
