/*
 * core.mjs: what every screen shares beyond the DOM: requests to the API
 * (one fetch wrapper that ends the session view on a 401 or at the closing
 * hour), the session (its timers, its end, the other tabs), navigation
 * (go, render, stale) and re-authentication.
 */
import { btn, closeDialogs, dialog, errorBox, field, h, otpField,
    showError, announce } from './dom.mjs';
import { hasText } from './i18n.mjs';
import { isOtp } from './validate.mjs';
import { now, state } from './state.mjs';
import { fmtDur, outsideHoursText, t } from './text.mjs';

const WARN_IDLE = 120;		/* seconds before idle expiry */
const WARN_END = 300;		/* seconds before hours / absolute end */
/* A 401 here is a wrong password or code, not a dead session. */
const CREDENTIAL_PATHS = { '/api/reauth': 1, '/api/password': 1,
    '/api/enrolment/begin': 1, '/api/enrolment/finish': 1,
    '/api/login': 1 };

/* --- API -------------------------------------------------------------- */

/*
 * One request. Returns {status, ok, data, error}. A 401 or an
 * outside-hours answer for a signed-in user ends the session view.
 */
export async function api(method, path, body, headers, opts) {
	const o = { method: method, headers: {}, credentials: 'same-origin',
	    cache: 'no-store', redirect: 'error' };
	Object.assign(o.headers, headers || {});
	if (method !== 'GET' && state.csrf)
		o.headers['X-CSRF-Token'] = state.csrf;
	if (body !== undefined) {
		o.headers['Content-Type'] = 'application/json';
		o.body = JSON.stringify(body);
	}
	let r;
	try {
		r = await fetch(path, o);
	} catch (e) {
		return { status: 0, ok: false, data: null,
		    error: 'network' };
	}
	let data = null;
	if ((r.headers.get('content-type') || '').indexOf('json') >= 0) {
		try {
			data = await r.json();
		} catch (e) {
			data = null;
		}
	}
	const res = { status: r.status, ok: r.ok, data: data,
	    error: data && data.error ? data.error : null,
	    retryAfter: r.headers.get('retry-after') };
	const signedIn = state.me !== null;
	if (signedIn && !(opts && opts.quiet)) {
		if (r.status === 401 && !CREDENTIAL_PATHS[path]) {
			sessionEnded('expired');
		} else if (r.status === 403 &&
		    res.error === 'outside_hours') {
			sessionEnded('closed');
		} else if (r.status === 403 &&
		    res.error === 'password_change_required') {
			state.me.must_change_password = true;
			go('password');
		} else if (r.status > 0 && r.status !== 401) {
			/* The server extended the idle time. */
			touch(r);
		}
	}
	return res;
}

function touch(r) {
	const d = r && r.headers && r.headers.get('date');
	if (d) {
		const srv = Date.parse(d) / 1000;
		if (!isNaN(srv))
			state.skew = srv + 0.5 - Date.now() / 1000;
	}
	if (!state.me)
		return;
	state.idleExpires = Math.min(now() + state.idleSecs,
	    state.me.absolute_expires_at || Infinity);
}

/* Adopt a /api/me (or login) body. */
export function adoptMe(me) {
	state.me = me;
	if (state.csrf !== me.csrf_token) {
		state.tag = null;
		sessionTag(me.csrf_token).then(function (tag) {
			if (state.csrf === me.csrf_token)
				state.tag = tag;
		});
	}
	state.csrf = me.csrf_token;
	const left = me.idle_expires_at - now();
	state.idleSecs = Math.max(10, Math.min(900, Math.round(left)));
	state.idleExpires = me.idle_expires_at;
	state.ending = false;
}

/* The session again: its status (200, 401, 403, or 0 offline). */
async function meStatus() {
	const r = await api('GET', '/api/me', undefined, undefined,
	    { quiet: true });
	if (r.status === 200 && r.data) {
		adoptMe(r.data);
		return 200;
	}
	return r.status;
}

export async function refreshMe() {
	return (await meStatus()) === 200;
}

export function errText(r, fallbackKey) {
	if (r.status === 0)
		return t('err_network');
	const k = 'err_' + (r.error || '');
	if (r.error && hasText(k))
		return t(k, { message: r.data && r.data.message,
		    retry: r.retryAfter || '?' });
	if (fallbackKey)
		return t(fallbackKey);
	return t('err_unexpected', { status: r.status,
	    message: (r.data && r.data.message) || '' });
}

/*
 * Why a sign-in or a first sign-in was refused: one message for every
 * credential failure (key401), distinct ones for the hours and the rate
 * limit.
 */
export function signInErr(r, key401) {
	if (r.status === 401)
		return t(key401);
	if (r.error === 'password_rejected')
		return reasonText(r);
	if (r.error === 'outside_hours')
		return outsideHoursText();
	if (r.status === 429)
		return t('err_rate_limited', { retry: r.retryAfter || '?' });
	return errText(r);
}

export function reasonText(r) {
	const reason = r.data && r.data.reason;
	if (reason && hasText('pw_' + reason))
		return t('pw_' + reason);
	return t('err_password_rejected');
}

/* --- session ------------------------------------------------------ */

export function role() {
	return state.me ? state.me.user.role : null;
}

/*
 * The tabs of one browser share the session cookie: when one of them
 * sees the session end (sign-out, expiry, closing hour), it tells the
 * others, which take their data off the screen at once rather than at
 * their next request.
 */
const ENDED_NOTICE = { logout: 'notice_logged_out',
    elsewhere: 'notice_logged_out_elsewhere', closed: 'notice_closed',
    expired: 'notice_expired' };
const peers = typeof BroadcastChannel === 'function' ?
    new BroadcastChannel('payconsole-session') : null;

/*
 * Which session a message speaks of, so that a tab left over from an
 * earlier session cannot end a newer one: the first 16 bytes of the
 * SHA-256 of the session's CSRF token, in hex (the token itself
 * never leaves this tab).
 */
async function sessionTag(csrf) {
	const d = await crypto.subtle.digest('SHA-256',
	    new TextEncoder().encode(csrf));
	return Array.from(new Uint8Array(d).slice(0, 16), function (b) {
		return b.toString(16).padStart(2, '0');
	}).join('');
}

/* quiet: tell no other tab (the word came from one, or is local). */
function sessionEnded(why, quiet) {
	if (state.ending)
		return;
	state.ending = true;
	const tag = state.tag;
	state.me = null;
	state.tag = null;
	state.csrf = null;
	state.oneTime = null;
	state.firstSignIn = null;
	closeDialogs();
	if (peers && !quiet && tag)
		peers.postMessage({ ended: why, session: tag });
	state.notice = { kind: why === 'logout' || why === 'elsewhere' ?
	    'ok' : 'warn', text: t(ENDED_NOTICE[why] ||
	    'notice_expired') };
	go('login', true);
}

/*
 * A password change or a re-authentication gave the session a new
 * token, and so a new CSRF token: take them from the answer (the
 * /api/me members, as at login). The other tabs share the new
 * cookie but still hold the old CSRF token: told which session was
 * renewed, they ask /api/me for theirs.
 */
export function sessionRenewed(me) {
	const tag = state.tag;
	adoptMe(me);
	if (peers && tag)
		peers.postMessage({ renewed: true, session: tag });
}

if (peers) {
	peers.addEventListener('message', function (ev) {
		if (ev.data && ev.data.renewed === true && state.me &&
		    state.tag && ev.data.session === state.tag) {
			refreshMe();
			return;
		}
		const why = ev.data ? ev.data.ended : null;
		if (!state.me || !Object.prototype.hasOwnProperty.call(
		    ENDED_NOTICE, why) || !state.tag ||
		    ev.data.session !== state.tag)
			return;
		sessionEnded(why === 'logout' ? 'elsewhere' : why, true);
	});
}

export async function logout() {
	await api('POST', '/api/logout', {}, undefined, { quiet: true });
	sessionEnded('logout');
}

let checking = false;
export async function tick() {
	const timers = document.getElementById('timers');
	const warn = document.getElementById('warn');
	const me = state.me;
	if (!me) {
		warn.hidden = true;
		return;
	}
	const n = now();
	const idle = state.idleExpires - n;
	const end = me.window_end ? me.window_end - n : Infinity;
	const abs = me.absolute_expires_at - n;
	timers.textContent = t('timers', { idle: fmtDur(idle),
	    end: end === Infinity ? '—' : fmtDur(end) });
	const warnIdle = Math.min(WARN_IDLE, state.idleSecs / 2);
	let text = null;
	let canExtend = false;
	if (end <= WARN_END && end <= idle) {
		text = t('warn_hours', { t: fmtDur(end) });
	} else if (abs <= WARN_END && abs <= idle) {
		text = t('warn_absolute', { t: fmtDur(abs) });
	} else if (idle <= warnIdle) {
		text = t('warn_idle', { t: fmtDur(idle) });
		canExtend = true;
	}
	document.getElementById('warn-text').textContent = text || '';
	document.getElementById('warn-extend').hidden = !canExtend;
	if (text && warn.hidden)
		announce(text);
	warn.hidden = !text;

	/*
	 * Past the end (with a margin for clock rounding): ask the
	 * server once; another tab may have kept the session alive.
	 */
	if (Math.min(idle, end, abs) < -2 && !checking) {
		checking = true;
		const st = await meStatus();
		checking = false;
		/* Offline, this tab's clock decides for this tab only:
		 * the others may know better (and decide themselves). */
		if (st !== 200 || state.idleExpires - now() <= 0)
			sessionEnded(end <= 0 ? 'closed' : 'expired',
			    st === 0);
	}
}

/* --- navigation ------------------------------------------------------- */

/* main.mjs draws the screens; the others ask it through render(). */
let renderer = null;
let renderSeq = 0;

export function setRenderer(fn) {
	renderer = fn;
}

export function render() {
	renderer();
}

/* A new screen: what the one before it still loads is stale. */
export function nextSeq() {
	renderSeq += 1;
	return renderSeq;
}

export function stale(seq) {
	return seq !== renderSeq;
}

export function homeRoute() {
	switch (role()) {
	case 'operator':
		return 'transactions';
	case 'admin':
		return 'users';
	case 'auditor':
		return 'events';
	default:
		return 'login';
	}
}

export function parseHash() {
	const raw = (location.hash || '').replace(/^#\/?/, '');
	const parts = raw.split('/');
	return { name: parts[0] || '', arg: parts.slice(1).join('/') };
}

export function go(name, replace, arg) {
	const hash = '#/' + name + (arg ? '/' + arg : '');
	if (location.hash === hash) {
		render();
	} else if (replace) {
		history.replaceState(null, '', hash);
		render();
	} else {
		location.hash = hash;
	}
}

/*
 * Keep what a request or an approval returned once (its notice, a
 * half of an enrolment code) for the screen that shows it. render()
 * forgets it when that screen is left, sessionEnded() when the
 * session ends; nothing of it goes to storage or to the clipboard.
 */
export function keepOnce(route, o) {
	state.oneTime = Object.assign({ route: route }, o);
}

export async function loadHours() {
	const r = await api('GET', '/api/hours');
	if (r.status === 200 && r.data)
		state.hours = r.data;
	return state.hours;
}

/* --- re-authentication ------------------------------------------------ */

/* Password + code again, when the API asks; resolves true when done. */
function reauthDialog() {
	return new Promise(function (resolve) {
		const d = dialog(t('reauth_title'), function (r) {
			resolve(r === true);
		});
		const pass = field({ label: t('password'),
		    name: 'password', id: 'reauth-password',
		    type: 'password', autocomplete: 'current-password',
		    required: true });
		const otp = otpField({ id: 'reauth-otp' });
		const err = errorBox('reauth-error');
		const ok = h('button', { type: 'submit', id: 'reauth-submit',
		    class: 'btn primary', text: t('reauth_submit') });
		const form = h('form', { novalidate: true },
		    h('p', { text: t('reauth_text') }), pass, otp, err,
		    h('div', { class: 'actions' }, ok, btn(t('cancel'),
		    { class: 'btn ghost' }, function () {
			d.close(false);
		    })));
		d.body.append(form);
		form.addEventListener('submit', async function (ev) {
			ev.preventDefault();
			showError(err, null);
			if (!pass.input.value || !isOtp(otp.input.value)) {
				showError(err, t('err_fill_all'));
				return;
			}
			ok.disabled = true;
			const r = await api('POST', '/api/reauth', {
			    password: pass.input.value,
			    otp: otp.input.value.trim() });
			ok.disabled = false;
			otp.input.value = '';
			pass.input.value = '';
			if (r.status === 200) {
				sessionRenewed(r.data);
				d.close(true);
				return;
			}
			showError(err, r.status === 401 ?
			    t('err_invalid_credentials') : errText(r));
		});
	});
}

export async function withReauth(fn) {
	let r = await fn();
	if (r.status === 403 && r.error === 'reauth_required') {
		if (!await reauthDialog())
			return null;
		r = await fn();
	}
	return r;
}
