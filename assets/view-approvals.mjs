/*
 * view-approvals.mjs: the requests this role may see (#/approvals,
 * GET /api/approvals), pending first. Each pending one shows every
 * field of the operation approving executes and its SHA-256; where this
 * person may decide, Approve sends the digest of the operation shown
 * (computed here and compared with the listed one: a request whose
 * digest does not match what is shown cannot be approved from this
 * page). Each function takes the screen's parts as v: { seq, err,
 * pending, past }.
 */
import { api, errText, keepOnce, render, role, stale,
    withReauth } from './core.mjs';
import { badge, btn, confirmDialog, errorBox, field, h, kvList, showError,
    table, td } from './dom.mjs';
import { approvalTarget } from './pure.mjs';
import { codePanel, operationDigest, operationList } from './requests.mjs';
import { state } from './state.mjs';
import { approverText, fmtTime, kindName, t } from './text.mjs';

export function viewApprovals(main, arg, seq) {
	main.append(h('h1', { text: t('nav_approvals') }),
	    h('p', { class: 'muted', id: 'appr-intro',
	    text: t('appr_text_' + role()) }));
	const once = state.oneTime;
	if (once && once.code)
		main.append(codePanel(once));
	const v = { seq: seq, err: errorBox('appr-error'),
	    pending: h('section', { id: 'appr-pending',
	    'aria-labelledby': 'appr-pending-h' }),
	    past: h('section', { id: 'appr-past',
	    'aria-labelledby': 'appr-past-h' }) };
	main.append(v.err, v.pending, v.past);
	load(v);
}

function statusBadge(a) {
	return badge(t('as_' + a.status), ({ pending: 'warn', approved: 'ok',
	    rejected: 'bad' }[a.status] || '') + ' as-' + a.status);
}

async function load(v) {
	const r = await api('GET', '/api/approvals');
	if (stale(v.seq))
		return;
	v.pending.textContent = '';
	v.past.textContent = '';
	if (r.status !== 200 || !r.data) {
		showError(v.err, errText(r));
		return;
	}
	const all = r.data.approvals;
	const open = all.filter(function (a) {
		return a.status === 'pending';
	});
	const done = all.filter(function (a) {
		return a.status !== 'pending';
	});
	v.pending.append(h('h2', { id: 'appr-pending-h',
	    text: t('appr_pending_h', { n: open.length }) }),
	    open.length ? h('div', { class: 'appr-grid' },
	    open.map(function (a) { return card(v, a); })) : h('p',
	    { class: 'empty', id: 'appr-none', text: t('appr_none') }));
	v.past.append(h('h2', { id: 'appr-past-h', text: t('appr_past_h') }),
	    table(t('appr_past_caption', { n: done.length }), [t('c_id'),
	    t('opf_kind'), t('appr_c_target'), t('appr_requester'),
	    t('appr_requested_at'), t('c_status'), t('appr_decided_by'),
	    t('appr_decided_at'), t('comment')], done.map(pastRow)));
}

function pastRow(a) {
	return h('tr', { 'data-approval': a.id, 'data-status': a.status },
	    td('#' + a.id, 'num'), td(kindName(a.kind)),
	    td(approvalTarget(a), 'mono'), td(a.requested_by),
	    td(fmtTime(a.requested_at), 'nowrap'), td(statusBadge(a)),
	    td(a.decided_by || '—'), td(fmtTime(a.decided_at), 'nowrap'),
	    td(a.comment || ''));
}

/* A pending request: what it executes, and what this person may do. */
function card(v, a) {
	const el = h('article', { class: 'card approval', id: 'appr-' + a.id,
	    'data-approval': a.id, 'aria-labelledby': 'appr-title-' + a.id });
	const meta = kvList();
	meta.kv(t('appr_requester'), [a.requested_by, a.mine ? ' ' +
	    t('self') : null]);
	meta.kv(t('appr_requested_at'), fmtTime(a.requested_at));
	meta.kv(t('appr_expires_at'), fmtTime(a.expires_at));
	meta.kv(t('appr_approver'), approverText(a.approver_role));
	const digest = h('p', { class: 'digest-line' }, t('appr_digest') +
	    ': ', h('code', { class: 'digest', text: a.operation_sha256 }));
	el.append(h('div', { class: 'appr-head' }, h('h3', {
	    id: 'appr-title-' + a.id, text: t('appr_title',
	    { id: a.id, kind: kindName(a.kind) }) }), statusBadge(a)), meta,
	    h('h4', { text: t('appr_operation') }),
	    operationList(a.operation || {}), digest);
	if (a.enrolment)
		el.append(h('p', { class: 'muted', text: t('appr_enrols',
		    { user: a.operation.username }) }));
	if (!a.can_decide) {
		el.append(h('p', { class: 'notice info appr-why',
		    text: a.mine ? t('appr_mine') : t('appr_not_yours',
		    { approver: approverText(a.approver_role) }) }));
		if (a.mine)
			el.append(withdrawButton(v, a));
		return el;
	}
	el.append(decideBlock(v, a, el, digest));
	return el;
}

/*
 * Approve and Reject with a comment. Approve stays disabled until the
 * digest of the operation shown matches the listed one (u.shown).
 */
function decideBlock(v, a, el, digest) {
	const u = { shown: null, c: field({ label: t('comment'),
	    name: 'comment', id: 'appr-comment-' + a.id, type: 'textarea',
	    maxlength: 500, rows: 2 }), e: errorBox('appr-error-' + a.id) };
	u.ok = btn(t('appr_approve'), { class: 'btn primary',
	    id: 'appr-approve-' + a.id, disabled: true },
	    function () { decide(v, a, u, 'approve'); });
	u.no = btn(t('appr_reject'), { class: 'btn danger',
	    id: 'appr-reject-' + a.id },
	    function () { decide(v, a, u, 'reject'); });
	operationDigest(a.operation).then(function (d) {
		if (stale(v.seq))
			return;
		if (d !== null && d === a.operation_sha256) {
			u.shown = d;
			u.ok.disabled = false;
			el.setAttribute('data-verified', 'true');
			digest.append(' ', badge(t('appr_digest_ok'), 'ok'));
		} else {
			el.setAttribute('data-verified', 'false');
			showError(u.e, t('appr_digest_bad'));
		}
	});
	return h('div', { class: 'appr-decide' }, u.c, u.e,
	    h('div', { class: 'actions' }, u.ok, u.no));
}

async function decide(v, a, u, kind) {
	showError(u.e, null);
	if (kind === 'approve' && !u.shown)
		return;
	if (!await confirmDialog(t('appr_' + kind + '_title', { id: a.id }),
	    t('appr_' + kind + '_confirm', { id: a.id,
	    kind: kindName(a.kind) }), t('appr_' + kind), kind === 'reject'))
		return;
	const body = {};
	if (kind === 'approve')
		body.operation_sha256 = u.shown;
	const comment = u.c.input.value.trim();
	if (comment)
		body.comment = comment;
	u.ok.disabled = true;
	u.no.disabled = true;
	const r = await withReauth(function () {
		return api('POST', '/api/approvals/' + a.id + '/' + kind, body);
	});
	if (stale(v.seq))
		return;
	if (r && r.status === 200 && r.data) {
		if (r.data.enrolment_code)
			keepOnce('approvals', { code: r.data.enrolment_code,
			    part: r.data.enrolment_code_part || 2,
			    user: a.operation.username, until: r.data.result &&
			    r.data.result.enrolment_expires_at });
		state.notice = { kind: 'ok', text: t('appr_done_' + kind,
		    { id: a.id }) };
		render();
		return;
	}
	u.ok.disabled = !u.shown;
	u.no.disabled = false;
	if (!r)
		return;
	/* A refund that can no longer be made as asked. */
	if (r.error === 'refund_exceeds_captured' ||
	    r.error === 'invalid_transition')
		showError(u.e, t('appr_refund_impossible'));
	else
		showError(u.e, errText(r));
}

/* Its requester takes a request back before anyone decides. */
function withdrawButton(v, a) {
	const e = errorBox('appr-error-' + a.id);
	const b = btn(t('appr_withdraw'), { class: 'btn',
	    id: 'appr-withdraw-' + a.id }, async function () {
		showError(e, null);
		if (!await confirmDialog(t('appr_withdraw_title', { id: a.id }),
		    t('appr_withdraw_confirm', { id: a.id,
		    kind: kindName(a.kind) }), t('appr_withdraw'), true))
			return;
		b.disabled = true;
		const r = await api('POST', '/api/approvals/' + a.id +
		    '/withdraw', {});
		if (stale(v.seq))
			return;
		if (r.status === 200) {
			state.notice = { kind: 'ok',
			    text: t('appr_done_withdraw', { id: a.id }) };
			render();
			return;
		}
		b.disabled = false;
		showError(e, errText(r));
	});
	return h('div', { class: 'appr-decide' }, e,
	    h('div', { class: 'actions' }, b));
}
