/*
 * format.mjs: how the UI writes times, durations, numbers, amounts and
 * card numbers. Pure (the locale and the timezone are arguments), so
 * tests/js/format.test.mjs checks them alone.
 */

/* The Intl locale of a UI language. */
export function localeOf(lang) {
	return lang === 'ja' ? 'ja-JP' : 'en-GB';
}

/* A Unix time in timezone tz; a dash for none. */
export function fmtTime(unix, locale, tz) {
	if (unix === null || unix === undefined || unix === 0)
		return '—';
	try {
		return new Intl.DateTimeFormat(locale, {
			timeZone: tz, year: 'numeric', month: '2-digit',
			day: '2-digit', hour: '2-digit', minute: '2-digit',
			second: '2-digit', hour12: false,
		}).format(new Date(unix * 1000));
	} catch (e) {
		return new Date(unix * 1000).toISOString();
	}
}

/* The date (YYYY-MM-DD) of a Unix time in timezone tz. */
export function dateIn(unix, tz) {
	const p = {};
	new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric',
	    month: '2-digit', day: '2-digit' }).formatToParts(
	    new Date(unix * 1000)).forEach(function (x) {
		p[x.type] = x.value;
	    });
	return p.year + '-' + p.month + '-' + p.day;
}

export function fmtNum(n, locale) {
	return new Intl.NumberFormat(locale).format(n);
}

/* An amount in its currency's minor digits (JPY: none). */
export function fmtMoney(n, cur, locale) {
	try {
		return new Intl.NumberFormat(locale, {
			style: 'currency', currency: cur || 'JPY',
		}).format(n);
	} catch (e) {
		return fmtNum(n, locale) + ' ' + (cur || '');
	}
}

/* Seconds as m:ss or h:mm:ss; never negative. */
export function fmtDur(secs) {
	secs = Math.max(0, Math.floor(secs));
	const h = Math.floor(secs / 3600);
	const m = Math.floor((secs % 3600) / 60);
	const s = secs % 60;
	const mm = String(m).padStart(2, '0');
	const ss = String(s).padStart(2, '0');
	return h > 0 ? h + ':' + mm + ':' + ss : mm + ':' + ss;
}

/* A card as the UI shows it: brand and last four digits, never more. */
export function maskedCard(brand, last4) {
	return String(brand).toUpperCase() + ' •••• ' + last4;
}

/* A datetime-local value with seconds, as the API takes it. */
export function localTime(v) {
	if (!v)
		return '';
	return v.length === 16 ? v + ':00' : v;
}
