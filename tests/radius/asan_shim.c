/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * asan_shim.c - test helper for the sanitizer run (scripts/sanitize-check):
 * tests/radius/freeradius.py LD_PRELOADs it into freeradius, ahead of the
 * ASan runtime, when rlm_mobileid is built with ASan.  The packaged server
 * (FreeRADIUS 3.2.1, Debian 12) is not instrumented, and three things
 * stand in the way:
 *
 * 1. FreeRADIUS loads modules with RTLD_DEEPBIND unless it is itself built
 *    with ASan (src/main/modules.c, fr_dlopenext: "#if defined(RTLD_DEEPBIND)
 *    && !defined(__SANITIZE_ADDRESS__)").  ASan refuses a deep-bound dlopen
 *    (it would bind an uninstrumented module's malloc/free to libc's), so
 *    dlopen() here drops the flag, as an ASan build of the server does and
 *    as pam_wrapper's PAM_WRAPPER_DISABLE_DEEPBIND does for pamtester.
 *
 * 2. A preloaded runtime initialises itself on the first call it intercepts.
 *    In freeradius that is the malloc() inside libgpg-error's constructor's
 *    bindtextdomain(), which holds glibc's _nl_state_lock; ASan's
 *    initialisation then calls dlerror(), which takes the same lock, and
 *    the lock is left corrupted: the server hangs in the next
 *    bindtextdomain() (gnutls's constructor, when the module is loaded).
 *    Linked with -z initfirst, this library's constructor runs before every
 *    other one and initialises ASan first, outside any lock.
 *
 * 3. The server leaks memory of its own, which LeakSanitizer must not
 *    report, and a suppression cannot single it out: the server and
 *    libtalloc have no frame pointers, so ASan's (fast) unwinder stops in
 *    talloc, where a leak of any origin looks the same (the slow unwinder
 *    would name the frames, but costs so much on every malloc that 200
 *    concurrent TLS handshakes miss test_radius's timeouts).  Its leaks
 *    come from the main thread: while it parses its configuration (with a
 *    global client, client_list_parse_section() replaces the list
 *    client_add() made, "if (global) root_clients = clients" in
 *    src/main/client.c, and client_list_init()'s first list is lost), and
 *    in its event loop (a request still in progress or waiting out
 *    cleanup_delay when the server stops is never freed: the talloc pool
 *    the listener made for it, the contexts request_alloc() made).  The
 *    module's code runs in the worker threads (requests) and, in the main
 *    thread, only while the server loads, instantiates and detaches
 *    modules.  So LeakSanitizer ignores what the main thread allocates
 *    before the server loads its first module (rlm_*) and inside
 *    fr_event_loop(); everything else stays checked.  Not inside the event
 *    loop with -X or -s: requests are then processed in it.
 *
 * The server unloads its modules before LeakSanitizer looks, at exit, so
 * the module's frames in a leak report show as "<unknown module>".  With
 * MOBILEID_ASAN_KEEP_MODULES=1 in the environment dlclose() does nothing
 * and they are named, for finding a leak (not for the CI run: memory only
 * the module's static data points to then counts as reachable).
 *
 * Not installed.  Without the ASan runtime it only drops RTLD_DEEPBIND.
 */
#include "config.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void __asan_init(void) __attribute__((weak));
void __lsan_disable(void) __attribute__((weak));
void __lsan_enable(void) __attribute__((weak));
void *dlopen(const char *file, int mode);
int dlclose(void *handle);
int fr_event_loop(void *el);

static int lsan;		/* LeakSanitizer is there */
static int startup;	/* and off for the server's start-up */
static int threaded = 1;	/* no -X or -s: requests run in worker threads */

/* glibc passes a constructor the program's arguments. */
__attribute__((constructor)) static void asan_shim_init(int argc, char **argv, char **envp)
{
	int i;

	(void)envp;
	for (i = 1; i < argc && argv; i++)
		if (argv[i][0] == '-' && argv[i][1] != '-' &&
		    (strchr(argv[i], 'X') || strchr(argv[i], 's')))
			threaded = 0;
	if (__asan_init)
		__asan_init();
	if (__lsan_disable && __lsan_enable) {
		lsan = 1;
		__lsan_disable();
		startup = 1;
	}
}

void *dlopen(const char *file, int mode)
{
	void *(*real)(const char *, int);

	if (startup && file) {
		const char *base = strrchr(file, '/');

		if (strncmp(base ? base + 1 : file, "rlm_", 4) == 0) {
			startup = 0;
			__lsan_enable();
		}
	}
	*(void **)&real = dlsym(RTLD_NEXT, "dlopen");
	if (!real)
		return NULL;
	return real(file, mode & ~RTLD_DEEPBIND);
}

int fr_event_loop(void *el)
{
	int (*real)(void *);
	int rc;

	*(void **)&real = dlsym(RTLD_NEXT, "fr_event_loop");
	if (!real)
		return -1;
	if (lsan && threaded)
		__lsan_disable();
	rc = real(el);
	if (lsan && threaded)
		__lsan_enable();
	return rc;
}

int dlclose(void *handle)
{
	int (*real)(void *);
	const char *keep = getenv("MOBILEID_ASAN_KEEP_MODULES");

	if (keep && strcmp(keep, "1") == 0)
		return 0;
	*(void **)&real = dlsym(RTLD_NEXT, "dlclose");
	if (!real)
		return -1;
	return real(handle);
}
