/*
 * pure.h: forced into every pure object by the Makefile (-include). Pure
 * policy code is linked alone into the unit tests, the fuzz targets and
 * the admin CLI, so it must not see Kore: every Kore header defines
 * KORE_RESULT_OK, and a poisoned name stops the compile. Without this, a
 * pure file that included a Kore header quietly got Debian's unpatched
 * copy from /usr/include (refusals.c did, until it moved to APP_SRC).
 */
#pragma GCC poison KORE_RESULT_OK
