/*
 * view-password.mjs: the password change (#/password), forced after a
 * reset or at first use; the session gets a new token from the answer.
 */
import { api, errText, go, homeRoute, reasonText,
    sessionRenewed } from './core.mjs';
import { errorBox, field, h, newPasswordFields, otpField,
    passwordRefused, showError } from './dom.mjs';
import { state } from './state.mjs';
import { t } from './text.mjs';
import { isOtp } from './validate.mjs';

export function viewPassword(main) {
	const forced = state.me.must_change_password;
	const cur = field({ label: t('current_password'),
	    name: 'current_password', id: 'pw-current',
	    type: 'password', autocomplete: 'current-password',
	    required: true });
	cur.input.setAttribute('data-autofocus', '');
	const otp = otpField({ id: 'pw-otp' });
	const [np, np2] = newPasswordFields('new_password', 'pw-new');
	const err = errorBox('pw-error');
	const submit = h('button', { type: 'submit', id: 'pw-submit',
	    class: 'btn primary', text: t('pw_submit') });
	const form = h('form', { class: 'card narrow', novalidate: true },
	    cur, otp, np, np2, err, h('div', { class: 'actions' },
	    submit));
	main.append(h('h1', { text: t('pw_title') }));
	if (forced)
		main.append(h('p', { class: 'notice warn', id: 'pw-forced',
		    text: t('pw_forced') }));
	main.append(form);
	form.addEventListener('submit', async function (ev) {
		ev.preventDefault();
		showError(err, null);
		const v = np.input.value;
		if (!cur.input.value || !isOtp(otp.input.value)) {
			showError(err, t('err_fill_all'));
			return;
		}
		if (passwordRefused(err, np, np2))
			return;
		submit.disabled = true;
		const r = await api('POST', '/api/password', {
		    current_password: cur.input.value,
		    otp: otp.input.value.trim(), new_password: v });
		submit.disabled = false;
		otp.input.value = '';
		cur.input.value = '';
		np.input.value = '';
		np2.input.value = '';
		if (r.status === 200) {
			sessionRenewed(r.data);
			state.notice = { kind: 'ok', text: t('pw_done') };
			go(homeRoute(), true);
			return;
		}
		if (r.status === 401)
			showError(err, t('err_invalid_credentials'));
		else if (r.error === 'password_rejected')
			showError(err, reasonText(r));
		else
			showError(err, errText(r));
	});
}
