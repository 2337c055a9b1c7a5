// pure.mjs: the jsonb text behind an approval's digest, enrolment-code
// halves, password rules and the figures the screens derive. (The
// browser suite checks jsonbText against PostgreSQL itself.)
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';

import { accountApprover, amounts, approvalTarget, enrolCode, hex,
    jsonbText, newPasswordProblem, operationFields,
    pendingRefunds } from '../../assets/pure.mjs';

test('jsonb text: keys shorter first, then bytewise; ", " and ": "', () => {
	assert.equal(jsonbText({ kind: 'refund', amount: 500, transaction: 7,
	    reason: 'damaged' }), '{"kind": "refund", "amount": 500, ' +
	    '"reason": "damaged", "transaction": 7}');
	/* Bytewise in UTF-8: "Z" < "a" < "é" (0xc3 0xa9) for equal lengths. */
	assert.equal(jsonbText({ 'é': 1, ab: 2, Zz: 3, b: 4 }),
	    '{"b": 4, "Zz": 3, "ab": 2, "é": 1}');
	assert.equal(jsonbText([1, [true, false, null], {}, []]),
	    '[1, [true, false, null], {}, []]');
});

test('jsonb text escapes strings as PostgreSQL does', () => {
	assert.equal(jsonbText('a"b\\c\n\u0001'), '"a\\"b\\\\c\\n\\u0001"');
	assert.equal(jsonbText('日本'), '"日本"');
});

test('jsonb text refuses what it cannot write exactly', () => {
	assert.throws(() => jsonbText(1.5), /not an exact integer/);
	assert.throws(() => jsonbText(2 ** 53), /not an exact integer/);
	assert.throws(() => jsonbText({ f: function () {} }),
	    /not a JSON value/);
	assert.throws(() => jsonbText(undefined), /not a JSON value/);
});

test('the digest of an operation is the SHA-256 of its jsonb text', () => {
	const op = { user_id: 3, kind: 'user.role', role: 'admin' };
	assert.equal(crypto.createHash('sha256').update(jsonbText(op))
	    .digest('hex'), crypto.createHash('sha256').update(
	    '{"kind": "user.role", "role": "admin", "user_id": 3}')
	    .digest('hex'));
});

test('enrolment-code halves are read as src/enrolcode.c reads them', () => {
	const A26 = 'AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AA';
	for (const [typed, want] of [
	    ['abcd efgh-ijkl mnop-qrst-uvwx-ya',
	     'ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YA'],
	    ['0018AAAAAAAAAAAAAAAAAAAAA4', 'OOIB-AAAA-AAAA-AAAA-AAAA-AAAA-A4'],
	    [A26, A26],
	    [A26.slice(0, -1) + 'B', null],	/* padding bits set */
	    [A26.slice(0, -1), null],		/* 25 characters */
	    [A26 + 'A', null],			/* 27 characters */
	    [A26.replace('A', '9'), null],	/* not base32 */
	    [A26 + ' '.repeat(40), null],	/* more than the server reads */
	    ])
		assert.equal(enrolCode(typed), want, 'enrolment code ' + typed);
});

test('a new password: twice the same, 12 or more, letters and digits', () => {
	assert.equal(newPasswordProblem('Abcdefghijk1', 'Abcdefghijk1'), null);
	assert.equal(newPasswordProblem('Abcdefghijk1', 'Abcdefghijk2'),
	    'pw_mismatch');
	assert.equal(newPasswordProblem('Abcdefghijkl', 'Abcdefghijkl'),
	    'pw_rules');				/* no digit */
	assert.equal(newPasswordProblem('123456789012', '123456789012'),
	    'pw_rules');				/* no letter */
	assert.equal(newPasswordProblem('Abcdefghij1', 'Abcdefghij1'),
	    'pw_rules');				/* 11 characters */
	/* A mismatch is said first, whatever the rules. */
	assert.equal(newPasswordProblem('a', 'b'), 'pw_mismatch');
});

test('captured and refunded: the server\'s figures when it gives them', () => {
	assert.deepEqual(amounts({ status: 'captured', amount: 900,
	    captured_amount: 800, refunded_amount: 300 }, []),
	    { captured: 800, refunded: 300, exact: true });
});

test('captured and refunded: estimated from status and refunds', () => {
	const refunds = [{ amount: 100 }, { amount: 250 }];
	assert.deepEqual(amounts({ status: 'authorized', amount: 1000 }, []),
	    { captured: 0, refunded: 0, exact: false });
	assert.deepEqual(amounts({ status: 'partially_refunded',
	    amount: 1000 }, refunds),
	    { captured: 1000, refunded: 350, exact: false });
	assert.deepEqual(amounts({ status: 'refunded', amount: 1000 }, refunds),
	    { captured: 1000, refunded: 1000, exact: false });
	/* Never more refunded than captured. */
	assert.deepEqual(amounts({ status: 'captured', amount: 300 }, refunds),
	    { captured: 300, refunded: 300, exact: false });
});

test('pending refunds: of this transaction, still pending', () => {
	const list = [
		{ id: 1, kind: 'refund', status: 'pending',
		    operation: { transaction: 7 } },
		{ id: 2, kind: 'refund', status: 'approved',
		    operation: { transaction: 7 } },
		{ id: 3, kind: 'refund', status: 'pending',
		    operation: { transaction: 8 } },
		{ id: 4, kind: 'user.create', status: 'pending',
		    operation: { transaction: 7 } },
		{ id: 5, kind: 'refund', status: 'pending' },
	];
	assert.deepEqual(pendingRefunds(list, 7).map((a) => a.id), [1]);
	assert.deepEqual(pendingRefunds(undefined, 7), []);
});

test('an account request involving an auditor is for an auditor', () => {
	assert.equal(accountApprover('operator', 'admin'), 'admin');
	assert.equal(accountApprover('admin'), 'admin');
	assert.equal(accountApprover('auditor'), 'auditor');
	assert.equal(accountApprover('operator', 'auditor'), 'auditor');
});

test('what a request concerns', () => {
	assert.equal(approvalTarget({ operation: { username: 'kato' } }),
	    'kato');
	assert.equal(approvalTarget({ operation: { transaction: 7,
	    merchant_order_id: 'ORD-1' } }), '#7 ORD-1');
	assert.equal(approvalTarget({ operation: { transaction: 7 } }), '#7');
	assert.equal(approvalTarget({}), '—');
});

test('operation fields: the known ones in order, then the rest sorted', () => {
	assert.deepEqual(operationFields({ zeta: 1, amount: 5, kind: 'refund',
	    alpha: 2, transaction: 7 }),
	    ['kind', 'transaction', 'amount', 'alpha', 'zeta']);
});

test('hex of bytes, two lower-case digits each', () => {
	assert.equal(hex(new Uint8Array([0, 1, 171, 255])), '0001abff');
	assert.equal(hex(new Uint8Array([]).buffer), '');
});
