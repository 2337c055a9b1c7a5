// i18n.mjs: both languages complete, and every text the code names
// exists.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { LANGS, TEXTS, hasText, translate } from '../../assets/i18n.mjs';

const ASSETS = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
    '..', '..', 'assets');

function placeholders(s) {
	return [...new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))]
	    .sort();
}

test('Japanese and English have the same keys', () => {
	assert.deepEqual(Object.keys(TEXTS).sort(), [...LANGS].sort());
	const ja = Object.keys(TEXTS.ja).sort();
	assert.ok(ja.length > 300, 'texts: ' + ja.length);
	assert.deepEqual(Object.keys(TEXTS.en).sort(), ja);
});

test('each text has the same placeholders in both languages', () => {
	for (const k of Object.keys(TEXTS.ja))
		assert.deepEqual(placeholders(TEXTS.en[k]),
		    placeholders(TEXTS.ja[k]), k);
});

test('no text is empty, none carries markup', () => {
	for (const lang of LANGS)
		for (const [k, s] of Object.entries(TEXTS[lang])) {
			assert.equal(typeof s, 'string', lang + ' ' + k);
			assert.ok(s.trim().length > 0, lang + ' ' + k);
			assert.doesNotMatch(s, /<[a-z/]/i, lang + ' ' + k);
		}
});

/* t('key') and t('key', vars); not t('prefix_' + name). */
test('every literal t("key") of the UI exists', () => {
	const used = new Set();
	for (const f of fs.readdirSync(ASSETS).filter((x) =>
	    x.endsWith('.mjs')))
		for (const m of fs.readFileSync(path.join(ASSETS, f), 'utf8')
		    .matchAll(/\bt\('(\w+)'\s*[,)]/g))
			used.add(m[1]);
	assert.ok(used.size > 200, 'keys used: ' + used.size);
	for (const k of used)
		assert.ok(hasText(k), 'missing text ' + k);
});

test('translate fills placeholders as text, falls back to the key', () => {
	assert.equal(translate('en', 'page_n', { n: 3 }),
	    TEXTS.en.page_n.replace('{n}', '3'));
	assert.equal(translate('ja', 'page_n', { n: '<b>' }),
	    TEXTS.ja.page_n.replace('{n}', '<b>'));
	/* A placeholder without a value stays as it is. */
	assert.equal(translate('en', 'page_n', {}), TEXTS.en.page_n);
	assert.equal(translate('en', 'no_such_key'), 'no_such_key');
	assert.equal(translate('xx', 'app_title'), TEXTS.ja.app_title);
	assert.equal(hasText('err_forbidden'), true);
	assert.equal(hasText('err_nope'), false);
});
