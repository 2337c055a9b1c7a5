/*
 * view-users.mjs: the accounts screen (#/users): admins manage, auditors
 * read. What gives access (creating, enabling, a role, a password reset,
 * a new device) is a request for a second person; disabling, unlocking,
 * revoking sessions or trusted devices and withdrawing an enrolment are
 * done at once. Each
 * function takes the screen's parts as v: { seq, admin, err, list,
 * waiting, filter }.
 */
import { api, errText, keepOnce, render, role, stale,
    withReauth } from './core.mjs';
import { badge, btn, confirmDialog, dialog, errorBox, field, h,
    showError, table, td, toast } from './dom.mjs';
import { accountApprover } from './pure.mjs';
import { codePanel, requestNotice } from './requests.mjs';
import { now, state } from './state.mjs';
import { approverText, fmtTime, kindName, roleName, t } from './text.mjs';

const ROLES = ['operator', 'admin', 'auditor'];

export function viewUsers(main, arg, seq) {
	const v = { seq: seq, admin: role() === 'admin',
	    err: errorBox('users-error'),
	    list: h('section', { id: 'users-list' }),
	    waiting: h('div', { id: 'users-waiting' }) };
	main.append(h('h1', { text: t('nav_users') }));
	const once = state.oneTime;
	if (once && once.approval)
		main.append(requestNotice(once));
	if (once && once.code)
		main.append(codePanel(once));
	if (v.admin) {
		main.append(h('div', { class: 'toolbar' },
		    btn(t('create_user'), { class: 'btn primary',
		    id: 'user-create' }, createUser)));
	} else {
		main.append(h('p', { class: 'notice info',
		    id: 'readonly-note', text: t('readonly_note') }));
	}
	v.filter = h('input', { type: 'search', id: 'users-filter',
	    class: 'filter', 'aria-label': t('users_filter'),
	    placeholder: t('users_filter') });
	v.filter.addEventListener('input', function () {
		const q = v.filter.value.trim().toLowerCase();
		v.list.querySelectorAll('tbody tr').forEach(function (tr) {
			tr.hidden = q !== '' &&
			    tr.textContent.toLowerCase().indexOf(q) < 0;
		});
	});
	main.append(h('div', { class: 'toolbar' }, v.filter), v.err,
	    v.waiting, v.list);
	load(v);
}

async function load(v) {
	const both = await Promise.all([api('GET', '/api/users'),
	    api('GET', '/api/approvals')]);
	const r = both[0];
	if (stale(v.seq))
		return;
	v.list.textContent = '';
	v.waiting.textContent = '';
	if (r.status !== 200) {
		showError(v.err, errText(r));
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
		v.waiting.append(h('p', { class: 'notice info',
		    id: 'users-pending-creates' },
		    t('users_pending_creates', { list: creates.map(
		    function (a) {
			return a.operation.username + ' (#' + a.id + ')';
		    }).join(', ') }), ' ', h('a',
		    { href: '#/approvals', text: t('nav_approvals') })));
	const heads = [t('c_id'), t('username'), t('display_name'),
	    t('role'), t('c_status'), t('otp_state'), t('last_login'),
	    t('pw_changed')];
	if (v.admin)
		heads.push(t('actions'));
	v.list.append(table(t('users_caption', { n: r.data.users.length }),
	    heads, r.data.users.map(function (u) {
		return userRow(v, u, pending[u.username] || []);
	    })));
	if (v.filter.value)
		v.filter.dispatchEvent(new Event('input'));
}

/* Disabled, locked, enrolling, ...; and the requests that concern u. */
function userBadges(u, pending) {
	const st = h('span', { class: 'badges' });
	if (u.disabled)
		st.append(badge(t('u_disabled'), 'bad'));
	if (u.locked_until && u.locked_until > now())
		st.append(badge(t('u_locked', { t: fmtTime(u.locked_until) }),
		    'bad'));
	if (u.enrolling)
		st.append(badge(t('u_enrolling'), 'warn u-enrolling'));
	else if (u.otp === 'none')
		st.append(badge(t('u_no_factors'), 'bad u-no-factors'));
	if (u.must_change_password)
		st.append(badge(t('u_must_change'), 'warn'));
	if (!st.childNodes.length)
		st.append(badge(t('u_active'), 'ok'));
	pending.forEach(function (a) {
		st.append(h('a', { href: '#/approvals',
		    class: 'badge warn u-pending', 'data-approval': a.id,
		    text: t('u_pending', { kind: kindName(a.kind),
		    id: a.id }) }));
	});
	return st;
}

function userRow(v, u, pending) {
	const cells = [td(String(u.id), 'num'), td(u.username, 'mono'),
	    td(u.display_name), td(roleName(u.role), 'nowrap'),
	    td(userBadges(u, pending)), td(badge(t('otp_' + u.otp),
	    u.otp === 'enrolled' ? 'ok' : 'warn')),
	    td(u.last_login_at ? [fmtTime(u.last_login_at), h('br'),
	    h('small', { class: 'muted', text: u.last_login_source ||
	    '' })] : '—', 'nowrap'),
	    td(fmtTime(u.password_changed_at), 'nowrap')];
	if (v.admin) {
		const self = u.id === state.me.user.id;
		cells.push(td(self ? h('span', { class: 'muted',
		    text: t('self') }) : btn(t('manage'), { class: 'btn small',
		    'data-user': u.username, 'aria-label': t('manage_user',
		    { user: u.username }) }, function () {
			manage(v, u);
		    })));
	}
	return h('tr', { 'data-username': u.username }, cells);
}

function userErr(r, creating) {
	if (r.error === 'conflict')
		return t(creating ? 'err_user_conflict' :
		    'err_nothing_to_change');
	return errText(r);
}

/* A request was sent: its notice (and code half) on this screen. */
function sent(data, username) {
	keepOnce('users', { approval: data.approval,
	    code: data.enrolment_code || null,
	    part: data.enrolment_code_part || 1, user: username });
	render();
}

function roleField(id, value) {
	return field({ label: t('role'), name: 'role', id: id,
	    type: 'select', value: value, options: ROLES.map(
	    function (x) { return [x, roleName(x)]; }) });
}

/*
 * A dialog whose form sends a request: its text, its fields, an error
 * box and the submit button ok. o.body(e) returns the body to send to
 * o.path, or null after saying what is wrong in e; o.user(body) names
 * the account. A 202 closes it and shows the request on the screen.
 */
function requestDialog(title, text, fields, ok, o) {
	const d = dialog(title);
	const e = errorBox(o.errId);
	const f = h('form', { novalidate: true }, h('p', { text: text }),
	    fields, e, h('div', { class: 'actions' }, ok, btn(t('cancel'),
	    { class: 'btn ghost' }, function () { d.close(); })));
	d.body.append(f);
	f.addEventListener('submit', async function (ev) {
		ev.preventDefault();
		showError(e, null);
		const body = o.body(e);
		if (!body)
			return;
		ok.disabled = true;
		const r = await withReauth(function () {
			return api('POST', o.path, body);
		});
		ok.disabled = false;
		if (!r)
			return;
		if (r.status === 202 && r.data && r.data.approval) {
			d.close();
			sent(r.data, o.user(body));
			return;
		}
		showError(e, userErr(r, o.creating));
	});
}

function createUser() {
	const name = field({ label: t('username'), name: 'username',
	    id: 'new-username', required: true,
	    pattern: '[a-z0-9_.-]{3,64}', spellcheck: 'false',
	    autocapitalize: 'none', hint: t('username_hint') });
	const disp = field({ label: t('display_name'), name: 'display_name',
	    id: 'new-display', required: true, maxlength: 100 });
	const rl = roleField('new-role', 'operator');
	const ok = h('button', { type: 'submit', class: 'btn primary',
	    id: 'create-submit', text: t('send_request') });
	requestDialog(t('create_user'), t('create_text'), [name, disp, rl],
	    ok, { errId: 'create-error', path: '/api/users', creating: true,
	    user: function (body) { return body.username; },
	    body: function (e) {
		const body = { username: name.input.value.trim(),
		    display_name: disp.input.value.trim(),
		    role: rl.input.value };
		if (!body.username || !body.display_name) {
			showError(e, t('err_fill_all'));
			return null;
		}
		return body;
	    } });
}

function changeRole(v, u) {
	const rl = roleField('role-select', u.role);
	const ok = h('button', { type: 'submit', class: 'btn danger',
	    id: 'role-submit', text: t('send_request') });
	requestDialog(t('change_role_for', { user: u.username }),
	    t('role_req_text'), [rl], ok, { errId: 'role-error',
	    path: '/api/users/' + u.id + '/role', creating: false,
	    user: function () { return u.username; },
	    body: function (e) {
		if (rl.input.value === u.role) {
			showError(e, t('err_nothing_to_change'));
			return null;
		}
		return { role: rl.input.value };
	    } });
}

/* What one admin does alone: done at once, after a confirmation. */
async function simple(v, u, path, okKey, confirmKey, danger) {
	if (!await confirmDialog(t('manage_user', { user: u.username }),
	    t(confirmKey, { user: u.username }), t('execute'), danger))
		return;
	const r = await api('POST', '/api/users/' + u.id + path, {});
	if (r.status === 200) {
		toast(t(okKey, { user: u.username,
		    n: r.data && r.data.revoked }));
		load(v);
	} else {
		toast(userErr(r), 'bad');
	}
}

/* What gives access: a request for a second person. */
async function request(u, path, title, textKey) {
	const text = t(textKey, { user: u.username,
	    approver: approverText(accountApprover(u.role)) });
	if (!await confirmDialog(title, text, t('send_request'), true))
		return;
	const r = await withReauth(function () {
		return api('POST', '/api/users/' + u.id + path, {});
	});
	if (!r)
		return;
	if (r.status === 202 && r.data && r.data.approval) {
		sent(r.data, u.username);
		return;
	}
	toast(userErr(r), 'bad');
}

/*
 * The menu of one account: [label, id, danger, what it does]; every
 * entry closes the menu first.
 */
function manageItems(v, u) {
	const items = [];
	if (u.disabled)
		items.push(['enable', 'u-enable', false, function () {
			return request(u, '/enable', t('enable'),
			    'enable_req_text');
		}]);
	else
		items.push(['disable', 'u-disable', true, function () {
			return simple(v, u, '/disable', 'done_disable',
			    'confirm_disable', true);
		}]);
	items.push(['unlock', 'u-unlock', false, function () {
		return simple(v, u, '/unlock', 'done_unlock', 'confirm_unlock');
	}], ['revoke', 'u-revoke', true, function () {
		return simple(v, u, '/sessions/revoke', 'done_revoke',
		    'confirm_revoke', true);
	}], ['devices_revoke', 'u-devices-revoke', true, function () {
		return simple(v, u, '/devices/revoke', 'done_devices_revoke',
		    'confirm_devices_revoke', true);
	}]);
	if (u.enrolling)
		items.push(['enrol_revoke', 'u-enrol-revoke', true,
		    function () {
			return simple(v, u, '/enrolment/revoke',
			    'done_enrol_revoke', 'confirm_enrol_revoke', true);
		    }]);
	items.push(['reset_password', 'u-password', true, function () {
		return request(u, '/password', t('reset_password'),
		    'reset_req_text');
	}], ['new_device', 'u-otp', true, function () {
		return request(u, '/otp', t('new_device'), 'device_req_text');
	}], ['change_role', 'u-role', true, function () {
		changeRole(v, u);
	}]);
	return items;
}

function manage(v, u) {
	const d = dialog(t('manage_user', { user: u.username }));
	const e = errorBox('manage-error');
	const ul = h('ul', { class: 'menu' });
	manageItems(v, u).forEach(function (it) {
		ul.append(h('li', null, btn(t(it[0]), { class: 'btn ' +
		    (it[2] ? 'danger' : ''), id: it[1] }, async function () {
			showError(e, null);
			d.close();
			await it[3]();
		    })));
	});
	d.body.append(h('p', { class: 'muted', text: t('who', {
	    name: u.display_name, user: u.username,
	    role: roleName(u.role) }) }), u.enrolling ? h('p',
	    { class: 'notice warn', text: t('manage_enrolling') }) : null,
	    ul, e);
}
