// devices.mjs: the order and the badges of the trusted devices screen.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { deviceBadges, deviceOrder } from '../../assets/devices.mjs';

const NOW = 1800000000;

function dev(id, o) {
	return Object.assign({ id: id, created_at: NOW - 1000 * id,
	    last_used_at: null, locked_until: null, current: false }, o);
}

test('this browser first, then the most recently used, then newest', () => {
	const list = [dev(1, { last_used_at: NOW - 50 }), dev(2),
	    dev(3, { last_used_at: NOW - 10 }), dev(4, { current: true }),
	    dev(5, { created_at: NOW - 9000 })];
	assert.deepEqual(deviceOrder(list).map((d) => d.id), [4, 3, 1, 2, 5]);
	/* The answer's own order is left alone. */
	assert.deepEqual(list.map((d) => d.id), [1, 2, 3, 4, 5]);
	/* Same last use: the higher id (the newer row) first. */
	assert.deepEqual(deviceOrder([dev(6, { created_at: NOW }),
	    dev(7, { created_at: NOW })]).map((d) => d.id), [7, 6]);
	assert.deepEqual(deviceOrder([]), []);
});

test('badges: this browser, locked while the lock lasts, else trusted', () => {
	assert.deepEqual(deviceBadges(dev(1), NOW), [['dev_trusted', 'ok']]);
	assert.deepEqual(deviceBadges(dev(1, { current: true }), NOW),
	    [['dev_this_browser', 'ok dev-current']]);
	assert.deepEqual(deviceBadges(dev(1, { locked_until: NOW + 60 }),
	    NOW), [['dev_locked', 'bad dev-locked']]);
	assert.deepEqual(deviceBadges(dev(1, { current: true,
	    locked_until: NOW + 60 }), NOW), [['dev_this_browser',
	    'ok dev-current'], ['dev_locked', 'bad dev-locked']]);
	/* A lock that has ended is no longer shown. */
	assert.deepEqual(deviceBadges(dev(1, { locked_until: NOW - 1 }), NOW),
	    [['dev_trusted', 'ok']]);
});
