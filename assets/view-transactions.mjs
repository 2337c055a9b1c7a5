/*
 * view-transactions.mjs: the transactions screen (#/transactions):
 * operators act, auditors read. Search filters and keyset pages, a
 * detail panel with refunds and the refunds waiting for approval, the
 * capture / cancel / refund dialogs (one Idempotency-Key each) and the
 * CSV export. Each function takes the screen's parts as v: { main, seq,
 * operator, f (filter fields), err, exportLink, results, detail }.
 */
import { api, errText, go, render, role, stale } from './core.mjs';
import { append, badge, btn, dialog, errorBox, errorLine, field, h,
    kvList, limitField, queryOf, searchForm, showError, table, td,
    timeFields, toast } from './dom.mjs';
import { maskedCard } from './format.mjs';
import { amounts, hex, pendingRefunds } from './pure.mjs';
import { state } from './state.mjs';
import { fmtMoney, fmtTime, statusName, t } from './text.mjs';
import { filterProblem, refundProblem } from './validate.mjs';

const STATUSES = ['authorized', 'captured', 'cancelled',
    'partially_refunded', 'refunded', 'failed'];
const BRANDS = ['visa', 'mastercard', 'jcb', 'amex', 'diners',
    'discover'];

/* What the screen keeps between visits: the search and its page. */
const tx = {
	query: '',		/* filters, as a query string */
	cursors: [],		/* cursors of the pages before this one */
	cursor: null,
	selected: null,
};

export function viewTransactions(main, arg, seq) {
	const q = new URLSearchParams(tx.query);
	const v = { main: main, seq: seq, operator: role() === 'operator',
	    f: filterFields(q), err: errorBox('tx-error') };
	v.exportLink = h('a', { class: 'btn', id: 'tx-export',
	    href: '/api/transactions/export', download: 'transactions.csv',
	    text: t('export_csv') });
	const form = searchForm('tx-form', v.f, v.err, [h('button',
	    { type: 'submit', class: 'btn primary', id: 'tx-search',
	    text: t('search') }), btn(t('clear'), { class: 'btn ghost',
	    id: 'tx-clear' }, function () {
		tx.query = '';
		tx.cursors = [];
		tx.cursor = null;
		render();
	    }), v.exportLink]);
	v.results = h('section', { class: 'results', id: 'tx-results',
	    'aria-label': t('results') });
	v.detail = h('section', { class: 'detail card', id: 'tx-detail',
	    'aria-label': t('detail'), hidden: true });
	append(main, [h('h1', { text: t('nav_transactions') }),
	    v.operator ? null : h('p', { class: 'notice info',
	    id: 'readonly-note', text: t('readonly_note') }), form,
	    h('div', { class: 'split' }, v.results, v.detail)]);
	form.addEventListener('submit', function (ev) {
		ev.preventDefault();
		showError(v.err, null);
		const p = queryOf(v.f);
		const bad = filterProblem(p);
		if (bad) {
			showError(v.err, t(bad));
			return;
		}
		tx.query = p.toString();
		tx.cursors = [];
		tx.cursor = null;
		load(v);
	});
	setExport(v, new URLSearchParams(tx.query));
	load(v);
	if (tx.selected)
		showDetail(v, tx.selected);
}

function filterFields(q) {
	return Object.assign(timeFields(q), {
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
		limit: limitField(q),
	});
}

/* The export takes the filters, not the page. */
function setExport(v, p) {
	const e = new URLSearchParams(p);
	e.delete('limit');
	e.delete('cursor');
	const s = e.toString();
	v.exportLink.href = '/api/transactions/export' + (s ? '?' + s : '');
}

async function load(v) {
	const p = new URLSearchParams(tx.query);
	setExport(v, p);
	if (tx.cursor)
		p.set('cursor', tx.cursor);
	const results = v.results;
	results.setAttribute('aria-busy', 'true');
	const r = await api('GET', '/api/transactions?' + p.toString());
	if (stale(v.seq))
		return;
	results.removeAttribute('aria-busy');
	results.textContent = '';
	if (r.status !== 200) {
		showError(v.err, errText(r));
		return;
	}
	const items = r.data.transactions;
	const pageNo = tx.cursors.length + 1;
	results.append(items.length ? table(t('results_caption',
	    { n: items.length, page: pageNo }), [t('c_id'), t('c_created'),
	    t('c_order'), t('c_amount'), t('c_status'), t('c_brand'),
	    t('c_last4'), t('c_name')], items.map(function (x) {
		return txRow(v, x);
	    })) : h('p', { class: 'empty', text: t('no_results') }));
	const prev = btn(t('prev_page'), { id: 'tx-prev',
	    disabled: tx.cursors.length === 0 }, function () {
		tx.cursor = tx.cursors.pop() || null;
		load(v);
	});
	const next = btn(t('next_page'), { id: 'tx-next',
	    disabled: !r.data.next_cursor }, function () {
		tx.cursors.push(tx.cursor);
		tx.cursor = r.data.next_cursor;
		load(v);
	});
	results.append(h('div', { class: 'pager' }, prev,
	    h('span', { text: t('page_n', { n: pageNo }) }), next));
}

function txRow(v, x) {
	const open = h('button', { type: 'button', class: 'link',
	    'data-txn': x.id, 'aria-label': t('open_txn', { id: x.id }),
	    text: '#' + x.id }, null);
	open.addEventListener('click', function () {
		showDetail(v, x.id);
	});
	return h('tr', { class: tx.selected === x.id ? 'selected' : null,
	    'data-row': x.id }, td(open), td(fmtTime(x.created_at), 'nowrap'),
	    td(x.merchant_order_id, 'mono'),
	    td(fmtMoney(x.amount, x.currency), 'num'),
	    td(badge(statusName(x.status), 'st-' + x.status)),
	    td(x.card_brand.toUpperCase()), td(x.card_last4, 'mono'),
	    td(x.cardholder_name));
}

async function showDetail(v, id) {
	tx.selected = id;
	v.results.querySelectorAll('tr.selected').forEach(function (tr) {
		tr.classList.remove('selected');
	});
	const row = v.results.querySelector('tr[data-row="' + Number(id) +
	    '"]');
	if (row)
		row.classList.add('selected');
	const detail = v.detail;
	detail.hidden = false;
	detail.setAttribute('aria-busy', 'true');
	const both = await Promise.all([api('GET', '/api/transactions/' +
	    encodeURIComponent(id)), api('GET', '/api/approvals')]);
	const r = both[0];
	if (stale(v.seq))
		return;
	detail.removeAttribute('aria-busy');
	detail.textContent = '';
	if (r.status !== 200) {
		detail.append(errorLine(errText(r)));
		return;
	}
	const a = both[1];
	renderDetail(v, r.data.transaction, r.data.refunds,
	    pendingRefunds(a.status === 200 && a.data ? a.data.approvals :
	    [], r.data.transaction.id));
}

function renderDetail(v, x, refunds, pending) {
	const am = amounts(x, refunds);
	const dl = kvList();
	const kv = dl.kv;
	kv(t('c_order'), h('span', { class: 'mono',
	    text: x.merchant_order_id }));
	kv(t('c_status'), badge(statusName(x.status), 'st-' + x.status));
	kv(t('c_amount'), fmtMoney(x.amount, x.currency));
	kv(t('captured'), fmtMoney(am.captured, x.currency));
	kv(t('refunded'), fmtMoney(am.refunded, x.currency));
	kv(t('refundable'), [fmtMoney(Math.max(0, am.captured - am.refunded),
	    x.currency), am.exact ? null : h('small', { class: 'muted',
	    text: ' ' + t('estimated') })]);
	kv(t('card'), maskedCard(x.card_brand, x.card_last4));
	kv(t('c_name'), x.cardholder_name);
	kv(t('email'), x.cardholder_email);
	kv(t('c_created'), fmtTime(x.created_at));
	kv(t('updated'), fmtTime(x.updated_at));
	kv(t('version'), String(x.version));
	const head = h('div', { class: 'detail-head' }, h('h2',
	    { id: 'detail-title', tabindex: '-1', text: t('txn_title',
	    { id: x.id }) }), btn(t('close'), { class: 'btn ghost small',
	    id: 'detail-close' }, function () {
		v.detail.hidden = true;
		tx.selected = null;
		const b = v.results.querySelector('button[data-txn="' +
		    Number(x.id) + '"]');
		if (b)
			b.focus();
	    }));
	v.detail.append(head, dl);
	if (v.operator)
		v.detail.append(detailActions(v, x, refunds,
		    am.captured - am.refunded));
	v.detail.append(h('h3', { text: t('refunds') }), refunds.length ?
	    refundTable(x, refunds) : h('p', { class: 'muted',
	    id: 'no-refunds', text: t('no_refunds') }));
	if (pending.length)
		v.detail.append(h('h3', { text: t('tx_pending_h') }),
		    pendingList(pending));
	v.detail.querySelector('#detail-title').focus();
}

/* The operations the transaction's status allows. */
function detailActions(v, x, refunds, refundable) {
	const acts = h('div', { class: 'actions', id: 'txn-actions' });
	const act = function (kind, label, cls) {
		return btn(t(label), { class: 'btn ' + cls, id: 'act-' + kind },
		    function () { opDialog(v, kind, x, refunds); });
	};
	if (x.status === 'authorized')
		acts.append(act('capture', 'capture', 'primary'),
		    act('cancel', 'cancel_txn', 'danger'));
	if ((x.status === 'captured' || x.status === 'partially_refunded') &&
	    refundable > 0)
		acts.append(act('refund', 'refund', 'primary'));
	if (!acts.childNodes.length)
		acts.append(h('p', { class: 'muted', text: t('no_ops',
		    { status: statusName(x.status) }) }));
	return acts;
}

function refundTable(x, refunds) {
	return table(t('refunds_n', { n: refunds.length }), [t('c_amount'),
	    t('reason'), t('actor')], refunds.map(function (f) {
		return h('tr', { 'data-refund': f.id },
		    td([fmtMoney(f.amount, x.currency), h('br'), h('small',
		    { class: 'muted', text: '#' + f.id })], 'num'),
		    td(f.reason), td([f.actor_name, f.approved_by ? [h('br'),
		    h('small', { class: 'approved-by',
		    text: t('approved_by_line', { user: f.approved_by }) })] :
		    null, h('br'), h('small', { class: 'muted',
		    text: fmtTime(f.created_at) })], 'nowrap'));
	    }), 'data compact');
}

function pendingList(pending) {
	return h('ul', { class: 'pending-list', id: 'tx-pending' },
	    pending.map(function (a) {
		return h('li', { 'data-approval': a.id }, h('a',
		    { href: '#/approvals', text: t('tx_pending_row', { id: a.id,
		    amount: fmtMoney(a.operation.amount, a.operation.currency),
		    user: a.requested_by }) }));
	    }));
}

/*
 * Capture, cancel or refund. One Idempotency-Key per dialog: a resend
 * (double click, retry after a network error) is the same request and
 * the server answers it without a second effect. The button is
 * disabled while a request is in flight. o holds the dialog's parts and
 * its state.
 */
function opDialog(v, kind, x, refunds) {
	const am = amounts(x, refunds);
	const o = { kind: kind, x: x, version: x.version,
	    key: (window.crypto && crypto.randomUUID) ? crypto.randomUUID() :
	    fallbackKey(), refundable: am.captured - am.refunded,
	    inflight: false, done: false, err: errorBox('op-error'),
	    step1: h('div', { class: 'step' }),
	    step2: h('div', { class: 'step', hidden: true }),
	    amountF: null, reasonF: null };
	o.d = dialog(t('op_title_' + kind, { id: x.id }), function () {
		if (o.done)
			showDetail(v, x.id).then(function () { load(v); });
	});
	o.d.el.setAttribute('data-idempotency-key', o.key);
	const summary = h('dl', { class: 'kv' },
	    h('dt', { text: t('c_order') }),
	    h('dd', { text: x.merchant_order_id }),
	    h('dt', { text: t('c_amount') }),
	    h('dd', { text: fmtMoney(x.amount, x.currency) }),
	    h('dt', { text: t('c_status') }),
	    h('dd', { text: statusName(x.status) }));
	o.d.body.append(summary, o.step1, o.step2, o.err);
	o.go2 = h('button', { type: 'button', class: 'btn primary',
	    id: 'op-execute', text: t('op_exec_' + kind) });
	o.go2.addEventListener('click', function () { execute(o); });
	if (kind === 'refund')
		o.step1.append(refundForm(o));
	else
		toConfirm(o);
}

function refundForm(o) {
	o.amountF = field({ label: t('refund_amount'), name: 'amount',
	    id: 'refund-amount', type: 'number', min: 1, max: o.refundable,
	    step: 1, required: true, hint: t('refund_max',
	    { max: fmtMoney(o.refundable, o.x.currency) }) });
	o.reasonF = field({ label: t('reason'), name: 'reason',
	    id: 'refund-reason', type: 'textarea', maxlength: 500,
	    required: true });
	const f = h('form', { novalidate: true }, o.amountF, o.reasonF,
	    h('div', { class: 'actions' }, h('button', { type: 'submit',
	    class: 'btn primary', id: 'op-next', text: t('to_confirm') }),
	    btn(t('cancel'), { class: 'btn ghost' }, function () {
		o.d.close();
	    })));
	f.addEventListener('submit', function (ev) {
		ev.preventDefault();
		toConfirm(o);
	});
	return f;
}

/* Step two: what will happen, said once more before it is sent. */
function toConfirm(o) {
	const x = o.x;
	showError(o.err, null);
	o.step2.textContent = '';
	let amount = x.amount;
	if (o.kind === 'refund') {
		const bad = refundProblem(o.amountF.input.value,
		    o.reasonF.input.value, o.refundable);
		if (bad) {
			showError(o.err, t(bad, { max: fmtMoney(o.refundable,
			    x.currency) }));
			(bad === 'err_reason' ? o.reasonF : o.amountF).input
			    .focus();
			return;
		}
		amount = Number(o.amountF.input.value.trim());
	}
	o.step1.hidden = true;
	o.step2.hidden = false;
	o.step2.append(h('p', { class: 'confirm-text', id: 'op-confirm-text',
	    text: t('op_confirm_' + o.kind, { id: x.id,
	    amount: fmtMoney(amount, x.currency) }) }));
	const threshold = state.me ? state.me.refund_approval_threshold :
	    undefined;
	/* Said before it is sent: above the policy's threshold a second
	 * operator decides. */
	if (o.kind === 'refund' && typeof threshold === 'number' &&
	    amount > threshold)
		o.step2.append(h('p', { class: 'notice info',
		    id: 'op-needs-approval', text: t('op_needs_approval',
		    { max: fmtMoney(threshold, x.currency) }) }));
	const acts = h('div', { class: 'actions' }, o.go2);
	if (o.kind === 'refund') {
		o.step2.append(h('p', { class: 'muted', text: t('reason') +
		    ': ' + o.reasonF.input.value.trim() }));
		acts.append(btn(t('back'), { class: 'btn ghost',
		    id: 'op-back' }, function () {
			o.step2.hidden = true;
			o.step1.hidden = false;
			o.amountF.input.focus();
		    }));
	}
	acts.append(btn(t('cancel'), { class: 'btn ghost' },
	    function () { o.d.close(); }));
	o.step2.append(acts);
	o.go2.focus();
}

async function execute(o) {
	const x = o.x;
	if (o.inflight || o.done)
		return;
	o.inflight = true;
	o.go2.disabled = true;
	o.go2.textContent = t('working');
	showError(o.err, null);
	const path = '/api/transactions/' + x.id + '/' +
	    (o.kind === 'refund' ? 'refunds' : o.kind);
	const body = o.kind === 'refund' ? {
	    amount: Number(o.amountF.input.value.trim()),
	    reason: o.reasonF.input.value.trim() } : undefined;
	const r = await api('POST', path, body, { 'Idempotency-Key': o.key,
	    'If-Match': String(o.version) });
	o.inflight = false;
	o.go2.textContent = t('op_exec_' + o.kind);
	if (r.status === 202 && r.data && r.data.approval) {
		o.done = true;
		sentForApproval(o, r.data.approval);
		return;
	}
	if (r.status === 200 || r.status === 201) {
		o.done = true;
		toast(t('op_done_' + o.kind, { id: x.id }));
		o.d.close(true);
		return;
	}
	showError(o.err, opErr(o, r));
	/* A stale or refused transition cannot succeed. */
	o.go2.disabled = o.done;
}

/* Why an operation failed; a stale or refused one reloads on close. */
function opErr(o, r) {
	const x = o.x;
	if (r.error === 'version_mismatch') {
		o.done = true;
		return t('err_version_mismatch');
	}
	if (r.error === 'invalid_transition') {
		o.done = true;
		return t('err_invalid_transition',
		    { status: statusName(x.status) });
	}
	if (r.error === 'refund_exceeds_captured') {
		if (typeof r.data.refundable === 'number')
			o.refundable = r.data.refundable;
		return t('err_refund_exceeds', { max: fmtMoney(o.refundable,
		    x.currency) });
	}
	return errText(r);
}

/* Above the threshold: a request, nothing refunded yet. */
function sentForApproval(o, a) {
	o.step1.hidden = true;
	o.step2.textContent = '';
	o.step2.hidden = false;
	const msg = h('p', { class: 'notice info', id: 'op-pending',
	    'data-approval': a.id, tabindex: '-1',
	    text: t('op_pending_refund', { id: a.id }) });
	/*
	 * These buttons take the place of Execute: the second click of a
	 * double click on it (detail 2) must not close the notice it just
	 * brought up.
	 */
	const close = btn(t('close'), { class: 'btn primary',
	    id: 'op-close' }, function (e) {
		if (e.detail < 2)
			o.d.close();
	});
	o.step2.append(msg, h('p', { class: 'muted' }, t('appr_digest') +
	    ': ', h('code', { class: 'digest', text: a.operation_sha256 })),
	    h('div', { class: 'actions' }, close, btn(t('op_pending_link'),
	    { class: 'btn ghost', id: 'op-to-approvals' }, function (e) {
		if (e.detail > 1)
			return;
		o.d.close();
		go('approvals');
	    })));
	msg.focus();
}

function fallbackKey() {
	const b = new Uint8Array(16);
	crypto.getRandomValues(b);
	return hex(b);
}
