/*
 * view-devices.mjs: the trusted devices screen (#/devices), for every
 * signed-in user. A browser that signed in holds a device cookie: its
 * sign-ins pass a lockout that others' wrong passwords caused (issue
 * 15). The list shows when each was issued and last used, from where,
 * until when, and which one is this browser; each can be revoked after
 * a confirmation (its next sign-in is then treated as a stranger's).
 */
import { api, errText, stale } from './core.mjs';
import { badge, btn, confirmDialog, errorBox, h, showError, table, td,
    toast } from './dom.mjs';
import { deviceBadges, deviceOrder } from './devices.mjs';
import { now } from './state.mjs';
import { fmtTime, t } from './text.mjs';

export function viewDevices(main, arg, seq) {
	const v = { seq: seq, err: errorBox('devices-error'),
	    list: h('section', { id: 'devices-list' }) };
	main.append(h('h1', { text: t('nav_devices') }),
	    h('p', { class: 'notice info', id: 'devices-intro',
	    text: t('dev_intro') }), v.err, v.list);
	load(v);
}

async function load(v) {
	const r = await api('GET', '/api/devices');
	if (stale(v.seq))
		return;
	v.list.textContent = '';
	if (r.status !== 200 || !r.data) {
		showError(v.err, errText(r));
		return;
	}
	showError(v.err, null);
	const list = deviceOrder(r.data.devices);
	v.list.append(table(t('dev_caption', { n: list.length }),
	    [t('dev_created'), t('dev_last_used'), t('dev_expires'),
	    t('c_status'), t('actions')], list.map(function (d) {
		return deviceRow(v, d);
	    })));
}

/* A time and, under it, the address it came from. */
function when(at, source) {
	if (!at)
		return '—';
	return [fmtTime(at), h('br'), h('small', { class: 'muted mono',
	    text: source || '' })];
}

function deviceRow(v, d) {
	const st = h('span', { class: 'badges' });
	deviceBadges(d, now()).forEach(function (b) {
		st.append(badge(t(b[0], { t: fmtTime(d.locked_until) }),
		    b[1]));
	});
	return h('tr', { 'data-device': d.id,
	    class: d.current ? 'dev-current' : null }, [
	    td(when(d.created_at, d.created_source), 'nowrap'),
	    td(when(d.last_used_at, d.last_source), 'nowrap'),
	    td(fmtTime(d.expires_at), 'nowrap'), td(st),
	    td(btn(t('dev_revoke'), { class: 'btn small danger dev-revoke',
	    'data-device': d.id, 'aria-label': t('dev_revoke_label',
	    { created: fmtTime(d.created_at) }) }, function () {
		revoke(v, d);
	    }))]);
}

async function revoke(v, d) {
	const text = t(d.current ? 'dev_confirm_current' : 'dev_confirm',
	    { created: fmtTime(d.created_at) });
	if (!await confirmDialog(t('dev_revoke'), text, t('dev_revoke'),
	    true))
		return;
	const r = await api('POST', '/api/devices/' + d.id + '/revoke', {});
	if (r.status === 200)
		toast(t('dev_done'));
	else
		toast(errText(r), 'bad');
	/* Revoked here or elsewhere meanwhile: the list as it is now. */
	load(v);
}
