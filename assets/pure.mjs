/*
 * pure.mjs: helpers of the UI that touch neither the DOM nor the network,
 * unit-tested alone (tests/js/pure.test.mjs); the browser suite checks
 * jsonbText against PostgreSQL.
 *   jsonbText(v)        the text PostgreSQL gives a jsonb value; an
 *                       approval names its operation by the SHA-256 of
 *                       that text (migrations/016), so the approver's
 *                       page can check the digest against the operation
 *                       it shows before sending it
 *   enrolCode(text)     an enrolment-code half as a person typed it,
 *                       read as src/enrolcode.c reads it
 *   newPasswordProblem  the client-side rules of a new password
 *   amounts             captured and refunded totals of a transaction
 *   pendingRefunds      the refunds of a transaction waiting for approval
 *   accountApprover     who decides an account request
 *   approvalTarget      what a request concerns, as a short text
 *   operationFields     the order the fields of an operation are shown in
 *   hex(bytes)          lower-case hex of a byte buffer
 */

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
export function jsonbText(v) {
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
export function enrolCode(text) {
	const raw = String(text);
	const s = raw.replace(/[- ]/g, '').toUpperCase().replace(/0/g, 'O')
	    .replace(/1/g, 'I').replace(/8/g, 'B');
	if (raw.length > 64 || !/^[A-Z2-7]{26}$/.test(s) ||
	    (ALPHA.indexOf(s[25]) & 3) !== 0)
		return null;
	return s.match(/.{1,4}/g).join('-');
}

/* The i18n key of what is wrong with a new password, or null. */
export function newPasswordProblem(pw, again) {
	if (pw !== again)
		return 'pw_mismatch';
	if (pw.length < 12 || !/[A-Za-z]/.test(pw) || !/[0-9]/.test(pw))
		return 'pw_rules';
	return null;
}

/*
 * Captured and refunded totals. When the answer lacks them, they
 * follow from the status and the refunds listed; the server checks
 * every refund against its own figures anyway.
 */
export function amounts(x, refunds) {
	if (typeof x.captured_amount === 'number' &&
	    typeof x.refunded_amount === 'number')
		return { captured: x.captured_amount,
		    refunded: x.refunded_amount, exact: true };
	const captured = ['captured', 'partially_refunded',
	    'refunded'].indexOf(x.status) >= 0 ? x.amount : 0;
	const listed = (refunds || []).reduce(function (a, f) {
		return a + f.amount;
	}, 0);
	return { captured: captured, refunded: x.status === 'refunded' ?
	    captured : Math.min(captured, listed), exact: false };
}

/* Refunds of transaction id that wait for a second operator. */
export function pendingRefunds(approvals, id) {
	return (approvals || []).filter(function (a) {
		return a.kind === 'refund' && a.status === 'pending' &&
		    a.operation && a.operation.transaction === id;
	});
}

/* Who will decide an account request: as approvals.approver_role(). */
export function accountApprover(roleNow, roleNew) {
	return roleNow === 'auditor' || roleNew === 'auditor' ? 'auditor' :
	    'admin';
}

/* What a request concerns: the account, or the transaction. */
export function approvalTarget(a) {
	const op = a.operation || {};
	if (typeof op.username === 'string')
		return op.username;
	if (typeof op.transaction === 'number')
		return '#' + op.transaction + (op.merchant_order_id ?
		    ' ' + op.merchant_order_id : '');
	return '—';
}

/* The fields of an operation in this order, then any others sorted. */
const OP_FIELDS = ['kind', 'username', 'display_name', 'user_id',
    'role', 'new_role', 'transaction', 'merchant_order_id', 'amount',
    'currency', 'reason'];

export function operationFields(op) {
	const own = function (k) {
		return Object.prototype.hasOwnProperty.call(op, k);
	};
	return OP_FIELDS.filter(own).concat(Object.keys(op).filter(
	    function (k) {
		return OP_FIELDS.indexOf(k) < 0;
	    }).sort());
}

export function hex(buf) {
	return Array.from(new Uint8Array(buf), function (b) {
		return b.toString(16).padStart(2, '0');
	}).join('');
}
