/*
 * view-login.mjs: the sign-in screen (#/login): username, password and
 * one-time code, with the allowed hours from GET /api/hours.
 */
import { adoptMe, api, go, homeRoute, loadHours, signInErr,
    stale } from './core.mjs';
import { badge, errorBox, field, h, otpField, showError } from './dom.mjs';
import { state } from './state.mjs';
import { t } from './text.mjs';
import { isOtp } from './validate.mjs';

function hoursLine(box) {
	box.textContent = '';
	const hr = state.hours;
	if (!hr)
		return;
	box.append(h('span', { text: t('hours_line', { hours: hr.hours,
	    tz: hr.timezone }) }), ' ',
	    hr.open ? badge(t('hours_open'), 'ok') :
	    badge(t('hours_closed'), 'bad'));
}

export function viewLogin(main, arg, seq) {
	const hoursBox = h('p', { class: 'hours', id: 'login-hours' });
	const user = field({ label: t('username'), name: 'username',
	    id: 'login-username', autocomplete: 'username',
	    required: true, spellcheck: 'false',
	    autocapitalize: 'none', value: state.loginName });
	const pass = field({ label: t('password'), name: 'password',
	    id: 'login-password', type: 'password',
	    autocomplete: 'current-password', required: true });
	const otp = otpField({ id: 'login-otp' });
	const err = errorBox('login-error');
	const submit = h('button', { type: 'submit', id: 'login-submit',
	    class: 'btn primary', text: t('login_submit') });
	const form = h('form', { class: 'card narrow', id: 'login-form',
	    novalidate: true }, user, pass, otp, err,
	    h('div', { class: 'actions' }, submit));
	(state.loginName ? pass : user).input.setAttribute('data-autofocus',
	    '');
	main.append(h('h1', { text: t('login_title') }), hoursBox, form,
	    h('p', { class: 'aside' }, h('a', { href: '#/enrol',
	    id: 'enrol-link', text: t('enrol_link') })));
	hoursLine(hoursBox);
	loadHours().then(function () {
		if (!stale(seq))
			hoursLine(hoursBox);
	});

	form.addEventListener('submit', async function (ev) {
		ev.preventDefault();
		showError(err, null);
		const body = { username: user.input.value.trim(),
		    password: pass.input.value,
		    otp: otp.input.value.trim() };
		if (!body.username || !body.password || !body.otp) {
			showError(err, t('err_fill_all'));
			return;
		}
		if (!isOtp(body.otp)) {
			showError(err, t('err_otp_format'));
			otp.input.focus();
			return;
		}
		submit.disabled = true;
		submit.textContent = t('working');
		const r = await api('POST', '/api/login', body);
		submit.disabled = false;
		submit.textContent = t('login_submit');
		/* Neither factor stays in the page, whatever the answer. */
		otp.input.value = '';
		pass.input.value = '';
		if (r.status === 200 && r.data) {
			state.loginName = '';
			adoptMe(r.data);
			go(r.data.must_change_password ? 'password' :
			    homeRoute(), true);
			return;
		}
		showError(err, signInErr(r, 'err_invalid_credentials'));
		if (r.error === 'outside_hours')
			loadHours().then(function () {
				if (!stale(seq))
					hoursLine(hoursBox);
			});
		pass.input.focus();
	});
}
