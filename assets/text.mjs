/*
 * text.mjs: the texts and formats of the UI in the language and the
 * timezone of this session (format.mjs and i18n.mjs applied to state).
 */
import { dateIn, fmtDur, fmtMoney as money, fmtNum as num,
    fmtTime as time, localeOf } from './format.mjs';
import { translate } from './i18n.mjs';
import { now, state } from './state.mjs';

export { fmtDur };

export function t(key, vars) {
	return translate(state.lang, key, vars);
}

export function tz() {
	if (state.me && state.me.timezone)
		return state.me.timezone;
	if (state.hours && state.hours.timezone)
		return state.hours.timezone;
	return 'Asia/Tokyo';
}

export function fmtTime(unix) {
	return time(unix, localeOf(state.lang), tz());
}

/* Today's date (YYYY-MM-DD) in the policy's timezone. */
export function today() {
	return dateIn(now(), tz());
}

export function fmtNum(n) {
	return num(n, localeOf(state.lang));
}

export function fmtMoney(n, cur) {
	return money(n, cur, localeOf(state.lang));
}

export function roleName(r) {
	return t('role_' + r);
}

export function statusName(s) {
	return t('st_' + s);
}

export function kindName(k) {
	return t('kind_' + String(k).replace('.', '_'));
}

/* Who decides a request, as a phrase ("another admin"). */
export function approverText(r) {
	return t('approver_' + r);
}

/* Why a sign-in was refused at this hour, with the hours. */
export function outsideHoursText() {
	return t('err_outside_hours_login', {
	    hours: state.hours ? state.hours.hours : '',
	    tz: state.hours ? state.hours.timezone : '' });
}
