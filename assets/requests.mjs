/*
 * requests.mjs: what the users and approvals screens show of a request
 * for a second person: the operation it executes (every field, and the
 * SHA-256 of its jsonb text), the notice of a request just sent and a
 * half of an enrolment code, shown once.
 */
import { render } from './core.mjs';
import { btn, h, kvList, toast } from './dom.mjs';
import { hasText } from './i18n.mjs';
import { hex, jsonbText, operationFields } from './pure.mjs';
import { state } from './state.mjs';
import { approverText, fmtMoney, fmtTime, kindName, roleName,
    t } from './text.mjs';

/*
 * The SHA-256 of an operation as shown: of the text PostgreSQL
 * hashed (pure.mjs). null when it cannot be computed.
 */
export async function operationDigest(op) {
	try {
		return hex(await crypto.subtle.digest('SHA-256',
		    new TextEncoder().encode(jsonbText(op))));
	} catch (e) {
		return null;
	}
}

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
export function operationList(op) {
	const dl = h('dl', { class: 'kv op' });
	operationFields(op).forEach(function (k) {
		const label = hasText('opf_' + k) ? t('opf_' + k) : k;
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
export function codePanel(o) {
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
export function requestNotice(o) {
	const a = o.approval;
	const dl = kvList();
	const kv = dl.kv;
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
