/*
 * main.mjs: the payconsole web UI's entry point. One page, no framework,
 * no network access beyond this origin. Routes are hash fragments, one
 * module a screen (view-*.mjs); the server decides every permission, the
 * navigation only hides what a role may not use.
 */
import { adoptMe, api, homeRoute, logout, nextSeq, parseHash, refreshMe,
    role, setRenderer, tick } from './core.mjs';
import { closeDialogs, h, toast } from './dom.mjs';
import { setLang, state } from './state.mjs';
import { roleName, t } from './text.mjs';
import { viewApprovals } from './view-approvals.mjs';
import { viewAlerts, viewEvents, viewInventory,
    viewVerify } from './view-audit.mjs';
import { viewDevices } from './view-devices.mjs';
import { viewEnrol } from './view-enrol.mjs';
import { viewLogin } from './view-login.mjs';
import { viewPassword } from './view-password.mjs';
import { viewReviews } from './view-reviews.mjs';
import { viewTransactions } from './view-transactions.mjs';
import { viewUsers } from './view-users.mjs';

const ROUTES = {
	login: { pub: true, title: 'login_title', view: viewLogin },
	enrol: { pub: true, title: 'enrol_title', view: viewEnrol },
	password: { mcok: true, title: 'pw_title', view: viewPassword },
	/* Opened from the header, beside the session (index.html). */
	devices: { title: 'nav_devices', view: viewDevices },
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
	const seq = nextSeq();
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
	route.view(main, p.arg, seq);
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

/* --- start ------------------------------------------------------------ */

function applyStatic() {
	document.documentElement.lang = state.lang;
	document.querySelectorAll('[data-i18n]').forEach(function (el) {
		el.textContent = t(el.getAttribute('data-i18n'));
	});
	const b = document.getElementById('lang');
	b.textContent = state.lang === 'ja' ? 'English' : '日本語';
	b.setAttribute('lang', state.lang === 'ja' ? 'en' : 'ja');
	b.setAttribute('aria-label', t('lang_switch'));
}

async function start() {
	applyStatic();
	document.getElementById('lang').addEventListener('click',
	    function () {
		setLang(state.lang === 'ja' ? 'en' : 'ja');
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
	setRenderer(render);
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
