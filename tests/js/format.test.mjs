// format.mjs: times, durations, amounts and cards as the UI writes them.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { dateIn, fmtDur, fmtMoney, fmtNum, fmtTime, localTime, localeOf,
    maskedCard } from '../../assets/format.mjs';

const T = 1700000000;	/* 2023-11-14 22:13:20 UTC */

test('the UI languages map to their locales', () => {
	assert.equal(localeOf('ja'), 'ja-JP');
	assert.equal(localeOf('en'), 'en-GB');
});

test('times are written in the policy timezone, 24-hour', () => {
	assert.equal(fmtTime(T, 'ja-JP', 'Asia/Tokyo'), '2023/11/15 07:13:20');
	assert.equal(fmtTime(T, 'en-GB', 'Asia/Tokyo'), '15/11/2023, 07:13:20');
	assert.equal(fmtTime(T, 'en-GB', 'UTC'), '14/11/2023, 22:13:20');
});

test('no time is a dash; an unknown timezone falls back to ISO UTC', () => {
	for (const none of [0, null, undefined])
		assert.equal(fmtTime(none, 'ja-JP', 'Asia/Tokyo'), '—');
	assert.equal(fmtTime(T, 'en-GB', 'Nowhere/Atlantis'),
	    '2023-11-14T22:13:20.000Z');
});

test('the date of a moment depends on the timezone', () => {
	assert.equal(dateIn(T, 'Asia/Tokyo'), '2023-11-15');
	assert.equal(dateIn(T, 'UTC'), '2023-11-14');
});

test('durations are m:ss, or h:mm:ss from an hour, never negative', () => {
	for (const [secs, want] of [[0, '00:00'], [59.9, '00:59'],
	    [61, '01:01'], [599, '09:59'], [3599, '59:59'],
	    [3600, '1:00:00'], [36061, '10:01:01'], [-5, '00:00']])
		assert.equal(fmtDur(secs), want, String(secs));
});

test('amounts carry their currency and its digits', () => {
	assert.equal(fmtMoney(1234, 'JPY', 'ja-JP'), '￥1,234');
	assert.equal(fmtMoney(1234, 'JPY', 'en-GB'), 'JP¥1,234');
	assert.equal(fmtMoney(1234.5, 'EUR', 'en-GB'), '€1,234.50');
	/* No currency: yen, the console's own. */
	assert.equal(fmtMoney(1234, undefined, 'ja-JP'), '￥1,234');
	/* A code Intl refuses is written after the number. */
	assert.equal(fmtMoney(5, 'XX1', 'en-GB'), '5 XX1');
	assert.equal(fmtNum(1234567, 'ja-JP'), '1,234,567');
});

test('a card shows its brand and last four digits only', () => {
	assert.equal(maskedCard('visa', '4242'), 'VISA •••• 4242');
	assert.equal(maskedCard('jcb', '0005'), 'JCB •••• 0005');
});

test('datetime-local values get their seconds for the API', () => {
	assert.equal(localTime('2024-01-02T03:04'), '2024-01-02T03:04:00');
	assert.equal(localTime('2024-01-02T03:04:05'), '2024-01-02T03:04:05');
	assert.equal(localTime(''), '');
});
