/*
 * validate.mjs: the checks the UI makes before it sends a form. Each
 * answers the i18n key of what is wrong, or null; the server checks
 * everything again. Pure: tests/js/validate.test.mjs.
 */

/* A one-time code as typed: six digits. */
export function isOtp(s) {
	return /^[0-9]{6}$/.test(String(s).trim());
}

/* An ISO week, as the reviews take it: 2024-W05. */
export function isWeek(s) {
	return /^[0-9]{4}-W[0-9]{2}$/.test(s);
}

/* A daily review's day, YYYY-MM-DD, a day that exists. */
export function isDay(s) {
	if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(s))
		return false;
	const d = new Date(s + 'T00:00:00Z');
	return !isNaN(d) && d.toISOString().slice(0, 10) === s;
}

/* The transaction search filters (a URLSearchParams). */
export function filterProblem(p) {
	const min = p.get('amount_min');
	const max = p.get('amount_max');
	if (p.get('last4') && !/^[0-9]{4}$/.test(p.get('last4')))
		return 'err_last4';
	if (p.get('order_prefix') && !/^[A-Za-z0-9._-]{1,64}$/.test(
	    p.get('order_prefix')))
		return 'err_order_prefix';
	if ((min && !/^[0-9]+$/.test(min)) || (max && !/^[0-9]+$/.test(max)))
		return 'err_amount_filter';
	if (min && max && Number(min) > Number(max))
		return 'err_amount_order';
	if (p.get('from') && p.get('to') && p.get('from') > p.get('to'))
		return 'err_time_order';
	return null;
}

/* A refund: a whole amount from 1 to what is refundable, and a reason. */
export function refundProblem(amount, reason, refundable) {
	const v = String(amount).trim();
	if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > refundable)
		return 'err_amount_range';
	if (!String(reason).trim())
		return 'err_reason';
	return null;
}
