/*
 * view-audit.mjs: the auditors' screens: the event log with its filters
 * (#/events), the chain verification (#/verify), the alerts and their
 * acknowledgement (#/alerts) and the personal-data inventory
 * (#/inventory).
 */
import { api, errText, render, stale } from './core.mjs';
import { announce, badge, btn, dialog, errorBox, errorLine, field, h,
    limitField, queryOf, searchForm, showError, table, td, timeFields,
    toast } from './dom.mjs';
import { now } from './state.mjs';
import { fmtNum, fmtTime, t } from './text.mjs';

const ev = { query: '', befores: [], before: null };

export function viewEvents(main, arg, seq) {
	const q = new URLSearchParams(ev.query);
	const f = Object.assign(timeFields(q), {
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
		limit: limitField(q),
	});
	const err = errorBox('ev-error');
	const form = searchForm('ev-form', f, err, [h('button',
	    { type: 'submit', class: 'btn primary', id: 'ev-search',
	    text: t('search') }), btn(t('clear'), { class: 'btn ghost' },
	    function () {
		ev.query = '';
		ev.befores = [];
		ev.before = null;
		render();
	    })]);
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
		ev.query = queryOf(f).toString();
		ev.befores = [];
		ev.before = null;
		load();
	});
	load();
}

export function viewVerify(main, arg, seq) {
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
			out.append(errorLine(errText(r)));
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

export function viewAlerts(main, arg, seq) {
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

export function viewInventory(main, arg, seq) {
	const out = h('section', { id: 'inventory' });
	main.append(h('h1', { text: t('nav_inventory') }),
	    h('p', { class: 'muted', text: t('inventory_text') }), out);
	api('GET', '/api/inventory').then(function (r) {
		if (stale(seq))
			return;
		if (r.status !== 200) {
			out.append(errorLine(errText(r)));
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
