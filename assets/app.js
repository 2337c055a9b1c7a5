/*
 * app.js: the payconsole web UI. One page, no framework, no network
 * access beyond this origin. The DOM is built with createElement and
 * textContent only (the CSP forbids inline script and style; nothing the
 * server or a user typed is ever parsed as HTML). Routes are hash
 * fragments; the server decides every permission, the navigation only
 * hides what a role may not use.
 */
'use strict';

(function () {
	const DICT = window.PC_I18N;
	const PURE = window.PC_PURE;
	const LANG_KEY = 'pc_lang';
	const WARN_IDLE = 120;		/* seconds before idle expiry */
	const WARN_END = 300;		/* seconds before hours / absolute end */
	/* A 401 here is a wrong password or code, not a dead session. */
	const CREDENTIAL_PATHS = { '/api/reauth': 1, '/api/password': 1,
	    '/api/enrolment/begin': 1, '/api/enrolment/finish': 1,
	    '/api/login': 1 };

	let lang = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'ja';

	const state = {
		me: null,		/* /api/me body while signed in */
		csrf: null,
		tag: null,		/* sessionTag() of the signed-in session */
		skew: 0,		/* server clock - local clock, seconds */
		idleSecs: 900,
		idleExpires: 0,
		hours: null,		/* /api/hours, for the login page */
		notice: null,		/* {kind, text} shown once on the next view */
		loginName: '',
		/* A request's notice or a code half, in memory only, for one
		 * screen: see keepOnce(). */
		oneTime: null,
		/* First sign-in between its two steps: the name, both code
		 * halves, the QR code and URI; forgotten with the screen. */
		firstSignIn: null,
		ending: false,
	};

	/* --- text ------------------------------------------------------- */

	function t(key, vars) {
		let s = DICT[lang][key];
		if (s === undefined)
			s = DICT.ja[key];
		if (s === undefined)
			s = key;
		if (vars) {
			s = s.replace(/\{(\w+)\}/g, function (m, k) {
				return vars[k] === undefined ? m : String(vars[k]);
			});
		}
		return s;
	}

	function locale() {
		return lang === 'ja' ? 'ja-JP' : 'en-GB';
	}

	function tz() {
		if (state.me && state.me.timezone)
			return state.me.timezone;
		if (state.hours && state.hours.timezone)
			return state.hours.timezone;
		return 'Asia/Tokyo';
	}

	function fmtTime(unix) {
		if (unix === null || unix === undefined || unix === 0)
			return '—';
		try {
			return new Intl.DateTimeFormat(locale(), {
				timeZone: tz(), year: 'numeric', month: '2-digit',
				day: '2-digit', hour: '2-digit', minute: '2-digit',
				second: '2-digit', hour12: false,
			}).format(new Date(unix * 1000));
		} catch (e) {
			return new Date(unix * 1000).toISOString();
		}
	}

	/* Today's date (YYYY-MM-DD) in the policy's timezone. */
	function today() {
		const p = {};
		new Intl.DateTimeFormat('en-CA', { timeZone: tz(), year: 'numeric',
		    month: '2-digit', day: '2-digit' }).formatToParts(
		    new Date(now() * 1000)).forEach(function (x) {
			p[x.type] = x.value;
		    });
		return p.year + '-' + p.month + '-' + p.day;
	}

	function fmtNum(n) {
		return new Intl.NumberFormat(locale()).format(n);
	}

	function fmtMoney(n, cur) {
		try {
			return new Intl.NumberFormat(locale(), {
				style: 'currency', currency: cur || 'JPY',
			}).format(n);
		} catch (e) {
			return fmtNum(n) + ' ' + (cur || '');
		}
	}

	function fmtDur(secs) {
		secs = Math.max(0, Math.floor(secs));
		const h = Math.floor(secs / 3600);
		const m = Math.floor((secs % 3600) / 60);
		const s = secs % 60;
		const mm = String(m).padStart(2, '0');
		const ss = String(s).padStart(2, '0');
		return h > 0 ? h + ':' + mm + ':' + ss : mm + ':' + ss;
	}

	function roleName(r) {
		return t('role_' + r);
	}

	function statusName(s) {
		return t('st_' + s);
	}

	/* --- DOM -------------------------------------------------------- */

	function h(tag, attrs) {
		const el = document.createElement(tag);
		setAttrs(el, attrs);
		for (let i = 2; i < arguments.length; i++)
			append(el, arguments[i]);
		return el;
	}

	function setAttrs(el, attrs) {
		if (!attrs)
			return;
		Object.keys(attrs).forEach(function (k) {
			const v = attrs[k];
			if (v === null || v === undefined || v === false)
				return;
			if (k === 'class')
				el.setAttribute('class', v);
			else if (k === 'text')
				el.textContent = v;
			else if (k.slice(0, 2) === 'on' &&
			    typeof v === 'function')
				el.addEventListener(k.slice(2), v);
			else if (k === 'value')
				el.value = v;
			else if (v === true)
				el.setAttribute(k, '');
			else
				el.setAttribute(k, String(v));
		});
	}

	function append(el, c) {
		if (c === null || c === undefined || c === false)
			return;
		if (Array.isArray(c)) {
			c.forEach(function (x) { append(el, x); });
			return;
		}
		el.append(c instanceof Node ? c : document.createTextNode(
		    String(c)));
	}

	const SVGNS = 'http://www.w3.org/2000/svg';

	function svg(tag, attrs) {
		const el = document.createElementNS(SVGNS, tag);
		Object.keys(attrs || {}).forEach(function (k) {
			if (k === 'text')
				el.textContent = attrs[k];
			else
				el.setAttribute(k, String(attrs[k]));
		});
		for (let i = 2; i < arguments.length; i++)
			if (arguments[i])
				el.append(arguments[i]);
		return el;
	}

	let uid = 0;
	function nextId(p) {
		uid += 1;
		return (p || 'f') + '-' + uid;
	}

	/* A labelled form field: {label, name, type, ...input attrs}. */
	function field(o) {
		const id = o.id || nextId(o.name);
		let input;
		if (o.type === 'select') {
			input = h('select', { id: id, name: o.name,
			    required: o.required });
			o.options.forEach(function (opt) {
				input.append(h('option', { value: opt[0],
				    text: opt[1] }));
			});
			if (o.value !== undefined)
				input.value = o.value;
		} else if (o.type === 'textarea') {
			input = h('textarea', { id: id, name: o.name,
			    required: o.required, maxlength: o.maxlength,
			    rows: o.rows || 3 });
			if (o.value !== undefined)
				input.value = o.value;
		} else {
			input = h('input', {
				id: id, name: o.name, type: o.type || 'text',
				required: o.required, autocomplete: o.autocomplete,
				inputmode: o.inputmode, pattern: o.pattern,
				maxlength: o.maxlength, minlength: o.minlength,
				min: o.min, max: o.max, step: o.step,
				placeholder: o.placeholder, spellcheck: o.spellcheck,
				readonly: o.readonly, autocapitalize: o.autocapitalize,
				'aria-describedby': o.hint ? id + '-hint' : null,
			});
			if (o.value !== undefined)
				input.value = o.value;
		}
		const wrap = h('div', { class: 'field' + (o.wide ? ' wide' : '') },
		    h('label', { for: id, text: o.label }), input);
		if (o.hint)
			wrap.append(h('small', { id: id + '-hint', class: 'hint',
			    text: o.hint }));
		wrap.input = input;
		return wrap;
	}

	function otpField(o) {
		return field(Object.assign({
			label: t('otp'), name: 'otp', type: 'text',
			inputmode: 'numeric', autocomplete: 'one-time-code',
			pattern: '[0-9]{6}', maxlength: 6, required: true,
			hint: t('otp_hint'),
		}, o || {}));
	}

	function btn(text, attrs, onclick) {
		return h('button', Object.assign({ type: 'button', class: 'btn',
		    onclick: onclick }, attrs || {}), text);
	}

	function errorBox(id) {
		return h('p', { class: 'error', id: id, role: 'alert',
		    hidden: true });
	}

	function showError(box, text) {
		if (!text) {
			box.hidden = true;
			box.textContent = '';
			return;
		}
		box.textContent = text;
		box.hidden = false;
	}

	function announce(text) {
		const live = document.getElementById('live');
		live.textContent = '';
		window.setTimeout(function () { live.textContent = text; }, 30);
	}

	let toastTimer = null;
	function toast(text, kind) {
		const el = document.getElementById('toast');
		el.textContent = text;
		el.className = 'toast ' + (kind || 'ok');
		el.hidden = false;
		if (toastTimer)
			window.clearTimeout(toastTimer);
		toastTimer = window.setTimeout(function () {
			el.hidden = true;
		}, 6000);
	}

	function table(caption, headers, rows, cls) {
		const thead = h('thead', null, h('tr', null, headers.map(
		    function (x) {
			return h('th', { scope: 'col', text: x });
		    })));
		const tbody = h('tbody', null, rows.length ? rows : h('tr', null,
		    h('td', { colspan: headers.length, class: 'muted',
		    text: t('no_rows') })));
		return h('div', { class: 'table-wrap' }, h('table',
		    { class: cls || 'data' }, h('caption', { text: caption }),
		    thead, tbody));
	}

	function td(x, cls) {
		return h('td', { class: cls }, x);
	}

	function badge(text, kind) {
		return h('span', { class: 'badge ' + (kind || '') , text: text });
	}

	/* --- dialogs ---------------------------------------------------- */

	/*
	 * A modal <dialog>: Escape and the close button cancel, focus goes
	 * back to what opened it. onclose(result) runs once.
	 */
	function dialog(title, onclose) {
		const opener = document.activeElement;
		const titleId = nextId('dlg-title');
		const body = h('div', { class: 'dlg-body' });
		const dlg = h('dialog', { class: 'dlg',
		    'aria-labelledby': titleId });
		const closeBtn = h('button', { type: 'button',
		    class: 'btn ghost small dlg-x', 'aria-label': t('close') },
		    '×');
		dlg.append(h('div', { class: 'dlg-head' },
		    h('h2', { id: titleId, text: title }), closeBtn), body);
		let done = false;
		const api = {
			el: dlg, body: body, result: undefined,
			close: function (result) {
				api.result = result;
				if (dlg.open)
					dlg.close();
			},
		};
		closeBtn.addEventListener('click', function () { api.close(); });
		dlg.addEventListener('close', function () {
			if (done)
				return;
			done = true;
			dlg.remove();
			if (opener && opener.focus && document.contains(opener))
				opener.focus();
			if (onclose)
				onclose(api.result);
		});
		document.body.append(dlg);
		window.setTimeout(function () {
			dlg.showModal();
			const first = dlg.querySelector(
			    'input, select, textarea, .dlg-body button');
			(first || closeBtn).focus();
		}, 0);
		return api;
	}

	function closeDialogs() {
		document.querySelectorAll('dialog').forEach(function (d) {
			if (d.open)
				d.close();
		});
	}

	/* A yes/no question; resolves true on confirmation. */
	function confirmDialog(title, text, okText, danger) {
		return new Promise(function (resolve) {
			const d = dialog(title, function (r) { resolve(r === true); });
			d.body.append(h('p', { text: text }), h('div',
			    { class: 'actions' },
			    btn(okText, { class: 'btn ' + (danger ? 'danger' :
			    'primary'), id: 'confirm-ok' }, function () {
				d.close(true);
			    }),
			    btn(t('cancel'), { class: 'btn ghost' }, function () {
				d.close(false);
			    })));
		});
	}

	/* --- API -------------------------------------------------------- */

	function now() {
		return Date.now() / 1000 + state.skew;
	}

	/*
	 * One request. Returns {status, ok, data, error}. A 401 or an
	 * outside-hours answer for a signed-in user ends the session view.
	 */
	async function api(method, path, body, headers, opts) {
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
	function adoptMe(me) {
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

	async function refreshMe() {
		return (await meStatus()) === 200;
	}

	function errText(r, fallbackKey) {
		if (r.status === 0)
			return t('err_network');
		const k = 'err_' + (r.error || '');
		if (r.error && DICT.ja[k] !== undefined)
			return t(k, { message: r.data && r.data.message,
			    retry: r.retryAfter || '?' });
		if (fallbackKey)
			return t(fallbackKey);
		return t('err_unexpected', { status: r.status,
		    message: (r.data && r.data.message) || '' });
	}

	function reasonText(r) {
		const reason = r.data && r.data.reason;
		if (reason && DICT.ja['pw_' + reason] !== undefined)
			return t('pw_' + reason);
		return t('err_password_rejected');
	}

	/* --- session ------------------------------------------------------ */

	function role() {
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
	function sessionRenewed(me) {
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

	async function logout() {
		await api('POST', '/api/logout', {}, undefined, { quiet: true });
		sessionEnded('logout');
	}

	let checking = false;
	async function tick() {
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

	/* --- routing ------------------------------------------------------- */

	const ROUTES = {
		login: { pub: true, title: 'login_title', view: viewLogin },
		enrol: { pub: true, title: 'enrol_title', view: viewEnrol },
		password: { mcok: true, title: 'pw_title', view: viewPassword },
		transactions: { roles: ['operator', 'auditor'],
		    title: 'nav_transactions', view: viewTransactions },
		users: { roles: ['admin', 'auditor'], title: 'nav_users',
		    view: viewUsers },
		approvals: { roles: ['admin', 'auditor', 'operator'],
		    title: 'nav_approvals', view: viewApprovals },
		events: { roles: ['auditor'], title: 'nav_events',
		    view: viewEvents },
		verify: { roles: ['auditor'], title: 'nav_verify',
		    view: viewVerify },
		alerts: { roles: ['admin', 'auditor'], title: 'nav_alerts',
		    view: viewAlerts },
		reviews: { roles: ['admin', 'auditor'], title: 'nav_reviews',
		    view: viewReviews },
		inventory: { roles: ['admin', 'auditor'],
		    title: 'nav_inventory', view: viewInventory },
	};
	const NAV = ['transactions', 'users', 'approvals', 'events', 'verify',
	    'alerts', 'reviews', 'inventory'];

	function homeRoute() {
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

	function parseHash() {
		const raw = (location.hash || '').replace(/^#\/?/, '');
		const parts = raw.split('/');
		return { name: parts[0] || '', arg: parts.slice(1).join('/') };
	}

	function go(name, replace, arg) {
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

	function renderNav(current) {
		const nav = document.getElementById('nav');
		const sess = document.getElementById('session');
		nav.textContent = '';
		if (!state.me) {
			nav.hidden = true;
			sess.hidden = true;
			return;
		}
		sess.hidden = false;
		document.getElementById('who').textContent = t('who', {
		    name: state.me.user.display_name,
		    user: state.me.user.username,
		    role: roleName(state.me.user.role) });
		if (state.me.must_change_password) {
			nav.hidden = true;
			return;
		}
		const ul = h('ul');
		NAV.forEach(function (name) {
			if (ROUTES[name].roles.indexOf(role()) < 0)
				return;
			ul.append(h('li', null, h('a', { href: '#/' + name,
			    id: 'nav-' + name,
			    'aria-current': name === current ? 'page' : null,
			    text: t(ROUTES[name].title) })));
		});
		ul.append(h('li', null, h('a', { href: '#/password',
		    id: 'nav-password',
		    'aria-current': current === 'password' ? 'page' : null,
		    text: t('nav_password') })));
		nav.append(ul);
		nav.setAttribute('aria-label', t('nav_label'));
		nav.hidden = false;
	}

	let renderSeq = 0;
	function render() {
		const p = parseHash();
		let name = p.name;
		let route = ROUTES[name];
		if (!state.me) {
			if (!route || !route.pub)
				name = 'login';
		} else if (state.me.must_change_password) {
			name = 'password';
		} else if (!route || route.pub ||
		    (route.roles && route.roles.indexOf(role()) < 0)) {
			name = homeRoute();
		}
		if (name !== p.name) {
			history.replaceState(null, '', '#/' + name);
			p.arg = '';
		}
		route = ROUTES[name];
		/* Shown once: leaving a screen forgets what it showed once. */
		if (state.oneTime && state.oneTime.route !== name)
			state.oneTime = null;
		if (name !== 'enrol')
			state.firstSignIn = null;
		renderSeq += 1;
		const main = document.getElementById('main');
		main.textContent = '';
		main.className = 'view-' + name;
		document.title = t(route.title) + ' — ' + t('app_title');
		renderNav(name);
		tick();
		const notice = state.notice;
		state.notice = null;
		if (notice)
			main.append(h('p', { class: 'notice ' + notice.kind,
			    role: 'status', id: 'notice', text: notice.text }));
		route.view(main, p.arg, renderSeq);
		const h1 = main.querySelector('h1');
		if (h1) {
			h1.setAttribute('tabindex', '-1');
			if (!main.querySelector('[data-autofocus]'))
				h1.focus();
		}
		const af = main.querySelector('[data-autofocus]');
		if (af)
			af.focus();
	}

	function stale(seq) {
		return seq !== renderSeq;
	}

	/* --- login, enrolment, password ------------------------------------ */

	async function loadHours() {
		const r = await api('GET', '/api/hours');
		if (r.status === 200 && r.data)
			state.hours = r.data;
		return state.hours;
	}

	function hoursLine(box) {
		box.textContent = '';
		const hr = state.hours;
		if (!hr)
			return;
		box.append(h('span', { text: t('hours_line', { hours: hr.hours,
		    tz: hr.timezone }) }), ' ',
		    hr.open ? badge(t('hours_open'), 'ok') :
		    badge(t('hours_closed'), 'bad'));
	}

	function viewLogin(main, arg, seq) {
		const hoursBox = h('p', { class: 'hours', id: 'login-hours' });
		const user = field({ label: t('username'), name: 'username',
		    id: 'login-username', autocomplete: 'username',
		    required: true, spellcheck: 'false',
		    autocapitalize: 'none', value: state.loginName });
		const pass = field({ label: t('password'), name: 'password',
		    id: 'login-password', type: 'password',
		    autocomplete: 'current-password', required: true });
		const otp = otpField({ id: 'login-otp' });
		const err = errorBox('login-error');
		const submit = h('button', { type: 'submit', id: 'login-submit',
		    class: 'btn primary', text: t('login_submit') });
		const form = h('form', { class: 'card narrow', id: 'login-form',
		    novalidate: true }, user, pass, otp, err,
		    h('div', { class: 'actions' }, submit));
		(state.loginName ? pass : user).input.setAttribute('data-autofocus',
		    '');
		main.append(h('h1', { text: t('login_title') }), hoursBox, form,
		    h('p', { class: 'aside' }, h('a', { href: '#/enrol',
		    id: 'enrol-link', text: t('enrol_link') })));
		hoursLine(hoursBox);
		loadHours().then(function () {
			if (!stale(seq))
				hoursLine(hoursBox);
		});

		form.addEventListener('submit', async function (ev) {
			ev.preventDefault();
			showError(err, null);
			const body = { username: user.input.value.trim(),
			    password: pass.input.value,
			    otp: otp.input.value.trim() };
			if (!body.username || !body.password || !body.otp) {
				showError(err, t('err_fill_all'));
				return;
			}
			if (!/^[0-9]{6}$/.test(body.otp)) {
				showError(err, t('err_otp_format'));
				otp.input.focus();
				return;
			}
			submit.disabled = true;
			submit.textContent = t('working');
			const r = await api('POST', '/api/login', body);
			submit.disabled = false;
			submit.textContent = t('login_submit');
			/* Neither factor stays in the page, whatever the answer. */
			otp.input.value = '';
			pass.input.value = '';
			if (r.status === 200 && r.data) {
				state.loginName = '';
				adoptMe(r.data);
				go(r.data.must_change_password ? 'password' :
				    homeRoute(), true);
				return;
			}
			let msg;
			if (r.status === 401)
				msg = t('err_invalid_credentials');
			else if (r.error === 'outside_hours')
				msg = t('err_outside_hours_login', {
				    hours: state.hours ? state.hours.hours : '',
				    tz: state.hours ? state.hours.timezone :
				    '' });
			else if (r.status === 429)
				msg = t('err_rate_limited', {
				    retry: r.retryAfter || '?' });
			else
				msg = errText(r);
			showError(err, msg);
			if (r.error === 'outside_hours')
				loadHours().then(function () {
					if (!stale(seq))
						hoursLine(hoursBox);
				});
			pass.input.focus();
		});
	}

	/*
	 * First sign-in (POST /api/enrolment/begin, then /finish): the
	 * person brings the two halves of their enrolment code, one from
	 * the requester of their account and one from its approver, chooses
	 * a password, registers the QR code shown here and confirms the
	 * first code. Between the two steps the halves stay in memory
	 * (state.firstSignIn), forgotten when this screen is left.
	 */
	function viewEnrol(main, arg, seq) {
		main.append(h('h1', { text: t('enrol_title') }));
		/* For the outside-hours message. */
		if (!state.hours)
			loadHours();
		if (state.firstSignIn) {
			enrolDevice(main, state.firstSignIn, seq);
			return;
		}
		const user = field({ label: t('username'), name: 'username',
		    id: 'enrol-username', autocomplete: 'username',
		    required: true, spellcheck: 'false', autocapitalize: 'none',
		    value: state.loginName });
		user.input.setAttribute('data-autofocus', '');
		function half(n) {
			return field({ label: t('code_' + n), name: 'code_' + n,
			    id: 'enrol-code' + n, autocomplete: 'off',
			    spellcheck: 'false', autocapitalize: 'characters',
			    maxlength: 64, required: true, hint: t('code_hint') });
		}
		const c1 = half(1);
		const c2 = half(2);
		c1.input.classList.add('mono');
		c2.input.classList.add('mono');
		const np = field({ label: t('new_password'), name: 'password',
		    id: 'enrol-password', type: 'password',
		    autocomplete: 'new-password', required: true, minlength: 12,
		    maxlength: 128, hint: t('pw_rules') });
		const np2 = field({ label: t('new_password_again'),
		    name: 'password2', id: 'enrol-password2', type: 'password',
		    autocomplete: 'new-password', required: true });
		const err = errorBox('enrol-error');
		const submit = h('button', { type: 'submit', id: 'enrol-submit',
		    class: 'btn primary', text: t('enrol_next') });
		const form = h('form', { class: 'card narrow', id: 'enrol-form',
		    novalidate: true }, user, c1, c2, np, np2, err,
		    h('div', { class: 'actions' }, submit, h('a', {
		    href: '#/login', class: 'btn ghost',
		    text: t('back_to_login') })));
		main.append(h('ol', { class: 'steps' },
		    h('li', { text: t('enrol_step1') }),
		    h('li', { text: t('enrol_step2') }),
		    h('li', { text: t('enrol_step3') })), form);

		function clearSecrets() {
			[c1, c2, np, np2].forEach(function (f) {
				f.input.value = '';
			});
		}

		form.addEventListener('submit', async function (ev) {
			ev.preventDefault();
			showError(err, null);
			const name = user.input.value.trim();
			if (!name || !c1.input.value.trim() ||
			    !c2.input.value.trim() || !np.input.value) {
				showError(err, t('err_fill_all'));
				return;
			}
			const code1 = PURE.enrolCode(c1.input.value);
			const code2 = PURE.enrolCode(c2.input.value);
			if (!code1 || !code2) {
				showError(err, t('err_code_format', { n: code1 ? 2 : 1 }));
				(code1 ? c2 : c1).input.focus();
				return;
			}
			if (code1 === code2) {
				showError(err, t('err_code_same'));
				c2.input.focus();
				return;
			}
			const bad = PURE.newPasswordProblem(np.input.value,
			    np2.input.value);
			if (bad) {
				showError(err, t(bad));
				(bad === 'pw_mismatch' ? np2 : np).input.focus();
				return;
			}
			submit.disabled = true;
			submit.textContent = t('working');
			const r = await api('POST', '/api/enrolment/begin', {
			    username: name, code_1: code1, code_2: code2,
			    password: np.input.value });
			submit.disabled = false;
			submit.textContent = t('enrol_next');
			/* No half and no password stays in the form. */
			clearSecrets();
			if (stale(seq))
				return;
			if (r.status === 200 && r.data && r.data.otpauth_uri) {
				state.firstSignIn = { username: r.data.username ||
				    name, code1: code1, code2: code2,
				    uri: r.data.otpauth_uri, svg: r.data.qr_svg };
				render();
				return;
			}
			showError(err, enrolErr(r));
			(r.error === 'password_rejected' ? np : c1).input.focus();
		});
	}

	function enrolErr(r) {
		if (r.status === 401)
			return t('err_enrol_credentials');
		if (r.error === 'password_rejected')
			return reasonText(r);
		if (r.error === 'outside_hours')
			return t('err_outside_hours_login', {
			    hours: state.hours ? state.hours.hours : '',
			    tz: state.hours ? state.hours.timezone : '' });
		if (r.status === 429)
			return t('err_rate_limited', { retry: r.retryAfter || '?' });
		return errText(r);
	}

	/* Step two: the QR code of the new secret, then the first code. */
	function enrolDevice(main, fs, seq) {
		const qr = qrNode(fs.svg);
		const uri = h('textarea', { id: 'enrol-uri', readonly: true,
		    rows: 3, class: 'mono', spellcheck: 'false' });
		uri.value = fs.uri;
		/* Selected for the user to copy; never put on the clipboard by
		 * us, where clipboard history would keep the secret. */
		const copy = btn(t('copy'), { class: 'btn small',
		    id: 'enrol-copy' }, function () {
			uri.focus();
			uri.select();
			toast(t('copy_manual'));
		});
		const secret = (/[?&]secret=([A-Z2-7=]+)/.exec(fs.uri) || [])[1];
		const otp = otpField({ id: 'enrol-otp', label: t('first_code'),
		    hint: t('first_code_hint') });
		otp.input.setAttribute('data-autofocus', '');
		const err = errorBox('enrol-finish-error');
		const ok = h('button', { type: 'submit', class: 'btn primary',
		    id: 'enrol-finish', text: t('enrol_submit') });
		const form = h('form', { novalidate: true, class: 'inline-card',
		    id: 'enrol-finish-form' }, h('p', null, t('username') + ': ',
		    h('strong', { id: 'enrol-name', text: fs.username })), otp,
		    err, h('div', { class: 'actions' }, ok,
		    btn(t('enrol_restart'), { class: 'btn ghost',
		    id: 'enrol-restart' }, function () {
			state.firstSignIn = null;
			render();
		    })));
		main.append(h('p', { class: 'notice warn', id: 'enrol-once',
		    text: t('enrol_qr_once') }), h('div', { class: 'otp-grid' },
		    h('figure', { class: 'card qr' }, qr || h('p',
		    { class: 'error', text: t('qr_bad') }),
		    h('figcaption', { text: t('qr_caption') })),
		    h('div', { class: 'card' }, h('label', { for: 'enrol-uri',
		    text: t('otp_uri') }), uri, h('div', { class: 'actions' },
		    copy), secret ? h('p', null, t('otp_secret') + ': ',
		    h('code', { id: 'enrol-secret', text: secret })) : null,
		    h('h2', { text: t('enrol_confirm_title') }), form)));

		form.addEventListener('submit', async function (ev) {
			ev.preventDefault();
			showError(err, null);
			const code = otp.input.value.trim();
			if (!/^[0-9]{6}$/.test(code)) {
				showError(err, t('err_otp_format'));
				otp.input.focus();
				return;
			}
			ok.disabled = true;
			const r = await api('POST', '/api/enrolment/finish', {
			    username: fs.username, code_1: fs.code1,
			    code_2: fs.code2, otp: code });
			ok.disabled = false;
			otp.input.value = '';
			if (stale(seq))
				return;
			if (r.status === 200) {
				state.firstSignIn = null;
				state.loginName = fs.username;
				state.notice = { kind: 'ok',
				    text: t('enrolled_notice') };
				go('login', true);
				return;
			}
			showError(err, r.status === 401 ? t('err_enrol_code') :
			    enrolErr(r));
			otp.input.focus();
		});
	}

	function viewPassword(main) {
		const forced = state.me.must_change_password;
		const cur = field({ label: t('current_password'),
		    name: 'current_password', id: 'pw-current',
		    type: 'password', autocomplete: 'current-password',
		    required: true });
		cur.input.setAttribute('data-autofocus', '');
		const otp = otpField({ id: 'pw-otp' });
		const np = field({ label: t('new_password'),
		    name: 'new_password', id: 'pw-new', type: 'password',
		    autocomplete: 'new-password', required: true,
		    minlength: 12, maxlength: 128, hint: t('pw_rules') });
		const np2 = field({ label: t('new_password_again'),
		    name: 'new_password2', id: 'pw-new2', type: 'password',
		    autocomplete: 'new-password', required: true });
		const err = errorBox('pw-error');
		const submit = h('button', { type: 'submit', id: 'pw-submit',
		    class: 'btn primary', text: t('pw_submit') });
		const form = h('form', { class: 'card narrow', novalidate: true },
		    cur, otp, np, np2, err, h('div', { class: 'actions' },
		    submit));
		main.append(h('h1', { text: t('pw_title') }));
		if (forced)
			main.append(h('p', { class: 'notice warn', id: 'pw-forced',
			    text: t('pw_forced') }));
		main.append(form);
		form.addEventListener('submit', async function (ev) {
			ev.preventDefault();
			showError(err, null);
			const v = np.input.value;
			if (!cur.input.value || !/^[0-9]{6}$/.test(
			    otp.input.value.trim())) {
				showError(err, t('err_fill_all'));
				return;
			}
			const bad = PURE.newPasswordProblem(v, np2.input.value);
			if (bad) {
				showError(err, t(bad));
				(bad === 'pw_mismatch' ? np2 : np).input.focus();
				return;
			}
			submit.disabled = true;
			const r = await api('POST', '/api/password', {
			    current_password: cur.input.value,
			    otp: otp.input.value.trim(), new_password: v });
			submit.disabled = false;
			otp.input.value = '';
			cur.input.value = '';
			np.input.value = '';
			np2.input.value = '';
			if (r.status === 200) {
				sessionRenewed(r.data);
				state.notice = { kind: 'ok', text: t('pw_done') };
				go(homeRoute(), true);
				return;
			}
			if (r.status === 401)
				showError(err, t('err_invalid_credentials'));
			else if (r.error === 'password_rejected')
				showError(err, reasonText(r));
			else
				showError(err, errText(r));
		});
	}

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
				if (!pass.input.value || !/^[0-9]{6}$/.test(
				    otp.input.value.trim())) {
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

	async function withReauth(fn) {
		let r = await fn();
		if (r.status === 403 && r.error === 'reauth_required') {
			if (!await reauthDialog())
				return null;
			r = await fn();
		}
		return r;
	}

	/* --- transactions --------------------------------------------------- */

	const STATUSES = ['authorized', 'captured', 'cancelled',
	    'partially_refunded', 'refunded', 'failed'];
	const BRANDS = ['visa', 'mastercard', 'jcb', 'amex', 'diners',
	    'discover'];

	const tx = {
		query: '',		/* filters, as a query string */
		cursors: [],		/* cursors of the pages before this one */
		cursor: null,
		selected: null,
	};

	function localTime(v) {
		if (!v)
			return '';
		return v.length === 16 ? v + ':00' : v;
	}

	function viewTransactions(main, arg, seq) {
		const operator = role() === 'operator';
		const q = new URLSearchParams(tx.query);
		const f = {
			from: field({ label: t('f_from'), name: 'from',
			    type: 'datetime-local', step: 1,
			    value: q.get('from') || '' }),
			to: field({ label: t('f_to'), name: 'to',
			    type: 'datetime-local', step: 1,
			    value: q.get('to') || '' }),
			status: field({ label: t('f_status'), name: 'status',
			    type: 'select', value: q.get('status') || '',
			    options: [['', t('any')]].concat(STATUSES.map(
			    function (s) { return [s, statusName(s)]; })) }),
			order_prefix: field({ label: t('f_order_prefix'),
			    name: 'order_prefix', pattern: '[A-Za-z0-9._-]{1,64}',
			    maxlength: 64, spellcheck: 'false',
			    value: q.get('order_prefix') || '' }),
			amount_min: field({ label: t('f_amount_min'),
			    name: 'amount_min', type: 'number', min: 0, step: 1,
			    value: q.get('amount_min') || '' }),
			amount_max: field({ label: t('f_amount_max'),
			    name: 'amount_max', type: 'number', min: 0, step: 1,
			    value: q.get('amount_max') || '' }),
			last4: field({ label: t('f_last4'), name: 'last4',
			    inputmode: 'numeric', pattern: '[0-9]{4}',
			    maxlength: 4, value: q.get('last4') || '' }),
			brand: field({ label: t('f_brand'), name: 'brand',
			    type: 'select', value: q.get('brand') || '',
			    options: [['', t('any')]].concat(BRANDS.map(
			    function (b) { return [b, b.toUpperCase()]; })) }),
			limit: field({ label: t('f_limit'), name: 'limit',
			    type: 'select', value: q.get('limit') || '50',
			    options: [['25', '25'], ['50', '50'], ['100', '100'],
			    ['200', '200']] }),
		};
		const err = errorBox('tx-error');
		const exportLink = h('a', { class: 'btn', id: 'tx-export',
		    href: '/api/transactions/export', download: 'transactions.csv',
		    text: t('export_csv') });
		const form = h('form', { class: 'card filters', id: 'tx-form',
		    role: 'search', 'aria-label': t('search_label'),
		    novalidate: true }, h('div', { class: 'grid' },
		    Object.keys(f).map(function (k) { return f[k]; })), err,
		    h('div', { class: 'actions' },
		    h('button', { type: 'submit', class: 'btn primary',
		    id: 'tx-search', text: t('search') }),
		    btn(t('clear'), { class: 'btn ghost', id: 'tx-clear' },
		    function () {
			tx.query = '';
			tx.cursors = [];
			tx.cursor = null;
			render();
		    }), exportLink));
		const results = h('section', { class: 'results', id: 'tx-results',
		    'aria-label': t('results') });
		const detail = h('section', { class: 'detail card',
		    id: 'tx-detail', 'aria-label': t('detail'), hidden: true });
		append(main, [h('h1', { text: t('nav_transactions') }),
		    operator ? null : h('p', { class: 'notice info',
		    id: 'readonly-note', text: t('readonly_note') }), form,
		    h('div', { class: 'split' }, results, detail)]);

		function queryFromForm() {
			const p = new URLSearchParams();
			Object.keys(f).forEach(function (k) {
				let v = f[k].input.value.trim();
				if (k === 'from' || k === 'to')
					v = localTime(v);
				if (v)
					p.set(k, v);
			});
			return p;
		}

		function validate(p) {
			const min = p.get('amount_min');
			const max = p.get('amount_max');
			if (p.get('last4') && !/^[0-9]{4}$/.test(p.get('last4')))
				return t('err_last4');
			if (p.get('order_prefix') && !/^[A-Za-z0-9._-]{1,64}$/.test(
			    p.get('order_prefix')))
				return t('err_order_prefix');
			if ((min && !/^[0-9]+$/.test(min)) ||
			    (max && !/^[0-9]+$/.test(max)))
				return t('err_amount_filter');
			if (min && max && Number(min) > Number(max))
				return t('err_amount_order');
			if (p.get('from') && p.get('to') && p.get('from') >
			    p.get('to'))
				return t('err_time_order');
			return null;
		}

		function setExport(p) {
			const e = new URLSearchParams(p);
			e.delete('limit');
			e.delete('cursor');
			const s = e.toString();
			exportLink.href = '/api/transactions/export' +
			    (s ? '?' + s : '');
		}

		async function load() {
			const p = new URLSearchParams(tx.query);
			setExport(p);
			if (tx.cursor)
				p.set('cursor', tx.cursor);
			results.setAttribute('aria-busy', 'true');
			const r = await api('GET', '/api/transactions?' +
			    p.toString());
			if (stale(seq))
				return;
			results.removeAttribute('aria-busy');
			results.textContent = '';
			if (r.status !== 200) {
				showError(err, errText(r));
				return;
			}
			const items = r.data.transactions;
			const rows = items.map(function (x) {
				const open = h('button', { type: 'button',
				    class: 'link', 'data-txn': x.id,
				    'aria-label': t('open_txn', { id: x.id }),
				    text: '#' + x.id }, null);
				open.addEventListener('click', function () {
					showDetail(x.id);
				});
				return h('tr', { class: tx.selected === x.id ?
				    'selected' : null, 'data-row': x.id },
				    td(open), td(fmtTime(x.created_at), 'nowrap'),
				    td(x.merchant_order_id, 'mono'),
				    td(fmtMoney(x.amount, x.currency), 'num'),
				    td(badge(statusName(x.status), 'st-' +
				    x.status)), td(x.card_brand.toUpperCase()),
				    td(x.card_last4, 'mono'),
				    td(x.cardholder_name));
			});
			const pageNo = tx.cursors.length + 1;
			results.append(items.length ? table(t('results_caption',
			    { n: items.length, page: pageNo }), [t('c_id'),
			    t('c_created'), t('c_order'), t('c_amount'),
			    t('c_status'), t('c_brand'), t('c_last4'),
			    t('c_name')], rows) : h('p', { class: 'empty',
			    text: t('no_results') }));
			const prev = btn(t('prev_page'), { id: 'tx-prev',
			    disabled: tx.cursors.length === 0 }, function () {
				tx.cursor = tx.cursors.pop() || null;
				load();
			});
			const next = btn(t('next_page'), { id: 'tx-next',
			    disabled: !r.data.next_cursor }, function () {
				tx.cursors.push(tx.cursor);
				tx.cursor = r.data.next_cursor;
				load();
			});
			results.append(h('div', { class: 'pager' }, prev,
			    h('span', { text: t('page_n', { n: pageNo }) }),
			    next));
		}

		async function showDetail(id) {
			tx.selected = id;
			results.querySelectorAll('tr.selected').forEach(
			    function (tr) { tr.classList.remove('selected'); });
			const row = results.querySelector('tr[data-row="' +
			    Number(id) + '"]');
			if (row)
				row.classList.add('selected');
			detail.hidden = false;
			detail.setAttribute('aria-busy', 'true');
			const both = await Promise.all([api('GET',
			    '/api/transactions/' + encodeURIComponent(id)),
			    api('GET', '/api/approvals')]);
			const r = both[0];
			if (stale(seq))
				return;
			detail.removeAttribute('aria-busy');
			detail.textContent = '';
			if (r.status !== 200) {
				detail.append(h('p', { class: 'error',
				    role: 'alert', text: errText(r) }));
				return;
			}
			renderDetail(r.data.transaction, r.data.refunds,
			    pendingRefunds(both[1], r.data.transaction.id));
		}

		/* Refunds of this transaction that wait for a second operator. */
		function pendingRefunds(r, id) {
			if (r.status !== 200 || !r.data || !r.data.approvals)
				return [];
			return r.data.approvals.filter(function (a) {
				return a.kind === 'refund' && a.status === 'pending' &&
				    a.operation && a.operation.transaction === id;
			});
		}

		function renderDetail(x, refunds, pending) {
			const am = amounts(x, refunds);
			const refundable = am.captured - am.refunded;
			const dl = h('dl', { class: 'kv' });
			function kv(k, v) {
				dl.append(h('dt', { text: k }), h('dd', null, v));
			}
			kv(t('c_order'), h('span', { class: 'mono',
			    text: x.merchant_order_id }));
			kv(t('c_status'), badge(statusName(x.status), 'st-' +
			    x.status));
			kv(t('c_amount'), fmtMoney(x.amount, x.currency));
			kv(t('captured'), fmtMoney(am.captured, x.currency));
			kv(t('refunded'), fmtMoney(am.refunded, x.currency));
			kv(t('refundable'), [fmtMoney(Math.max(0, refundable),
			    x.currency), am.exact ? null : h('small',
			    { class: 'muted', text: ' ' + t('estimated') })]);
			kv(t('card'), x.card_brand.toUpperCase() + ' •••• ' +
			    x.card_last4);
			kv(t('c_name'), x.cardholder_name);
			kv(t('email'), x.cardholder_email);
			kv(t('c_created'), fmtTime(x.created_at));
			kv(t('updated'), fmtTime(x.updated_at));
			kv(t('version'), String(x.version));
			const head = h('div', { class: 'detail-head' },
			    h('h2', { id: 'detail-title', tabindex: '-1',
			    text: t('txn_title', { id: x.id }) }),
			    btn(t('close'), { class: 'btn ghost small',
			    id: 'detail-close' }, function () {
				detail.hidden = true;
				tx.selected = null;
				const b = results.querySelector(
				    'button[data-txn="' + Number(x.id) + '"]');
				if (b)
					b.focus();
			    }));
			detail.append(head, dl);
			if (operator) {
				const acts = h('div', { class: 'actions',
				    id: 'txn-actions' });
				if (x.status === 'authorized') {
					acts.append(btn(t('capture'), {
					    class: 'btn primary',
					    id: 'act-capture' }, function () {
						opDialog('capture', x, refunds);
					    }), btn(t('cancel_txn'), {
					    class: 'btn danger',
					    id: 'act-cancel' }, function () {
						opDialog('cancel', x, refunds);
					    }));
				}
				if ((x.status === 'captured' ||
				    x.status === 'partially_refunded') &&
				    refundable > 0) {
					acts.append(btn(t('refund'), {
					    class: 'btn primary',
					    id: 'act-refund' }, function () {
						opDialog('refund', x, refunds);
					    }));
				}
				if (!acts.childNodes.length)
					acts.append(h('p', { class: 'muted',
					    text: t('no_ops', {
					    status: statusName(x.status) }) }));
				detail.append(acts);
			}
			const rrows = refunds.map(function (f) {
				return h('tr', { 'data-refund': f.id },
				    td([fmtMoney(f.amount, x.currency), h('br'),
				    h('small', { class: 'muted', text: '#' +
				    f.id })], 'num'), td(f.reason),
				    td([f.actor_name, f.approved_by ? [h('br'),
				    h('small', { class: 'approved-by',
				    text: t('approved_by_line',
				    { user: f.approved_by }) })] : null, h('br'),
				    h('small', { class: 'muted', text: fmtTime(
				    f.created_at) })], 'nowrap'));
			});
			detail.append(h('h3', { text: t('refunds') }),
			    refunds.length ? table(t('refunds_n',
			    { n: refunds.length }), [t('c_amount'), t('reason'),
			    t('actor')], rrows, 'data compact') : h('p',
			    { class: 'muted', id: 'no-refunds',
			    text: t('no_refunds') }));
			if (pending.length) {
				detail.append(h('h3', { text: t('tx_pending_h') }),
				    h('ul', { class: 'pending-list',
				    id: 'tx-pending' }, pending.map(function (a) {
					return h('li', { 'data-approval': a.id },
					    h('a', { href: '#/approvals',
					    text: t('tx_pending_row', { id: a.id,
					    amount: fmtMoney(a.operation.amount,
					    a.operation.currency),
					    user: a.requested_by }) }));
				    })));
			}
			detail.querySelector('#detail-title').focus();
		}

		/*
		 * Capture, cancel or refund. One Idempotency-Key per dialog:
		 * a resend (double click, retry after a network error) is the
		 * same request and the server answers it without a second
		 * effect. The button is disabled while a request is in flight.
		 */
		function opDialog(kind, x, refunds) {
			const key = (window.crypto && crypto.randomUUID) ?
			    crypto.randomUUID() : fallbackKey();
			const version = x.version;
			const am = amounts(x, refunds);
			let refundable = am.captured - am.refunded;
			let inflight = false;
			let done = false;
			const d = dialog(t('op_title_' + kind, { id: x.id }),
			    function () {
				if (done)
					showDetail(x.id).then(load);
			    });
			d.el.setAttribute('data-idempotency-key', key);
			const err = errorBox('op-error');
			const summary = h('dl', { class: 'kv' },
			    h('dt', { text: t('c_order') }),
			    h('dd', { text: x.merchant_order_id }),
			    h('dt', { text: t('c_amount') }),
			    h('dd', { text: fmtMoney(x.amount, x.currency) }),
			    h('dt', { text: t('c_status') }),
			    h('dd', { text: statusName(x.status) }));
			const step1 = h('div', { class: 'step' });
			const step2 = h('div', { class: 'step', hidden: true });
			d.body.append(summary, step1, step2, err);
			let amountF = null;
			let reasonF = null;
			const go2 = h('button', { type: 'button',
			    class: 'btn primary', id: 'op-execute',
			    text: t('op_exec_' + kind) });

			function toConfirm() {
				showError(err, null);
				step2.textContent = '';
				let text;
				let amount = 0;
				if (kind === 'refund') {
					const v = amountF.input.value.trim();
					if (!/^[0-9]+$/.test(v) || Number(v) < 1 ||
					    Number(v) > refundable) {
						showError(err, t('err_amount_range', {
						    max: fmtMoney(refundable,
						    x.currency) }));
						amountF.input.focus();
						return;
					}
					if (!reasonF.input.value.trim()) {
						showError(err, t('err_reason'));
						reasonF.input.focus();
						return;
					}
					amount = Number(v);
					text = t('op_confirm_refund', {
					    id: x.id, amount: fmtMoney(amount,
					    x.currency) });
				} else {
					text = t('op_confirm_' + kind, { id: x.id,
					    amount: fmtMoney(x.amount,
					    x.currency) });
				}
				step1.hidden = true;
				step2.hidden = false;
				step2.append(h('p', { class: 'confirm-text',
				    id: 'op-confirm-text', text: text }));
				/* Said before it is sent: above the policy's
				 * threshold a second operator decides. */
				if (kind === 'refund' && state.me &&
				    typeof state.me.refund_approval_threshold ===
				    'number' && amount >
				    state.me.refund_approval_threshold)
					step2.append(h('p', { class: 'notice info',
					    id: 'op-needs-approval',
					    text: t('op_needs_approval', {
					    max: fmtMoney(state.me.
					    refund_approval_threshold, x.currency) })
					    }));
				if (kind === 'refund')
					step2.append(h('p', { class: 'muted',
					    text: t('reason') + ': ' +
					    reasonF.input.value.trim() }));
				const acts = h('div', { class: 'actions' }, go2);
				if (kind === 'refund')
					acts.append(btn(t('back'), {
					    class: 'btn ghost', id: 'op-back' },
					    function () {
						step2.hidden = true;
						step1.hidden = false;
						amountF.input.focus();
					    }));
				acts.append(btn(t('cancel'), { class: 'btn ghost' },
				    function () { d.close(); }));
				step2.append(acts);
				go2.focus();
			}

			async function execute() {
				if (inflight || done)
					return;
				inflight = true;
				go2.disabled = true;
				go2.textContent = t('working');
				showError(err, null);
				const path = '/api/transactions/' + x.id + '/' +
				    (kind === 'refund' ? 'refunds' : kind);
				const body = kind === 'refund' ? {
				    amount: Number(amountF.input.value.trim()),
				    reason: reasonF.input.value.trim() } :
				    undefined;
				const r = await api('POST', path, body, {
				    'Idempotency-Key': key,
				    'If-Match': String(version) });
				inflight = false;
				go2.textContent = t('op_exec_' + kind);
				if (r.status === 202 && r.data && r.data.approval) {
					done = true;
					sentForApproval(r.data.approval);
					return;
				}
				if (r.status === 200 || r.status === 201) {
					done = true;
					toast(t('op_done_' + kind, { id: x.id }));
					d.close(true);
					return;
				}
				let msg;
				if (r.error === 'version_mismatch') {
					msg = t('err_version_mismatch');
					done = true;	/* reload on close */
				} else if (r.error === 'invalid_transition') {
					msg = t('err_invalid_transition', {
					    status: statusName(x.status) });
					done = true;
				} else if (r.error ===
				    'refund_exceeds_captured') {
					if (typeof r.data.refundable === 'number')
						refundable = r.data.refundable;
					msg = t('err_refund_exceeds', {
					    max: fmtMoney(refundable,
					    x.currency) });
				} else {
					msg = errText(r);
				}
				showError(err, msg);
				/* A stale or refused transition cannot succeed. */
				go2.disabled = done;
			}
			go2.addEventListener('click', execute);

			/* Above the threshold: a request, nothing refunded yet. */
			function sentForApproval(a) {
				step1.hidden = true;
				step2.textContent = '';
				step2.hidden = false;
				const msg = h('p', { class: 'notice info',
				    id: 'op-pending', 'data-approval': a.id,
				    tabindex: '-1', text: t('op_pending_refund',
				    { id: a.id }) });
				/*
				 * These buttons take the place of Execute: the second
				 * click of a double click on it (detail 2) must not
				 * close the notice it just brought up.
				 */
				const close = btn(t('close'), { class: 'btn primary',
				    id: 'op-close' }, function (e) {
					if (e.detail < 2)
						d.close();
				});
				step2.append(msg, h('p', { class: 'muted' },
				    t('appr_digest') + ': ', h('code',
				    { class: 'digest', text: a.operation_sha256 })),
				    h('div', { class: 'actions' }, close,
				    btn(t('op_pending_link'), { class: 'btn ghost',
				    id: 'op-to-approvals' }, function (e) {
					if (e.detail > 1)
						return;
					d.close();
					go('approvals');
				    })));
				msg.focus();
			}

			if (kind === 'refund') {
				amountF = field({ label: t('refund_amount'),
				    name: 'amount', id: 'refund-amount',
				    type: 'number', min: 1, max: refundable,
				    step: 1, required: true,
				    hint: t('refund_max', { max: fmtMoney(refundable,
				    x.currency) }) });
				reasonF = field({ label: t('reason'), name: 'reason',
				    id: 'refund-reason', type: 'textarea',
				    maxlength: 500, required: true });
				const f = h('form', { novalidate: true }, amountF,
				    reasonF, h('div', { class: 'actions' },
				    h('button', { type: 'submit',
				    class: 'btn primary', id: 'op-next',
				    text: t('to_confirm') }), btn(t('cancel'),
				    { class: 'btn ghost' }, function () {
					d.close();
				    })));
				f.addEventListener('submit', function (ev) {
					ev.preventDefault();
					toConfirm();
				});
				step1.append(f);
			} else {
				toConfirm();
			}
		}

		form.addEventListener('submit', function (ev) {
			ev.preventDefault();
			showError(err, null);
			const p = queryFromForm();
			const bad = validate(p);
			if (bad) {
				showError(err, bad);
				return;
			}
			tx.query = p.toString();
			tx.cursors = [];
			tx.cursor = null;
			load();
		});
		setExport(new URLSearchParams(tx.query));
		load();
		if (tx.selected)
			showDetail(tx.selected);
	}

	/*
	 * Captured and refunded totals. When the answer lacks them, they
	 * follow from the status and the refunds listed; the server checks
	 * every refund against its own figures anyway.
	 */
	function amounts(x, refunds) {
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

	function fallbackKey() {
		const b = new Uint8Array(16);
		crypto.getRandomValues(b);
		return Array.from(b, function (x) {
			return x.toString(16).padStart(2, '0');
		}).join('');
	}

	/* --- requests, approvals, code halves -------------------------------- */

	function kindName(k) {
		return t('kind_' + String(k).replace('.', '_'));
	}

	/* Who decides a request, as a phrase ("another admin"). */
	function approverText(r) {
		return t('approver_' + r);
	}

	/* Who will decide an account request: as approvals.approver_role(). */
	function accountApprover(roleNow, roleNew) {
		return roleNow === 'auditor' || roleNew === 'auditor' ? 'auditor' :
		    'admin';
	}

	/*
	 * Keep what a request or an approval returned once (its notice, a
	 * half of an enrolment code) for the screen that shows it. render()
	 * forgets it when that screen is left, sessionEnded() when the
	 * session ends; nothing of it goes to storage or to the clipboard.
	 */
	function keepOnce(route, o) {
		state.oneTime = Object.assign({ route: route }, o);
	}

	function hex(buf) {
		return Array.from(new Uint8Array(buf), function (b) {
			return b.toString(16).padStart(2, '0');
		}).join('');
	}

	/*
	 * The SHA-256 of an operation as shown: of the text PostgreSQL
	 * hashed (pure.js). null when it cannot be computed.
	 */
	async function operationDigest(op) {
		try {
			return hex(await crypto.subtle.digest('SHA-256',
			    new TextEncoder().encode(PURE.jsonbText(op))));
		} catch (e) {
			return null;
		}
	}

	/* The fields of an operation in this order, then any others. */
	const OP_FIELDS = ['kind', 'username', 'display_name', 'user_id',
	    'role', 'new_role', 'transaction', 'merchant_order_id', 'amount',
	    'currency', 'reason'];

	function opValue(k, v, op) {
		/* The name shown, and the value itself where they differ. */
		const named = function (name) {
			return name === v ? v : [name, ' ', h('small',
			    { class: 'muted mono', text: v })];
		};
		if (k === 'kind' && typeof v === 'string')
			return named(kindName(v));
		if ((k === 'role' || k === 'new_role') && typeof v === 'string')
			return named(roleName(v));
		if (k === 'amount' && typeof v === 'number')
			return fmtMoney(v, typeof op.currency === 'string' ?
			    op.currency : undefined);
		if (k === 'transaction' && typeof v === 'number')
			return '#' + v;
		if (typeof v === 'string')
			return v;
		return JSON.stringify(v);
	}

	/* Every field of what approving executes, as a definition list. */
	function operationList(op) {
		const dl = h('dl', { class: 'kv op' });
		const own = function (k) {
			return Object.prototype.hasOwnProperty.call(op, k);
		};
		OP_FIELDS.filter(own).concat(Object.keys(op).filter(
		    function (k) {
			return OP_FIELDS.indexOf(k) < 0;
		    }).sort()).forEach(function (k) {
			const label = DICT.ja['opf_' + k] !== undefined ?
			    t('opf_' + k) : k;
			dl.append(h('dt', { text: label }), h('dd',
			    { 'data-field': k }, opValue(k, op[k], op)));
		});
		return dl;
	}

	/*
	 * One half of an enrolment code, shown once: "part n of 2, give it
	 * to <user> in person". A button selects it for whoever wants to
	 * copy it by hand; nothing is written to the clipboard.
	 */
	function codePanel(o) {
		const code = h('code', { id: 'code-value', class: 'code-big',
		    text: o.code });
		return h('section', { class: 'card code-panel', id: 'code-panel',
		    'data-part': o.part, 'aria-labelledby': 'code-title' },
		    h('h2', { id: 'code-title', tabindex: '-1',
		    'data-autofocus': '', text: t('code_title',
		    { part: o.part }) }),
		    h('p', { class: 'code-who', id: 'code-who',
		    text: t('code_give', { part: o.part, user: o.user }) }),
		    h('p', null, code), o.until ? h('p', { id: 'code-until',
		    text: t('code_until', { user: o.user,
		    t: fmtTime(o.until) }) }) : null,
		    h('p', { class: 'muted', text: t('code_once') }),
		    h('div', { class: 'actions' },
		    btn(t('code_select'), { class: 'btn small',
		    id: 'code-select' }, function () {
			const range = document.createRange();
			range.selectNodeContents(code);
			const sel = window.getSelection();
			sel.removeAllRanges();
			sel.addRange(range);
			toast(t('copy_manual'));
		    }), btn(t('code_done'), { class: 'btn', id: 'code-done' },
		    function () {
			state.oneTime = null;
			render();
		    })));
	}

	/* What a request just sent is, and who must approve it. */
	function requestNotice(o) {
		const a = o.approval;
		const dl = h('dl', { class: 'kv' });
		function kv(k, v) {
			dl.append(h('dt', { text: k }), h('dd', null, v));
		}
		kv(t('opf_kind'), kindName(a.kind));
		kv(t('appr_c_target'), h('span', { class: 'mono',
		    text: o.user }));
		kv(t('appr_approver'), approverText(a.approver_role));
		kv(t('appr_expires_at'), fmtTime(a.expires_at));
		kv(t('appr_digest'), h('code', { class: 'digest',
		    id: 'request-digest', text: a.operation_sha256 }));
		return h('section', { class: 'card request-notice',
		    id: 'request-notice', 'data-approval': a.id,
		    'aria-labelledby': 'request-title' },
		    h('h2', { id: 'request-title', tabindex: '-1',
		    'data-autofocus': o.code ? null : '',
		    text: t('req_sent_title', { id: a.id }) }),
		    h('p', { text: t('req_sent_text',
		    { approver: approverText(a.approver_role) }) }), dl,
		    o.code ? null : h('div', { class: 'actions' },
		    btn(t('close'), { class: 'btn small', id: 'request-close' },
		    function () {
			state.oneTime = null;
			render();
		    })));
	}

	/* --- users ----------------------------------------------------------- */

	function userErr(r, creating) {
		if (r.error === 'conflict')
			return t(creating ? 'err_user_conflict' :
			    'err_nothing_to_change');
		return errText(r);
	}

	function viewUsers(main, arg, seq) {
		const admin = role() === 'admin';
		const err = errorBox('users-error');
		const list = h('section', { id: 'users-list' });
		const waiting = h('div', { id: 'users-waiting' });
		main.append(h('h1', { text: t('nav_users') }));
		const once = state.oneTime;
		if (once && once.approval)
			main.append(requestNotice(once));
		if (once && once.code)
			main.append(codePanel(once));
		if (admin) {
			main.append(h('div', { class: 'toolbar' },
			    btn(t('create_user'), { class: 'btn primary',
			    id: 'user-create' }, createUser)));
		} else {
			main.append(h('p', { class: 'notice info',
			    id: 'readonly-note', text: t('readonly_note') }));
		}
		const filter = h('input', { type: 'search', id: 'users-filter',
		    class: 'filter', 'aria-label': t('users_filter'),
		    placeholder: t('users_filter') });
		filter.addEventListener('input', function () {
			const q = filter.value.trim().toLowerCase();
			list.querySelectorAll('tbody tr').forEach(function (tr) {
				tr.hidden = q !== '' &&
				    tr.textContent.toLowerCase().indexOf(q) < 0;
			});
		});
		main.append(h('div', { class: 'toolbar' }, filter), err, waiting,
		    list);

		async function load() {
			const both = await Promise.all([api('GET', '/api/users'),
			    api('GET', '/api/approvals')]);
			const r = both[0];
			if (stale(seq))
				return;
			list.textContent = '';
			waiting.textContent = '';
			if (r.status !== 200) {
				showError(err, errText(r));
				return;
			}
			/* Account requests still waiting, by the name they concern. */
			const pending = {};
			const creates = [];
			if (both[1].status === 200 && both[1].data)
				both[1].data.approvals.forEach(function (a) {
					if (a.status !== 'pending' || a.kind === 'refund' ||
					    !a.operation)
						return;
					if (a.kind === 'user.create')
						creates.push(a);
					const n = a.operation.username;
					(pending[n] = pending[n] || []).push(a);
				});
			if (creates.length)
				waiting.append(h('p', { class: 'notice info',
				    id: 'users-pending-creates' },
				    t('users_pending_creates', { list: creates.map(
				    function (a) {
					return a.operation.username + ' (#' + a.id + ')';
				    }).join(', ') }), ' ', h('a',
				    { href: '#/approvals', text: t('nav_approvals') })));
			const rows = r.data.users.map(function (u) {
				const st = h('span', { class: 'badges' });
				if (u.disabled)
					st.append(badge(t('u_disabled'), 'bad'));
				if (u.locked_until && u.locked_until > now())
					st.append(badge(t('u_locked', {
					    t: fmtTime(u.locked_until) }), 'bad'));
				if (u.enrolling)
					st.append(badge(t('u_enrolling'), 'warn u-enrolling'));
				else if (u.otp === 'none')
					st.append(badge(t('u_no_factors'), 'bad u-no-factors'));
				if (u.must_change_password)
					st.append(badge(t('u_must_change'), 'warn'));
				if (!st.childNodes.length)
					st.append(badge(t('u_active'), 'ok'));
				(pending[u.username] || []).forEach(function (a) {
					st.append(h('a', { href: '#/approvals',
					    class: 'badge warn u-pending',
					    'data-approval': a.id, text: t('u_pending',
					    { kind: kindName(a.kind), id: a.id }) }));
				});
				const cells = [td(String(u.id), 'num'),
				    td(u.username, 'mono'), td(u.display_name),
				    td(roleName(u.role), 'nowrap'), td(st),
				    td(badge(t('otp_' + u.otp), u.otp ===
				    'enrolled' ? 'ok' : 'warn')),
				    td(u.last_login_at ? [fmtTime(u.last_login_at),
				    h('br'), h('small', { class: 'muted',
				    text: u.last_login_source || '' })] : '—',
				    'nowrap'),
				    td(fmtTime(u.password_changed_at), 'nowrap')];
				if (admin) {
					const self = u.id === state.me.user.id;
					cells.push(td(self ? h('span',
					    { class: 'muted', text: t('self') }) :
					    btn(t('manage'), { class: 'btn small',
					    'data-user': u.username,
					    'aria-label': t('manage_user',
					    { user: u.username }) }, function () {
						manage(u);
					    })));
				}
				return h('tr', { 'data-username': u.username },
				    cells);
			});
			const heads = [t('c_id'), t('username'), t('display_name'),
			    t('role'), t('c_status'), t('otp_state'),
			    t('last_login'), t('pw_changed')];
			if (admin)
				heads.push(t('actions'));
			list.append(table(t('users_caption',
			    { n: r.data.users.length }), heads, rows));
			if (filter.value)
				filter.dispatchEvent(new Event('input'));
		}

		/* A request was sent: its notice (and code half) on this screen. */
		function sent(data, username) {
			keepOnce('users', { approval: data.approval,
			    code: data.enrolment_code || null,
			    part: data.enrolment_code_part || 1, user: username });
			render();
		}

		function createUser() {
			const d = dialog(t('create_user'));
			const name = field({ label: t('username'), name: 'username',
			    id: 'new-username', required: true,
			    pattern: '[a-z0-9_.-]{3,64}', spellcheck: 'false',
			    autocapitalize: 'none', hint: t('username_hint') });
			const disp = field({ label: t('display_name'),
			    name: 'display_name', id: 'new-display',
			    required: true, maxlength: 100 });
			const rl = field({ label: t('role'), name: 'role',
			    id: 'new-role', type: 'select', value: 'operator',
			    options: ['operator', 'admin', 'auditor'].map(
			    function (x) { return [x, roleName(x)]; }) });
			const e = errorBox('create-error');
			const ok = h('button', { type: 'submit', class: 'btn primary',
			    id: 'create-submit', text: t('send_request') });
			const f = h('form', { novalidate: true },
			    h('p', { text: t('create_text') }), name, disp, rl, e,
			    h('div', { class: 'actions' }, ok, btn(t('cancel'),
			    { class: 'btn ghost' }, function () { d.close(); })));
			d.body.append(f);
			f.addEventListener('submit', async function (ev) {
				ev.preventDefault();
				showError(e, null);
				const body = { username: name.input.value.trim(),
				    display_name: disp.input.value.trim(),
				    role: rl.input.value };
				if (!body.username || !body.display_name) {
					showError(e, t('err_fill_all'));
					return;
				}
				ok.disabled = true;
				const r = await withReauth(function () {
					return api('POST', '/api/users', body);
				});
				ok.disabled = false;
				if (!r)
					return;
				if (r.status === 202 && r.data && r.data.approval) {
					d.close();
					sent(r.data, body.username);
					return;
				}
				showError(e, userErr(r, true));
			});
		}

		function manage(u) {
			const d = dialog(t('manage_user', { user: u.username }));
			const e = errorBox('manage-error');
			const approver = approverText(accountApprover(u.role));
			function act(label, id, danger, fn) {
				return h('li', null, btn(label, { class: 'btn ' +
				    (danger ? 'danger' : ''), id: id },
				    async function () {
					showError(e, null);
					await fn();
				    }));
			}
			/* What one admin does alone: done at once. */
			async function simple(path, okKey, confirmKey, danger) {
				d.close();
				if (!await confirmDialog(t('manage_user',
				    { user: u.username }), t(confirmKey,
				    { user: u.username }), t('execute'), danger))
					return;
				const r = await api('POST', '/api/users/' + u.id +
				    path, {});
				if (r.status === 200) {
					toast(t(okKey, { user: u.username,
					    n: r.data && r.data.revoked }));
					load();
				} else {
					toast(userErr(r), 'bad');
				}
			}
			/* What gives access: a request for a second person. */
			async function request(path, title, text) {
				d.close();
				if (!await confirmDialog(title, text, t('send_request'),
				    true))
					return;
				const r = await withReauth(function () {
					return api('POST', '/api/users/' + u.id + path,
					    {});
				});
				if (!r)
					return;
				if (r.status === 202 && r.data && r.data.approval) {
					sent(r.data, u.username);
					return;
				}
				toast(userErr(r), 'bad');
			}
			const ul = h('ul', { class: 'menu' });
			if (u.disabled)
				ul.append(act(t('enable'), 'u-enable', false,
				    function () {
					return request('/enable', t('enable'),
					    t('enable_req_text', { user: u.username,
					    approver: approver }));
				    }));
			else
				ul.append(act(t('disable'), 'u-disable', true,
				    function () {
					return simple('/disable', 'done_disable',
					    'confirm_disable', true);
				    }));
			ul.append(act(t('unlock'), 'u-unlock', false, function () {
				return simple('/unlock', 'done_unlock',
				    'confirm_unlock');
			}));
			ul.append(act(t('revoke'), 'u-revoke', true, function () {
				return simple('/sessions/revoke', 'done_revoke',
				    'confirm_revoke', true);
			}));
			if (u.enrolling)
				ul.append(act(t('enrol_revoke'), 'u-enrol-revoke', true,
				    function () {
					return simple('/enrolment/revoke',
					    'done_enrol_revoke', 'confirm_enrol_revoke',
					    true);
				    }));
			ul.append(act(t('reset_password'), 'u-password', true,
			    function () {
				return request('/password', t('reset_password'),
				    t('reset_req_text', { user: u.username,
				    approver: approver }));
			    }));
			ul.append(act(t('new_device'), 'u-otp', true, function () {
				return request('/otp', t('new_device'),
				    t('device_req_text', { user: u.username,
				    approver: approver }));
			}));
			ul.append(act(t('change_role'), 'u-role', true,
			    function () {
				d.close();
				changeRole(u);
			    }));
			d.body.append(h('p', { class: 'muted', text: t('who', {
			    name: u.display_name, user: u.username,
			    role: roleName(u.role) }) }), u.enrolling ? h('p',
			    { class: 'notice warn', text: t('manage_enrolling') }) :
			    null, ul, e);
		}

		function changeRole(u) {
			const d = dialog(t('change_role_for', { user: u.username }));
			const rl = field({ label: t('role'), name: 'role',
			    id: 'role-select', type: 'select', value: u.role,
			    options: ['operator', 'admin', 'auditor'].map(
			    function (x) { return [x, roleName(x)]; }) });
			const e = errorBox('role-error');
			const ok = h('button', { type: 'submit', class: 'btn danger',
			    id: 'role-submit', text: t('send_request') });
			const f = h('form', { novalidate: true },
			    h('p', { text: t('role_req_text') }), rl, e,
			    h('div', { class: 'actions' }, ok, btn(t('cancel'),
			    { class: 'btn ghost' }, function () { d.close(); })));
			d.body.append(f);
			f.addEventListener('submit', async function (ev) {
				ev.preventDefault();
				showError(e, null);
				if (rl.input.value === u.role) {
					showError(e, t('err_nothing_to_change'));
					return;
				}
				ok.disabled = true;
				const r = await withReauth(function () {
					return api('POST', '/api/users/' + u.id +
					    '/role', { role: rl.input.value });
				});
				ok.disabled = false;
				if (!r)
					return;
				if (r.status === 202 && r.data && r.data.approval) {
					d.close();
					sent(r.data, u.username);
					return;
				}
				showError(e, userErr(r));
			});
		}

		load();
	}

	/* --- approvals -------------------------------------------------------- */

	/*
	 * The requests this role may see (GET /api/approvals), pending first.
	 * Each pending one shows every field of the operation approving
	 * executes and its SHA-256; where this person may decide, Approve
	 * sends the digest of the operation shown (computed here and
	 * compared with the listed one: a request whose digest does not
	 * match what is shown cannot be approved from this page).
	 */
	function viewApprovals(main, arg, seq) {
		main.append(h('h1', { text: t('nav_approvals') }),
		    h('p', { class: 'muted', id: 'appr-intro',
		    text: t('appr_text_' + role()) }));
		const once = state.oneTime;
		if (once && once.code)
			main.append(codePanel(once));
		const err = errorBox('appr-error');
		const pending = h('section', { id: 'appr-pending',
		    'aria-labelledby': 'appr-pending-h' });
		const past = h('section', { id: 'appr-past',
		    'aria-labelledby': 'appr-past-h' });
		main.append(err, pending, past);

		function target(a) {
			const op = a.operation || {};
			if (typeof op.username === 'string')
				return op.username;
			if (typeof op.transaction === 'number')
				return '#' + op.transaction + (op.merchant_order_id ?
				    ' ' + op.merchant_order_id : '');
			return '—';
		}

		function statusBadge(a) {
			return badge(t('as_' + a.status), ({
			    pending: 'warn', approved: 'ok', rejected: 'bad' }[
			    a.status] || '') + ' as-' + a.status);
		}

		async function load() {
			const r = await api('GET', '/api/approvals');
			if (stale(seq))
				return;
			pending.textContent = '';
			past.textContent = '';
			if (r.status !== 200 || !r.data) {
				showError(err, errText(r));
				return;
			}
			const all = r.data.approvals;
			const open = all.filter(function (a) {
				return a.status === 'pending';
			});
			const done = all.filter(function (a) {
				return a.status !== 'pending';
			});
			pending.append(h('h2', { id: 'appr-pending-h',
			    text: t('appr_pending_h', { n: open.length }) }),
			    open.length ? h('div', { class: 'appr-grid' },
			    open.map(card)) : h('p', { class: 'empty',
			    id: 'appr-none', text: t('appr_none') }));
			past.append(h('h2', { id: 'appr-past-h',
			    text: t('appr_past_h') }), table(t('appr_past_caption',
			    { n: done.length }), [t('c_id'), t('opf_kind'),
			    t('appr_c_target'), t('appr_requester'),
			    t('appr_requested_at'), t('c_status'),
			    t('appr_decided_by'), t('appr_decided_at'),
			    t('comment')], done.map(function (a) {
				return h('tr', { 'data-approval': a.id,
				    'data-status': a.status },
				    td('#' + a.id, 'num'), td(kindName(a.kind)),
				    td(target(a), 'mono'), td(a.requested_by),
				    td(fmtTime(a.requested_at), 'nowrap'),
				    td(statusBadge(a)), td(a.decided_by || '—'),
				    td(fmtTime(a.decided_at), 'nowrap'),
				    td(a.comment || ''));
			    })));
		}

		function card(a) {
			const el = h('article', { class: 'card approval',
			    id: 'appr-' + a.id, 'data-approval': a.id,
			    'aria-labelledby': 'appr-title-' + a.id });
			const meta = h('dl', { class: 'kv' });
			function kv(k, v) {
				meta.append(h('dt', { text: k }), h('dd', null, v));
			}
			kv(t('appr_requester'), [a.requested_by, a.mine ? ' ' +
			    t('self') : null]);
			kv(t('appr_requested_at'), fmtTime(a.requested_at));
			kv(t('appr_expires_at'), fmtTime(a.expires_at));
			kv(t('appr_approver'), approverText(a.approver_role));
			const digest = h('p', { class: 'digest-line' },
			    t('appr_digest') + ': ', h('code', { class: 'digest',
			    text: a.operation_sha256 }));
			el.append(h('div', { class: 'appr-head' }, h('h3', {
			    id: 'appr-title-' + a.id, text: t('appr_title',
			    { id: a.id, kind: kindName(a.kind) }) }),
			    statusBadge(a)), meta,
			    h('h4', { text: t('appr_operation') }),
			    operationList(a.operation || {}), digest);
			if (a.enrolment)
				el.append(h('p', { class: 'muted', text: t(
				    'appr_enrols', { user: a.operation.username }) }));
			if (!a.can_decide) {
				el.append(h('p', { class: 'notice info appr-why',
				    text: a.mine ? t('appr_mine') : t('appr_not_yours',
				    { approver: approverText(a.approver_role) }) }));
				if (a.mine)
					el.append(withdrawButton(a));
				return el;
			}
			const c = field({ label: t('comment'), name: 'comment',
			    id: 'appr-comment-' + a.id, type: 'textarea',
			    maxlength: 500, rows: 2 });
			const e = errorBox('appr-error-' + a.id);
			const ok = btn(t('appr_approve'), { class: 'btn primary',
			    id: 'appr-approve-' + a.id, disabled: true },
			    function () { decide('approve'); });
			const no = btn(t('appr_reject'), { class: 'btn danger',
			    id: 'appr-reject-' + a.id },
			    function () { decide('reject'); });
			el.append(h('div', { class: 'appr-decide' }, c, e,
			    h('div', { class: 'actions' }, ok, no)));
			let shown = null;	/* the digest of what is shown */

			operationDigest(a.operation).then(function (d) {
				if (stale(seq))
					return;
				if (d !== null && d === a.operation_sha256) {
					shown = d;
					ok.disabled = false;
					el.setAttribute('data-verified', 'true');
					digest.append(' ', badge(t('appr_digest_ok'),
					    'ok'));
				} else {
					el.setAttribute('data-verified', 'false');
					showError(e, t('appr_digest_bad'));
				}
			});

			async function decide(kind) {
				showError(e, null);
				if (kind === 'approve' && !shown)
					return;
				if (!await confirmDialog(t('appr_' + kind +
				    '_title', { id: a.id }), t('appr_' + kind +
				    '_confirm', { id: a.id, kind: kindName(a.kind) }),
				    t('appr_' + kind), kind === 'reject'))
					return;
				const body = {};
				if (kind === 'approve')
					body.operation_sha256 = shown;
				const comment = c.input.value.trim();
				if (comment)
					body.comment = comment;
				ok.disabled = true;
				no.disabled = true;
				const r = await withReauth(function () {
					return api('POST', '/api/approvals/' + a.id +
					    '/' + kind, body);
				});
				if (stale(seq))
					return;
				if (r && r.status === 200 && r.data) {
					if (r.data.enrolment_code)
						keepOnce('approvals', {
						    code: r.data.enrolment_code,
						    part: r.data.enrolment_code_part || 2,
						    user: a.operation.username,
						    until: r.data.result &&
						    r.data.result.enrolment_expires_at });
					state.notice = { kind: 'ok', text: t('appr_done_' +
					    kind, { id: a.id }) };
					render();
					return;
				}
				ok.disabled = !shown;
				no.disabled = false;
				if (!r)
					return;
				/* A refund that can no longer be made as asked. */
				if (r.error === 'refund_exceeds_captured' ||
				    r.error === 'invalid_transition')
					showError(e, t('appr_refund_impossible'));
				else
					showError(e, errText(r));
			}
			return el;
		}

		/* Its requester takes a request back before anyone decides. */
		function withdrawButton(a) {
			const e = errorBox('appr-error-' + a.id);
			const b = btn(t('appr_withdraw'), { class: 'btn',
			    id: 'appr-withdraw-' + a.id }, async function () {
				showError(e, null);
				if (!await confirmDialog(t('appr_withdraw_title',
				    { id: a.id }), t('appr_withdraw_confirm',
				    { id: a.id, kind: kindName(a.kind) }),
				    t('appr_withdraw'), true))
					return;
				b.disabled = true;
				const r = await api('POST', '/api/approvals/' + a.id +
				    '/withdraw', {});
				if (stale(seq))
					return;
				if (r.status === 200) {
					state.notice = { kind: 'ok', text: t(
					    'appr_done_withdraw', { id: a.id }) };
					render();
					return;
				}
				b.disabled = false;
				showError(e, errText(r));
			});
			return h('div', { class: 'appr-decide' }, e,
			    h('div', { class: 'actions' }, b));
		}

		load();
	}

	/*
	 * The server's QR code (src/qr.c: one rect, one path of "M x y h n
	 * v1 h-n z" runs). Nothing of the received markup is imported: the
	 * size and the path data are checked against that grammar and a new
	 * SVG is built from them.
	 */
	function qrNode(text) {
		const doc = new DOMParser().parseFromString(text,
		    'image/svg+xml');
		const root = doc.documentElement;
		if (!root || root.localName !== 'svg' ||
		    root.namespaceURI !== SVGNS ||
		    doc.getElementsByTagName('parsererror').length)
			return null;
		const vb = /^0 0 (\d{1,4}) (\d{1,4})$/.exec(
		    root.getAttribute('viewBox') || '');
		const paths = root.getElementsByTagNameNS(SVGNS, 'path');
		if (!vb || vb[1] !== vb[2] || paths.length !== 1)
			return null;
		const d = paths[0].getAttribute('d') || '';
		if (!/^(M\d{1,4} \d{1,4}h\d{1,4}v1h-\d{1,4}z)*$/.test(d))
			return null;
		const node = document.createElementNS(SVGNS, 'svg');
		node.setAttribute('viewBox', '0 0 ' + vb[1] + ' ' + vb[1]);
		node.setAttribute('shape-rendering', 'crispEdges');
		const bg = document.createElementNS(SVGNS, 'rect');
		bg.setAttribute('width', vb[1]);
		bg.setAttribute('height', vb[1]);
		bg.setAttribute('fill', '#ffffff');
		const fg = document.createElementNS(SVGNS, 'path');
		fg.setAttribute('fill', '#000000');
		fg.setAttribute('d', d);
		node.append(bg, fg);
		node.setAttribute('role', 'img');
		node.setAttribute('aria-label', t('qr_label'));
		node.setAttribute('class', 'qr-svg');
		return node;
	}

	/* --- audit ------------------------------------------------------------ */

	const ev = { query: '', befores: [], before: null };

	function viewEvents(main, arg, seq) {
		const q = new URLSearchParams(ev.query);
		const f = {
			from: field({ label: t('f_from'), name: 'from',
			    type: 'datetime-local', step: 1,
			    value: q.get('from') || '' }),
			to: field({ label: t('f_to'), name: 'to',
			    type: 'datetime-local', step: 1,
			    value: q.get('to') || '' }),
			actor: field({ label: t('actor'), name: 'actor',
			    spellcheck: 'false', value: q.get('actor') || '' }),
			event: field({ label: t('event'), name: 'event',
			    spellcheck: 'false', value: q.get('event') || '',
			    placeholder: 'login.failure' }),
			outcome: field({ label: t('outcome'), name: 'outcome',
			    type: 'select', value: q.get('outcome') || '',
			    options: [['', t('any')], ['success', t('o_success')],
			    ['failure', t('o_failure')], ['denied',
			    t('o_denied')], ['info', t('o_info')]] }),
			source: field({ label: t('source'), name: 'source',
			    spellcheck: 'false', value: q.get('source') || '',
			    placeholder: '127.0.0.1' }),
			target: field({ label: t('target'), name: 'target',
			    spellcheck: 'false', value: q.get('target') || '' }),
			limit: field({ label: t('f_limit'), name: 'limit',
			    type: 'select', value: q.get('limit') || '50',
			    options: [['25', '25'], ['50', '50'], ['100', '100'],
			    ['200', '200']] }),
		};
		const err = errorBox('ev-error');
		const form = h('form', { class: 'card filters', id: 'ev-form',
		    role: 'search', 'aria-label': t('search_label'),
		    novalidate: true }, h('div', { class: 'grid' },
		    Object.keys(f).map(function (k) { return f[k]; })), err,
		    h('div', { class: 'actions' }, h('button', { type: 'submit',
		    class: 'btn primary', id: 'ev-search', text: t('search') }),
		    btn(t('clear'), { class: 'btn ghost' }, function () {
			ev.query = '';
			ev.befores = [];
			ev.before = null;
			render();
		    })));
		const results = h('section', { id: 'ev-results',
		    'aria-label': t('results') });
		main.append(h('h1', { text: t('nav_events') }), form, results);

		async function load() {
			const p = new URLSearchParams(ev.query);
			if (ev.before)
				p.set('before', ev.before);
			const r = await api('GET', '/api/audit/events?' +
			    p.toString());
			if (stale(seq))
				return;
			results.textContent = '';
			if (r.status !== 200) {
				showError(err, errText(r));
				return;
			}
			const rows = r.data.events.map(function (e) {
				return h('tr', { class: 'o-' + e.outcome },
				    td(String(e.id), 'num'),
				    td(fmtTime(e.at), 'nowrap'),
				    td([e.actor_name || '—', e.actor_role ?
				    h('small', { class: 'muted', text: ' (' +
				    e.actor_role + ')' }) : null]),
				    td(e.source || '—', 'mono'),
				    td(e.event, 'mono'), td(e.target || '—'),
				    td(badge(t('o_' + e.outcome), 'o-' +
				    e.outcome)),
				    td(h('code', { class: 'details',
				    text: JSON.stringify(e.details) })));
			});
			const pageNo = ev.befores.length + 1;
			results.append(rows.length ? table(t('events_caption',
			    { n: rows.length, page: pageNo }), [t('c_id'),
			    t('at'), t('actor'), t('source'), t('event'),
			    t('target'), t('outcome'), t('details')], rows) :
			    h('p', { class: 'empty', text: t('no_results') }),
			    h('div', { class: 'pager' },
			    btn(t('newer'), { disabled: !ev.befores.length,
			    id: 'ev-newer' }, function () {
				ev.before = ev.befores.pop() || null;
				load();
			    }), h('span', { text: t('page_n', { n: pageNo }) }),
			    btn(t('older'), { disabled: !r.data.next_before,
			    id: 'ev-older' }, function () {
				ev.befores.push(ev.before);
				ev.before = String(r.data.next_before);
				load();
			    })));
		}

		form.addEventListener('submit', function (e) {
			e.preventDefault();
			showError(err, null);
			const p = new URLSearchParams();
			Object.keys(f).forEach(function (k) {
				let v = f[k].input.value.trim();
				if (k === 'from' || k === 'to')
					v = localTime(v);
				if (v)
					p.set(k, v);
			});
			ev.query = p.toString();
			ev.befores = [];
			ev.before = null;
			load();
		});
		load();
	}

	function viewVerify(main, arg, seq) {
		const out = h('section', { id: 'verify-result', class: 'card',
		    'aria-live': 'polite' });
		const again = btn(t('verify_again'), { class: 'btn primary',
		    id: 'verify-run' }, run);
		main.append(h('h1', { text: t('nav_verify') }),
		    h('p', { class: 'muted', text: t('verify_text') }), out,
		    h('div', { class: 'actions' }, again));
		async function run() {
			again.disabled = true;
			out.textContent = t('working');
			const r = await api('GET', '/api/audit/verify');
			again.disabled = false;
			if (stale(seq))
				return;
			out.textContent = '';
			if (r.status !== 200) {
				out.append(h('p', { class: 'error', role: 'alert',
				    text: errText(r) }));
				return;
			}
			const v = r.data;
			out.className = 'card ' + (v.intact ? 'good' : 'broken');
			out.append(h('p', { class: 'big', id: 'verify-status' },
			    badge(v.intact ? t('chain_ok') : t('chain_broken'),
			    v.intact ? 'ok' : 'bad')));
			const dl = h('dl', { class: 'kv' });
			dl.append(h('dt', { text: t('checked') }),
			    h('dd', { text: fmtNum(v.checked) }),
			    h('dt', { text: t('last_event') }),
			    h('dd', { text: v.last_event ? '#' + v.last_event :
			    '—' }));
			if (!v.intact)
				dl.append(h('dt', { text: t('problem') }),
				    h('dd', { text: (v.problem || '?') +
				    (v.problem_event ? ' (#' + v.problem_event +
				    ')' : '') }));
			if (v.unsealed !== null && v.unsealed !== undefined)
				dl.append(h('dt', { text: t('unsealed') }),
				    h('dd', { text: t('unsealed_n',
				    { n: fmtNum(v.unsealed) }) }));
			dl.append(h('dt', { text: t('verified_at') }),
			    h('dd', { text: fmtTime(Math.floor(now())) }));
			out.append(dl);
			announce(v.intact ? t('chain_ok') : t('chain_broken'));
		}
		run();
	}

	function viewAlerts(main, arg, seq) {
		const onlyOpen = h('input', { type: 'checkbox', id: 'alerts-open' });
		const list = h('section', { id: 'alerts-list' });
		const err = errorBox('alerts-error');
		main.append(h('h1', { text: t('nav_alerts') }),
		    h('div', { class: 'toolbar' }, h('label',
		    { class: 'check' }, onlyOpen, ' ', t('only_open'))), err,
		    list);
		let data = [];
		onlyOpen.addEventListener('change', draw);

		async function load() {
			const r = await api('GET', '/api/alerts');
			if (stale(seq))
				return;
			if (r.status !== 200) {
				showError(err, errText(r));
				return;
			}
			data = r.data.alerts;
			draw();
		}

		function draw() {
			list.textContent = '';
			const items = data.filter(function (a) {
				return !onlyOpen.checked || !a.acknowledged_at;
			});
			const rows = items.map(function (a) {
				const ack = a.acknowledged_at ? h('div', null,
				    badge(t('acked'), 'ok'), ' ',
				    h('small', { text: (a.acknowledged_by || '') +
				    ' ' + fmtTime(a.acknowledged_at) }),
				    a.comment ? h('div', { class: 'muted',
				    text: a.comment }) : null) :
				    btn(t('ack'), { class: 'btn small primary',
				    'data-alert': a.id, 'aria-label':
				    t('ack_alert', { id: a.id }) },
				    function () { ackDialog(a); });
				return h('tr', { class: 'sev-' + a.severity },
				    td(String(a.id), 'num'), td(a.rule, 'mono'),
				    td(badge(a.severity, 'sev-' + a.severity)),
				    td(a.key || '', 'mono'),
				    td(fmtTime(a.first_seen), 'nowrap'),
				    td(fmtTime(a.last_seen), 'nowrap'),
				    td(fmtNum(a.count), 'num'),
				    td(fmtNum(a.sources || 0), 'num'),
				    td((a.event_ids || []).slice(0, 8).map(
				    function (x) { return '#' + x; }).join(' ') +
				    ((a.event_ids || []).length > 8 ? ' …' : ''),
				    'mono small'), td(ack));
			});
			list.append(rows.length ? table(t('alerts_caption',
			    { n: rows.length }), [t('c_id'), t('rule'),
			    t('severity'), t('key'), t('first_seen'),
			    t('last_seen'), t('count'), t('alert_sources'),
			    t('events'),
			    t('ack_state')], rows) : h('p', { class: 'empty',
			    text: t('no_alerts') }));
		}

		function ackDialog(a) {
			const d = dialog(t('ack_alert', { id: a.id }));
			const c = field({ label: t('comment'), name: 'comment',
			    id: 'ack-comment', type: 'textarea', maxlength: 500,
			    required: true });
			const e = errorBox('ack-error');
			const ok = h('button', { type: 'submit', class: 'btn primary',
			    id: 'ack-submit', text: t('ack') });
			const f = h('form', { novalidate: true },
			    h('p', { text: a.rule + ' — ' + a.severity }), c, e,
			    h('div', { class: 'actions' }, ok, btn(t('cancel'),
			    { class: 'btn ghost' }, function () { d.close(); })));
			d.body.append(f);
			f.addEventListener('submit', async function (x) {
				x.preventDefault();
				if (!c.input.value.trim()) {
					showError(e, t('err_comment'));
					return;
				}
				ok.disabled = true;
				const r = await api('POST', '/api/alerts/' + a.id +
				    '/ack', { comment: c.input.value.trim() });
				ok.disabled = false;
				if (r.status === 200) {
					d.close();
					toast(t('acked'));
					load();
					return;
				}
				showError(e, errText(r));
			});
		}
		load();
	}

	function viewInventory(main, arg, seq) {
		const out = h('section', { id: 'inventory' });
		main.append(h('h1', { text: t('nav_inventory') }),
		    h('p', { class: 'muted', text: t('inventory_text') }), out);
		api('GET', '/api/inventory').then(function (r) {
			if (stale(seq))
				return;
			if (r.status !== 200) {
				out.append(h('p', { class: 'error', role: 'alert',
				    text: errText(r) }));
				return;
			}
			const rows = r.data.columns.map(function (c) {
				return h('tr', null, td(c.schema + '.' + c.table,
				    'mono'), td(c.column, 'mono'), td(c.category),
				    td(c.purpose), td(fmtNum(c.rows), 'num'),
				    td((c.readable_by || []).join(', '), 'mono'));
			});
			out.append(table(t('inventory_caption',
			    { n: rows.length }), [t('table'), t('column'),
			    t('category'), t('purpose'), t('rows'),
			    t('readable_by')], rows));
		});
	}

	/* --- weekly reviews ----------------------------------------------------- */

	function reviewState(w) {
		if (w.complete)
			return badge(t('rv_complete'), 'ok');
		if (w.overdue)
			return badge(t('rv_overdue'), 'bad');
		if (w.finished === false)
			return badge(t('rv_in_progress'));
		if (w.signed_off_by)
			return badge(t('rv_awaiting_confirm'), 'warn');
		return badge(t('rv_open'), 'warn');
	}

	function viewReviews(main, arg, seq) {
		if (arg && /^[0-9]{4}-W[0-9]{2}$/.test(arg)) {
			viewReview(main, arg, seq);
			return;
		}
		const out = h('section', { id: 'reviews-list' });
		const wk = field({ label: t('rv_open_week'), name: 'week',
		    id: 'review-week', type: 'week', required: true });
		const pick = h('form', { class: 'toolbar', id: 'review-pick',
		    novalidate: true }, wk, h('button', { type: 'submit',
		    class: 'btn', id: 'review-open', text: t('rv_open_btn') }));
		pick.addEventListener('submit', function (e) {
			e.preventDefault();
			const w = wk.input.value.trim().toUpperCase();
			if (/^[0-9]{4}-W[0-9]{2}$/.test(w))
				go('reviews', false, w);
		});
		main.append(h('h1', { text: t('nav_reviews') }),
		    h('p', { class: 'muted', text: t('rv_text') }), pick, out);
		api('GET', '/api/reviews').then(function (r) {
			if (stale(seq))
				return;
			if (r.status === 404) {
				out.append(h('p', { class: 'notice info',
				    id: 'reviews-missing', text: t('rv_missing') }));
				return;
			}
			if (r.status !== 200) {
				out.append(h('p', { class: 'error', role: 'alert',
				    text: errText(r) }));
				return;
			}
			const rows = r.data.weeks.map(function (w) {
				return h('tr', { 'data-week': w.week },
				    td(h('a', { href: '#/reviews/' + w.week,
				    text: w.week })),
				    td(w.from + ' – ' + w.to, 'nowrap'),
				    td(w.signed_off_by ? [w.signed_off_by, h('br'),
				    h('small', { class: 'muted',
				    text: fmtTime(w.signed_off_at) })] : '—'),
				    td(w.confirmed_by ? [w.confirmed_by, h('br'),
				    h('small', { class: 'muted',
				    text: fmtTime(w.confirmed_at) })] : '—'),
				    td(reviewState(w)));
			});
			out.append(table(t('rv_caption'), [t('rv_week'),
			    t('rv_period'), t('rv_signed'), t('rv_confirmed'),
			    t('c_status')], rows));
		});
	}

	/* Per-day bars as SVG: sizes are attributes, so the CSP holds. */
	function barChart(title, days, key, cls) {
		const W = 340, H = 170, top = 22, bottom = 30, left = 8;
		const max = Math.max(1, ...days.map(function (d) {
			return d[key] || 0;
		}));
		const slot = (W - left * 2) / days.length;
		const bw = Math.max(8, slot * 0.6);
		const label = title + ': ' + days.map(function (d) {
			return d.date + ' ' + (d[key] || 0);
		}).join(', ');
		const chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H,
		    width: W, height: H, role: 'img', 'aria-label': label,
		    class: 'chart ' + cls });
		chart.append(svg('title', { text: label }));
		chart.append(svg('line', { x1: left, x2: W - left,
		    y1: H - bottom, y2: H - bottom, class: 'axis' }));
		days.forEach(function (d, i) {
			const v = d[key] || 0;
			const bh = Math.round((H - top - bottom) * v / max);
			const x = left + i * slot + (slot - bw) / 2;
			const y = H - bottom - bh;
			chart.append(svg('rect', { x: x.toFixed(1), y: y,
			    width: bw.toFixed(1), height: Math.max(bh, v ? 1 : 0),
			    class: 'bar', 'data-value': v }));
			chart.append(svg('text', { x: (x + bw / 2).toFixed(1),
			    y: y - 5, 'text-anchor': 'middle', class: 'val',
			    text: String(v) }));
			chart.append(svg('text', { x: (x + bw / 2).toFixed(1),
			    y: H - bottom + 16, 'text-anchor': 'middle',
			    class: 'day', text: String(d.date).slice(5) }));
		});
		return h('figure', { class: 'card chart-card' },
		    h('figcaption', { text: title }), chart);
	}

	function viewReview(main, week, seq) {
		const out = h('section', { id: 'review' });
		main.append(h('p', null, h('a', { href: '#/reviews',
		    text: '← ' + t('nav_reviews') })),
		    h('h1', { text: t('rv_title', { week: week }) }), out);
		api('GET', '/api/reviews/' + encodeURIComponent(week)).then(
		    function (r) {
			if (stale(seq))
				return;
			if (r.status !== 200) {
				out.append(h('p', { class: 'error', role: 'alert',
				    text: r.status === 404 ? t('rv_missing') :
				    errText(r) }));
				return;
			}
			drawReview(out, r.data, seq);
		});
	}

	function drawReview(out, v, seq) {
		const days = v.daily || [];
		out.textContent = '';
		out.append(h('p', { class: 'muted', text: v.from + ' – ' + v.to +
		    ' (' + (v.timezone || tz()) + ')' }),
		    h('div', { class: 'actions' }, h('a', { class: 'btn',
		    id: 'review-csv', href: '/api/reviews/' +
		    encodeURIComponent(v.week) + '?format=csv',
		    download: 'review-' + v.week + '.csv',
		    text: t('export_csv') })));
		const sums = h('dl', { class: 'kv summary' });
		[['rv_failures', v.failures], ['rv_lockouts', v.lockouts],
		    ['rv_outside', v.outside_hours],
		    ['rv_denied', v.denied_connections],
		    ['rv_alerts_raised', v.alerts ? v.alerts.raised : 0],
		    ['rv_alerts_acked', v.alerts ? v.alerts.acknowledged : 0]]
		    .forEach(function (p) {
			sums.append(h('dt', { text: t(p[0]) }),
			    h('dd', { text: fmtNum(p[1] || 0) }));
		    });
		out.append(sums, h('div', { class: 'charts', id: 'charts' },
		    barChart(t('rv_ch_logins'), days, 'logins', 'c-logins'),
		    barChart(t('rv_ch_failures'), days, 'failures',
		    'c-failures'),
		    barChart(t('rv_ch_denied'), days, 'denied', 'c-denied'),
		    barChart(t('rv_ch_outside'), days, 'outside_hours',
		    'c-outside')));
		out.append(h('h2', { text: t('rv_signoff') }),
		    signoffBlock(v, seq));
		out.append(h('h2', { text: t('rv_logins') }),
		    table(t('rv_logins'), [t('username'), t('rv_successes'),
		    t('rv_failures'), t('rv_lockouts')], (v.logins || []).map(
		    function (x) {
			return h('tr', null, td(x.username, 'mono'),
			    td(fmtNum(x.successes), 'num'),
			    td(fmtNum(x.failures), 'num'),
			    td(fmtNum(x.lockouts), 'num'));
		    })));
		out.append(h('h2', { text: t('rv_denied_sources') }),
		    table(t('rv_denied_sources'), [t('source'), t('count')],
		    (v.denied_sources || []).map(function (x) {
			return h('tr', null, td(x.source, 'mono'),
			    td(fmtNum(x.count), 'num'));
		    })));
		out.append(h('h2', { text: t('rv_privileged') }),
		    table(t('rv_privileged'), [t('at'), t('event'), t('actor'),
		    t('target')], (v.privileged_changes || []).map(function (x) {
			return h('tr', null, td(fmtTime(x.at), 'nowrap'),
			    td(x.event, 'mono'), td(x.actor), td(x.target));
		    })));
		out.append(h('h2', { text: t('rv_operations') }),
		    table(t('rv_operations'), [t('rv_operator'), t('capture'),
		    t('cancel_txn'), t('refund'), t('rv_refund_total')],
		    (v.operations || []).map(function (x) {
			return h('tr', null, td(x.operator, 'mono'),
			    td(fmtNum(x.captures), 'num'),
			    td(fmtNum(x.cancels), 'num'),
			    td(fmtNum(x.refunds), 'num'),
			    td(fmtMoney(x.refund_total, 'JPY'), 'num'));
		    })));
	}

	function signoffBlock(v, seq) {
		const s = v.signoff || {};
		const box = h('div', { class: 'card signoff', id: 'signoff' });
		const dl = h('dl', { class: 'kv' },
		    h('dt', { text: t('c_status') }), h('dd', null,
		    reviewState(s)),
		    h('dt', { text: t('rv_signed') }), h('dd', { text:
		    s.signed_off_by ? s.signed_off_by + ' · ' +
		    fmtTime(s.signed_off_at) + (s.signoff_comment ? ' — ' +
		    s.signoff_comment : '') : '—' }),
		    h('dt', { text: t('rv_confirmed') }), h('dd', { text:
		    s.confirmed_by ? s.confirmed_by + ' · ' +
		    fmtTime(s.confirmed_at) + (s.confirm_comment ? ' — ' +
		    s.confirm_comment : '') : '—' }));
		box.append(dl);
		const me = state.me.user.username;
		let kind = null;
		const finished = typeof s.finished === 'boolean' ? s.finished :
		    v.to < today();
		if (!s.signed_off_by && role() === 'auditor' && finished)
			kind = 'signoff';
		if (!s.signed_off_by && !finished)
			box.append(h('p', { class: 'muted', id: 'signoff-later',
			    text: t('rv_not_finished') }));
		else if (s.signed_off_by && !s.confirmed_by &&
		    s.signed_off_by !== me)
			kind = 'confirm';
		if (s.signed_off_by && !s.confirmed_by &&
		    s.signed_off_by === me)
			box.append(h('p', { class: 'muted', id: 'signoff-same',
			    text: t('rv_same_person') }));
		if (!s.signed_off_by && finished && role() !== 'auditor')
			box.append(h('p', { class: 'muted',
			    text: t('rv_auditor_first') }));
		if (!kind)
			return box;
		const c = field({ label: t('comment'), name: 'comment',
		    id: 'signoff-comment', type: 'textarea', maxlength: 500 });
		const e = errorBox('signoff-error');
		const ok = h('button', { type: 'submit', class: 'btn primary',
		    id: 'signoff-submit', text: t('rv_do_' + kind) });
		const f = h('form', { novalidate: true },
		    h('p', { text: t('rv_do_' + kind + '_text') }), c, e,
		    h('div', { class: 'actions' }, ok));
		f.addEventListener('submit', async function (x) {
			x.preventDefault();
			showError(e, null);
			if (!c.input.value.trim()) {
				showError(e, t('err_comment'));
				c.input.focus();
				return;
			}
			ok.disabled = true;
			const r = await api('POST', '/api/reviews/' +
			    encodeURIComponent(v.week) + '/' + kind,
			    { comment: c.input.value.trim() });
			ok.disabled = false;
			if (r.status === 200 || r.status === 201) {
				toast(t('rv_done_' + kind));
				render();
				return;
			}
			showError(e, errText(r));
		});
		box.append(f);
		return box;
	}

	/* --- start ---------------------------------------------------------- */

	function applyStatic() {
		document.documentElement.lang = lang;
		document.querySelectorAll('[data-i18n]').forEach(function (el) {
			el.textContent = t(el.getAttribute('data-i18n'));
		});
		const b = document.getElementById('lang');
		b.textContent = lang === 'ja' ? 'English' : '日本語';
		b.setAttribute('lang', lang === 'ja' ? 'en' : 'ja');
		b.setAttribute('aria-label', t('lang_switch'));
	}

	async function start() {
		applyStatic();
		document.getElementById('lang').addEventListener('click',
		    function () {
			lang = lang === 'ja' ? 'en' : 'ja';
			localStorage.setItem(LANG_KEY, lang);
			closeDialogs();
			applyStatic();
			render();
		    });
		document.getElementById('logout').addEventListener('click',
		    logout);
		document.getElementById('warn-extend').addEventListener('click',
		    async function () {
			if (await refreshMe()) {
				toast(t('extended'));
				tick();
			}
		    });
		document.getElementById('skip-link').addEventListener('click',
		    function (e) {
			e.preventDefault();
			document.getElementById('main').focus();
		    });
		window.addEventListener('hashchange', render);
		const r = await api('GET', '/api/me', undefined, undefined,
		    { quiet: true });
		if (r.status === 200 && r.data) {
			adoptMe(r.data);
		} else if (r.error === 'outside_hours') {
			state.notice = { kind: 'warn', text: t('notice_closed') };
		}
		render();
		window.setInterval(tick, 1000);
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
}());
