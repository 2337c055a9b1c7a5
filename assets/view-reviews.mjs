/*
 * view-reviews.mjs: the weekly reviews (#/reviews, #/reviews/<week>):
 * the list of weeks, a week's figures with per-day SVG charts (sizes are
 * attributes, so the CSP holds) and the two-person sign-off; the daily
 * reviews (#/reviews/<YYYY-MM-DD>): the list of days, a day's digest per
 * category with its events, and its one sign-off.
 */
import { api, errText, go, render, role, stale } from './core.mjs';
import { badge, errorBox, errorLine, field, h, showError, svg, table, td,
    toast } from './dom.mjs';
import { state } from './state.mjs';
import { fmtMoney, fmtNum, fmtTime, t, today, tz } from './text.mjs';
import { isDay, isWeek } from './validate.mjs';

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

export function viewReviews(main, arg, seq) {
	if (arg && isWeek(arg)) {
		viewReview(main, arg, seq);
		return;
	}
	if (arg && isDay(arg)) {
		viewDay(main, arg, seq);
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
		if (isWeek(w))
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
			out.append(errorLine(errText(r)));
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
		out.append(h('h2', { text: t('dr_caption') }),
		    h('p', { class: 'muted', text: t('dr_text') }),
		    table(t('dr_caption'), [t('dr_day'), t('rv_signed'),
		    t('c_status')], (r.data.days || []).map(function (d) {
			return h('tr', { 'data-day': d.week },
			    td(h('a', { href: '#/reviews/' + d.week,
			    text: d.week }), 'nowrap'),
			    td(d.signed_off_by ? [d.signed_off_by, h('br'),
			    h('small', { class: 'muted',
			    text: fmtTime(d.signed_off_at) })] : '—'),
			    td(reviewState(d)));
		    })));
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
			out.append(errorLine(r.status === 404 ?
			    t('rv_missing') : errText(r)));
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
	box.append(signForm('/api/reviews/' + encodeURIComponent(v.week) +
	    '/' + kind, kind, t('rv_do_' + kind + '_text')));
	return box;
}

/* A sign-off or confirmation with its comment, posted to path. */
function signForm(path, kind, text, errKey) {
	const c = field({ label: t('comment'), name: 'comment',
	    id: 'signoff-comment', type: 'textarea', maxlength: 500 });
	const e = errorBox('signoff-error');
	const ok = h('button', { type: 'submit', class: 'btn primary',
	    id: 'signoff-submit', text: t('rv_do_' + kind) });
	const f = h('form', { novalidate: true }, h('p', { text: text }), c,
	    e, h('div', { class: 'actions' }, ok));
	f.addEventListener('submit', async function (x) {
		x.preventDefault();
		showError(e, null);
		if (!c.input.value.trim()) {
			showError(e, t('err_comment'));
			c.input.focus();
			return;
		}
		ok.disabled = true;
		const r = await api('POST', path,
		    { comment: c.input.value.trim() });
		ok.disabled = false;
		if (r.status === 200 || r.status === 201) {
			toast(t('rv_done_' + kind));
			render();
			return;
		}
		showError(e, errKey && errKey(r) ? errKey(r) : errText(r));
	});
	return f;
}

function viewDay(main, day, seq) {
	const out = h('section', { id: 'daily-review' });
	main.append(h('p', null, h('a', { href: '#/reviews',
	    text: '← ' + t('nav_reviews') })),
	    h('h1', { text: t('dr_title', { day: day }) }), out);
	api('GET', '/api/reviews/daily/' + encodeURIComponent(day)).then(
	    function (r) {
		if (stale(seq))
			return;
		if (r.status !== 200) {
			out.append(errorLine(errText(r)));
			return;
		}
		drawDay(out, r.data);
	});
}

function drawDay(out, d) {
	const ck = d.checkpoint;
	out.append(h('p', { class: 'muted', text: d.day + ' (' +
	    (d.timezone || tz()) + ')' }));
	if (!d.computed)
		out.append(h('p', { class: 'notice info', id: 'daily-live',
		    text: t('dr_not_computed') }));
	out.append(h('dl', { class: 'kv', id: 'daily-seal' },
	    h('dt', { text: t('dr_figures') }), h('dd', { class: 'mono',
	    text: d.figures_sha256 || '—' }),
	    h('dt', { text: t('dr_checkpoint') }), h('dd', { class: 'mono',
	    text: ck ? t('dr_checkpoint_line', { seq: ck.seq,
	    event: ck.last_event, head: ck.head }) : '—' })));
	out.append(table(t('dr_categories'), [t('category'), t('count'),
	    t('dr_alert_rule')], (d.categories || []).map(function (c) {
		return h('tr', { 'data-category': c.category },
		    td(t('dr_cat_' + c.category)), td(fmtNum(c.count), 'num'),
		    td(c.alert_rule || '—', 'mono'));
	    })));
	(d.categories || []).filter(function (c) {
		return c.count > 0;
	}).forEach(function (c) {
		out.append(h('h2', { text: t('dr_cat_' + c.category) }),
		    table(t('dr_cat_' + c.category), [t('at'), t('event'),
		    t('actor'), t('target'), t('dr_outcome')],
		    c.rows.map(function (x) {
			return h('tr', { 'data-event': x.id },
			    td(fmtTime(x.at), 'nowrap'), td(x.event, 'mono'),
			    td(x.actor || '—'), td(x.target || '—'),
			    td(x.outcome));
		    })));
	});
	out.append(h('h2', { text: t('dr_signoff') }), dayBlock(d));
}

function dayBlock(d) {
	const s = d.signoff || {};
	const box = h('div', { class: 'card signoff', id: 'signoff' });
	box.append(h('dl', { class: 'kv' },
	    h('dt', { text: t('c_status') }), h('dd', null, reviewState(s)),
	    h('dt', { text: t('rv_signed') }), h('dd', { text:
	    s.signed_off_by ? s.signed_off_by + ' · ' +
	    fmtTime(s.signed_off_at) + (s.signoff_comment ? ' — ' +
	    s.signoff_comment : '') : '—' })));
	if (s.signed_off_by)
		return box;
	if (!s.finished || !d.computed)
		box.append(h('p', { class: 'muted', id: 'signoff-later',
		    text: t('dr_not_ready') }));
	else if (role() !== 'auditor')
		box.append(h('p', { class: 'muted',
		    text: t('dr_auditor') }));
	else
		box.append(signForm('/api/reviews/daily/' +
		    encodeURIComponent(d.day) + '/signoff', 'signoff',
		    t('dr_do_signoff_text'), function (r) {
			return r.error === 'self_forbidden' ?
			    t('dr_self_forbidden') : null;
		    }));
	return box;
}
