// validate.mjs: what the forms refuse before anything is sent.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { filterProblem, isDay, isOtp, isWeek,
    refundProblem } from '../../assets/validate.mjs';

test('a one-time code is six digits, spaces around ignored', () => {
	for (const ok of ['123456', '000000', ' 123456 '])
		assert.equal(isOtp(ok), true, ok);
	for (const bad of ['12345', '1234567', 'abcdef', '12 456', '',
	    '１２３４５６'])
		assert.equal(isOtp(bad), false, bad);
});

test('a review week is YYYY-Www', () => {
	assert.equal(isWeek('2024-W05'), true);
	for (const bad of ['2024-W5', '2024W05', '24-W05', '2024-w05', ''])
		assert.equal(isWeek(bad), false, bad);
});

test('a review day is YYYY-MM-DD, a day that exists', () => {
	for (const ok of ['2026-11-28', '2024-02-29', '2000-02-29'])
		assert.equal(isDay(ok), true, ok);
	for (const bad of ['2026-02-29', '2100-02-29', '2026-13-01',
	    '2026-11-31', '2026-11-00', '2026-1-28', '2026-W47', '', '20261128'])
		assert.equal(isDay(bad), false, bad);
});

function problem(query) {
	return filterProblem(new URLSearchParams(query));
}

test('transaction filters: each rule has its message', () => {
	assert.equal(problem(''), null);
	assert.equal(problem('last4=4242&order_prefix=ORD-1.a_b&' +
	    'amount_min=10&amount_max=10&from=2024-01-01T00:00:00&' +
	    'to=2024-01-01T00:00:00'), null);
	assert.equal(problem('last4=424'), 'err_last4');
	assert.equal(problem('last4=42a2'), 'err_last4');
	assert.equal(problem('order_prefix=a%20b'), 'err_order_prefix');
	assert.equal(problem('order_prefix=' + 'a'.repeat(65)),
	    'err_order_prefix');
	assert.equal(problem('amount_min=-1'), 'err_amount_filter');
	assert.equal(problem('amount_max=1.5'), 'err_amount_filter');
	assert.equal(problem('amount_min=11&amount_max=10'),
	    'err_amount_order');
	/* Numbers compare as numbers, not as text. */
	assert.equal(problem('amount_min=9&amount_max=10'), null);
	assert.equal(problem('from=2024-01-02T00:00:00&' +
	    'to=2024-01-01T23:59:59'), 'err_time_order');
});

test('a refund is a whole amount up to what is refundable, with a reason',
    () => {
	assert.equal(refundProblem('500', 'damaged', 500), null);
	assert.equal(refundProblem(' 1 ', 'x', 500), null);
	for (const amount of ['0', '501', '1.5', '-1', '', 'abc'])
		assert.equal(refundProblem(amount, 'damaged', 500),
		    'err_amount_range', amount);
	assert.equal(refundProblem('10', '   ', 500), 'err_reason');
	/* The amount is judged first. */
	assert.equal(refundProblem('0', '', 500), 'err_amount_range');
});
