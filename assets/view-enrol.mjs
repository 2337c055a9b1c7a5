/*
 * view-enrol.mjs: first sign-in (#/enrol), public: the two halves of the
 * enrolment code and a new password, then the QR code of the new device
 * (rebuilt from the server's SVG, nothing of it imported) and its first
 * code.
 */
import { api, go, loadHours, render, signInErr, stale } from './core.mjs';
import { SVGNS, btn, errorBox, field, h, newPasswordFields, otpField,
    passwordRefused, showError, toast } from './dom.mjs';
import { enrolCode } from './pure.mjs';
import { state } from './state.mjs';
import { t } from './text.mjs';
import { isOtp } from './validate.mjs';

/*
 * First sign-in (POST /api/enrolment/begin, then /finish): the
 * person brings the two halves of their enrolment code, one from
 * the requester of their account and one from its approver, chooses
 * a password, registers the QR code shown here and confirms the
 * first code. Between the two steps the halves stay in memory
 * (state.firstSignIn), forgotten when this screen is left.
 */
export function viewEnrol(main, arg, seq) {
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
	const [np, np2] = newPasswordFields('password', 'enrol-password');
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
		const code1 = enrolCode(c1.input.value);
		const code2 = enrolCode(c2.input.value);
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
		if (passwordRefused(err, np, np2))
			return;
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
	return signInErr(r, 'err_enrol_credentials');
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
		if (!isOtp(code)) {
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
