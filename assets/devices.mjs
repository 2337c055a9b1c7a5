/*
 * devices.mjs: what the trusted devices screen derives from GET
 * /api/devices (pure: tests/js/devices.test.mjs).
 *   deviceOrder(list)      this browser first, then the most recently
 *                          used, then the newest
 *   deviceBadges(d, now)   the badges of a device: [text key, kind]
 */

function lastUse(d) {
	return d.last_used_at || d.created_at || 0;
}

/* A sorted copy; the list itself is left as it came. */
export function deviceOrder(list) {
	return list.slice().sort(function (a, b) {
		if (a.current !== b.current)
			return a.current ? -1 : 1;
		if (lastUse(a) !== lastUse(b))
			return lastUse(b) - lastUse(a);
		return b.id - a.id;
	});
}

/*
 * This browser, locked (until locked_until: its own sign-ins failed
 * too often), or simply trusted.
 */
export function deviceBadges(d, now) {
	const out = [];
	if (d.current)
		out.push(['dev_this_browser', 'ok dev-current']);
	if (d.locked_until && d.locked_until > now)
		out.push(['dev_locked', 'bad dev-locked']);
	if (!out.length)
		out.push(['dev_trusted', 'ok']);
	return out;
}
