/*
 * pure.js: helpers of the UI that touch neither the DOM nor the network,
 * so that the browser suite can check them alone (tests/browser/run.mjs
 * loads this file in a node:vm sandbox, as it loads i18n.js).
 *   jsonbText(v)        the text PostgreSQL gives a jsonb value; an
 *                       approval names its operation by the SHA-256 of
 *                       that text (migrations/016), so the approver's
 *                       page can check the digest against the operation
 *                       it shows before sending it
 *   enrolCode(text)     an enrolment-code half as a person typed it,
 *                       read as src/enrolcode.c reads it
 *   newPasswordProblem  the client-side rules of a new password
 */
'use strict';

window.PC_PURE = (function () {
	const utf8 = new TextEncoder();
	const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

	function byteOrder(a, b) {
		if (a.length !== b.length)
			return a.length - b.length;
		for (let i = 0; i < a.length; i++)
			if (a[i] !== b[i])
				return a[i] - b[i];
		return 0;
	}

	/*
	 * jsonb's output: object keys shorter first, then bytewise (UTF-8),
	 * ", " and ": " between items. Strings are escaped as
	 * JSON.stringify escapes them: PostgreSQL's escape_json escapes the
	 * same characters, controls as \u00xx in lower case. Only integers
	 * are written back as they came; any other number throws (jsonb
	 * keeps a numeric's scale, "1.0", which JavaScript has lost).
	 */
	function jsonbText(v) {
		if (v === null)
			return 'null';
		if (Array.isArray(v))
			return '[' + v.map(jsonbText).join(', ') + ']';
		switch (typeof v) {
		case 'string':
			return JSON.stringify(v);
		case 'boolean':
			return v ? 'true' : 'false';
		case 'number':
			if (!Number.isSafeInteger(v))
				throw new Error('not an exact integer: ' + v);
			return String(v);
		case 'object':
			return '{' + Object.keys(v).map(function (k) {
				return [k, utf8.encode(k)];
			}).sort(function (a, b) {
				return byteOrder(a[1], b[1]);
			}).map(function (k) {
				return JSON.stringify(k[0]) + ': ' + jsonbText(v[k[0]]);
			}).join(', ') + '}';
		default:
			throw new Error('not a JSON value');
		}
	}

	/*
	 * A half of an enrolment code: case, spaces and dashes do not
	 * matter, 0, 1 and 8 read as O, I and B; 26 base32 characters whose
	 * last two bits are zero. Its canonical form (groups of four), or
	 * null when the server would not read it either.
	 */
	function enrolCode(text) {
		const raw = String(text);
		const s = raw.replace(/[- ]/g, '').toUpperCase().replace(/0/g, 'O')
		    .replace(/1/g, 'I').replace(/8/g, 'B');
		if (raw.length > 64 || !/^[A-Z2-7]{26}$/.test(s) ||
		    (ALPHA.indexOf(s[25]) & 3) !== 0)
			return null;
		return s.match(/.{1,4}/g).join('-');
	}

	/* The i18n key of what is wrong with a new password, or null. */
	function newPasswordProblem(pw, again) {
		if (pw !== again)
			return 'pw_mismatch';
		if (pw.length < 12 || !/[A-Za-z]/.test(pw) || !/[0-9]/.test(pw))
			return 'pw_rules';
		return null;
	}

	return { jsonbText: jsonbText, enrolCode: enrolCode,
	    newPasswordProblem: newPasswordProblem };
}());
