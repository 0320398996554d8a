/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * token_cache.h - the process-wide cache of a bearer token, shared by the
 * Signicat client (api.c) and DQE (dqe.c): in memory, and in a root-only
 * file under cache_dir (cache.c: 0600, owner and type checked on every
 * read, replaced atomically) so that short-lived processes such as one
 * sshd child per login share one token.  Each service keeps its own
 * mid_token_cache; an entry is keyed by a hash of the endpoint and the
 * client, so that a changed configuration never uses another one's token.
 *
 * The file is {"access_token":"...","expires_ms":<wall clock ms>}, named
 * <file_prefix><key>.json.  Tokens are wiped when they are dropped.
 *
 * Internal to common/libmobileid.la.
 */
#ifndef MID_TOKEN_CACHE_H
#define MID_TOKEN_CACHE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mid_token_cache {
	pthread_mutex_t lock;
	char key[17];           /* of the cached token */
	char *token;
	int64_t expires_ms;     /* wall clock, already less a safety margin */
} mid_token_cache;

#define MID_TOKEN_CACHE_INIT { .lock = PTHREAD_MUTEX_INITIALIZER }

/* Drop (and wipe) the token in memory. */
void mid_token_cache_forget(mid_token_cache *c);

/* The key of an endpoint and a client: the hash of the n strings joined
 * by newlines (a NULL string counts as "(null)"). */
void mid_token_key(char key[17], int n, ...);

/* What a service's tokens are, for mid_token_get(). */
typedef struct mid_token_service {
	mid_token_cache *cache;
	const char *file_prefix;    /* the cache file is <file_prefix><key>.json */
	const char *token_name;     /* for log lines, e.g. "access token" */
	const char *cache_name;     /* for log lines, e.g. "token cache" */
	/* Fetch a new token into *token (the one given to mid_token_get);
	 * 0 with *expires_in (seconds) set, or non-zero: the failure. */
	int (*fetch)(void *ctx, int64_t deadline_ms, long *expires_in);
	/* Where log lines go (syslog priorities, LOG_DEBUG included). */
	void (*log)(void *ctx, int priority, const char *msg);
} mid_token_service;

/*
 * Make sure *token (the caller's copy, mid_free_secret'ed when replaced)
 * holds a usable token of svc for key (mid_token_key()): from memory,
 * else from the cache file under cache_dir (NULL or "": memory only),
 * else fetched (then kept in both until shortly before it expires).
 * force: the token in *token was refused; a different one that another
 * thread put in memory since is taken, otherwise both caches are dropped
 * and a new one is fetched.  Fetches are serialised by the cache's lock.
 * ctx goes to svc's callbacks.  0, or what fetch returned.
 */
int mid_token_get(const mid_token_service *svc, const char *key, const char *cache_dir,
                  void *ctx, int force, int64_t deadline_ms, char **token);

#endif
