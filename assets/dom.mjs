/*
 * dom.mjs: the DOM helpers every screen uses. Elements are built with
 * createElement and textContent only (the CSP forbids inline script and
 * style; nothing the server or a user typed is ever parsed as HTML).
 */
import { localTime } from './format.mjs';
import { newPasswordProblem } from './pure.mjs';
import { t } from './text.mjs';

export function h(tag, attrs) {
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

export function append(el, c) {
	if (c === null || c === undefined || c === false)
		return;
	if (Array.isArray(c)) {
		c.forEach(function (x) { append(el, x); });
		return;
	}
	el.append(c instanceof Node ? c : document.createTextNode(
	    String(c)));
}

export const SVGNS = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs) {
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
export function field(o) {
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

export function otpField(o) {
	return field(Object.assign({
		label: t('otp'), name: 'otp', type: 'text',
		inputmode: 'numeric', autocomplete: 'one-time-code',
		pattern: '[0-9]{6}', maxlength: 6, required: true,
		hint: t('otp_hint'),
	}, o || {}));
}

export function btn(text, attrs, onclick) {
	return h('button', Object.assign({ type: 'button', class: 'btn',
	    onclick: onclick }, attrs || {}), text);
}

export function errorBox(id) {
	return h('p', { class: 'error', id: id, role: 'alert',
	    hidden: true });
}

export function showError(box, text) {
	if (!text) {
		box.hidden = true;
		box.textContent = '';
		return;
	}
	box.textContent = text;
	box.hidden = false;
}

export function announce(text) {
	const live = document.getElementById('live');
	live.textContent = '';
	window.setTimeout(function () { live.textContent = text; }, 30);
}

let toastTimer = null;
export function toast(text, kind) {
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

export function table(caption, headers, rows, cls) {
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

export function td(x, cls) {
	return h('td', { class: cls }, x);
}

export function badge(text, kind) {
	return h('span', { class: 'badge ' + (kind || '') , text: text });
}

/*
 * A modal <dialog>: Escape and the close button cancel, focus goes
 * back to what opened it. onclose(result) runs once.
 */
export function dialog(title, onclose) {
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

export function closeDialogs() {
	document.querySelectorAll('dialog').forEach(function (d) {
		if (d.open)
			d.close();
	});
}

/* A yes/no question; resolves true on confirmation. */
export function confirmDialog(title, text, okText, danger) {
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

/* A new password and its repetition: fields name and name + '2'. */
export function newPasswordFields(name, id) {
	return [field({ label: t('new_password'), name: name, id: id,
	    type: 'password', autocomplete: 'new-password', required: true,
	    minlength: 12, maxlength: 128, hint: t('pw_rules') }),
	    field({ label: t('new_password_again'), name: name + '2',
	    id: id + '2', type: 'password', autocomplete: 'new-password',
	    required: true })];
}

/* Says in err what is wrong with a new password, if anything. */
export function passwordRefused(err, np, np2) {
	const bad = newPasswordProblem(np.input.value, np2.input.value);
	if (!bad)
		return false;
	showError(err, t(bad));
	(bad === 'pw_mismatch' ? np2 : np).input.focus();
	return true;
}

/* A definition list and its kv(term, value) adder. */
export function kvList(cls) {
	const dl = h('dl', { class: cls || 'kv' });
	dl.kv = function (k, v) {
		dl.append(h('dt', { text: k }), h('dd', null, v));
	};
	return dl;
}

/* The from/to and page-size fields of a search form, from query q. */
export function timeFields(q) {
	return {
		from: field({ label: t('f_from'), name: 'from',
		    type: 'datetime-local', step: 1,
		    value: q.get('from') || '' }),
		to: field({ label: t('f_to'), name: 'to',
		    type: 'datetime-local', step: 1,
		    value: q.get('to') || '' }),
	};
}

export function limitField(q) {
	return field({ label: t('f_limit'), name: 'limit', type: 'select',
	    value: q.get('limit') || '50', options: [['25', '25'],
	    ['50', '50'], ['100', '100'], ['200', '200']] });
}

/* The query of a search form's fields; times with their seconds. */
export function queryOf(fields) {
	const p = new URLSearchParams();
	Object.keys(fields).forEach(function (k) {
		let v = fields[k].input.value.trim();
		if (k === 'from' || k === 'to')
			v = localTime(v);
		if (v)
			p.set(k, v);
	});
	return p;
}

/* A search form: its fields in a grid, an error box, then actions. */
export function searchForm(id, fields, err, actions) {
	return h('form', { class: 'card filters', id: id, role: 'search',
	    'aria-label': t('search_label'), novalidate: true },
	    h('div', { class: 'grid' }, Object.keys(fields).map(
	    function (k) { return fields[k]; })), err,
	    h('div', { class: 'actions' }, actions));
}

/* An error paragraph in place of what could not be loaded. */
export function errorLine(text) {
	return h('p', { class: 'error', role: 'alert', text: text });
}
