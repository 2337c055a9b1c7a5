/*
 * sitecheck.h: payconsole-admin check-config, a site checked before it
 * is started (issue 17, part 4).
 *
 * Not pure (libpq, the file system), not Kore: linked into the admin
 * CLI only. Each problem is one line "file:line: message" on out, line
 * 0 for a problem with a whole file, as the policy parser reports.
 */
#ifndef PC_SITECHECK_H
#define PC_SITECHECK_H

#include <stdio.h>

/*
 * Check the site directory site: policy.conf with the server's parser
 * and its allowlist, the key files it names, site.conf's users and
 * directories, the TLS certificate against its key, and the database:
 * reachable, with every migration in migrations applied unchanged.
 * Returns the number of problems written to out.
 */
int	pc_sitecheck_run(const char *site, const char *migrations, FILE *out);

#endif
