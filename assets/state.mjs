/*
 * state.mjs: what the page knows about its session, in memory only, and
 * the server's clock. One object, shared by every module.
 */

const LANG_KEY = 'pc_lang';

export const state = {
	lang: localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'ja',
	me: null,		/* /api/me body while signed in */
	csrf: null,
	tag: null,		/* sessionTag() of the signed-in session */
	skew: 0,		/* server clock - local clock, seconds */
	idleSecs: 900,
	idleExpires: 0,
	hours: null,		/* /api/hours, for the login page */
	notice: null,		/* {kind, text} shown once on the next view */
	loginName: '',
	/* A request's notice or a code half, in memory only, for one
	 * screen: see keepOnce(). */
	oneTime: null,
	/* First sign-in between its two steps: the name, both code
	 * halves, the QR code and URI; forgotten with the screen. */
	firstSignIn: null,
	ending: false,
};

/* The language switch; kept in localStorage. */
export function setLang(lang) {
	state.lang = lang;
	localStorage.setItem(LANG_KEY, lang);
}

/* The server's time, in seconds. */
export function now() {
	return Date.now() / 1000 + state.skew;
}
