/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * token_cache.c - a bearer token in memory and in a root-only cache file
 * (token_cache.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <json-c/json.h>

#include "cache.h"
#include "json_util.h"
#include "token_cache.h"
#include "util.h"

void mid_token_cache_forget(mid_token_cache *c)
{
	pthread_mutex_lock(&c->lock);
	mid_free_secret(c->token);
	c->token = NULL;
	c->key[0] = '\0';
	pthread_mutex_unlock(&c->lock);
}

void mid_token_key(char key[17], int n, ...)
{
	mid_buf b = { 0 };
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		mid_buf_printf(&b, "%s%s", i ? "\n" : "", va_arg(ap, const char *));
	va_end(ap);
	mid_hash_hex(b.data ? b.data : "", key);
	mid_buf_free(&b);
}

/* One mid_token_get() call. */
struct call {
	const mid_token_service *svc;
	const char *key;
	const char *cache_dir;
	void *ctx;
};

static void tlog(const struct call *t, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void tlog(const struct call *t, int priority, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!t->svc->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	t->svc->log(t->ctx, priority, line);
}

/* Take the token from memory (the cache locked by the caller). */
static int from_memory(const struct call *t, int64_t now, char **token)
{
	const mid_token_cache *c = t->svc->cache;

	if (!c->token || strcmp(c->key, t->key) != 0 || c->expires_ms <= now)
		return -1;
	mid_free_secret(*token);
	*token = strdup(c->token);
	return *token ? 0 : -1;
}

static void to_memory(const struct call *t, const char *token, int64_t expires_ms)
{
	mid_token_cache *c = t->svc->cache;

	mid_free_secret(c->token);
	c->token = strdup(token);
	snprintf(c->key, sizeof(c->key), "%s", t->key);
	c->expires_ms = expires_ms;
}

static int from_file(const struct call *t, const char *name, int64_t now,
                     int64_t *expires_ms, char **token)
{
	mid_buf b = { 0 };
	char err[512];
	json_object *obj = NULL, *v;
	int rc = -1;

	if (mid_cache_read(t->cache_dir, name, &b, err, sizeof(err)) != 0) {
		if (err[0])
			tlog(t, LOG_WARNING, "%s ignored: %s", t->svc->cache_name, err);
		goto out;
	}
	obj = json_tokener_parse(b.data);
	if (!obj || !json_object_object_get_ex(obj, "expires_ms", &v) ||
	    (*expires_ms = json_object_get_int64(v)) <= now ||
	    !json_object_object_get_ex(obj, "access_token", &v) ||
	    !json_object_is_type(v, json_type_string) || !*json_object_get_string(v))
		goto out;
	mid_free_secret(*token);
	*token = strdup(json_object_get_string(v));
	rc = *token ? 0 : -1;
out:
	mid_json_wipe_member(obj, "access_token");
	json_object_put(obj);
	mid_buf_free(&b);   /* wipes */
	return rc;
}

static void to_file(const struct call *t, const char *name, const char *token,
                    int64_t expires_ms)
{
	json_object *obj = json_object_new_object();
	const char *text;
	char err[512];

	if (!obj)
		return;
	json_object_object_add(obj, "access_token", json_object_new_string(token));
	json_object_object_add(obj, "expires_ms", json_object_new_int64(expires_ms));
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	if (text && mid_cache_write(t->cache_dir, name, text, strlen(text), err,
	                            sizeof(err)) != 0)
		tlog(t, LOG_WARNING, "cannot write the %s: %s", t->svc->cache_name, err);
	/* The printed text and the tree hold copies of the token. */
	if (text)
		mid_wipe((char *)text, strlen(text));
	mid_json_wipe_member(obj, "access_token");
	json_object_put(obj);
}

int mid_token_get(const mid_token_service *svc, const char *key, const char *cache_dir,
                  void *ctx, int force, int64_t deadline_ms, char **token)
{
	const struct call t = { .svc = svc, .key = key, .cache_dir = cache_dir, .ctx = ctx };
	mid_token_cache *c = svc->cache;
	int file = cache_dir && *cache_dir;
	char name[64];
	int64_t now = mid_wall_ms(), expires_ms;
	long expires_in = 0;
	int rc = 0;

	snprintf(name, sizeof(name), "%s%s.json", svc->file_prefix, key);
	pthread_mutex_lock(&c->lock);
	if (force) {
		/* Another thread may have refreshed since our token was refused. */
		if (c->token && *token && strcmp(c->token, *token) != 0 &&
		    from_memory(&t, now, token) == 0)
			goto out;
		mid_free_secret(c->token);
		c->token = NULL;
		if (file)
			mid_cache_remove(cache_dir, name);
	} else if (from_memory(&t, now, token) == 0) {
		goto out;
	} else if (file && from_file(&t, name, now, &expires_ms, token) == 0) {
		to_memory(&t, *token, expires_ms);
		tlog(&t, LOG_DEBUG, "%s taken from the cache file", svc->token_name);
		goto out;
	}
	if ((rc = svc->fetch(ctx, deadline_ms, &expires_in)) != 0)
		goto out;
	/* Renew shortly before expiry: a quarter of the lifetime, at most 60 s. */
	expires_ms = now + expires_in * 1000 - (expires_in * 250 < 60000 ? expires_in * 250 : 60000);
	to_memory(&t, *token, expires_ms);
	if (file)
		to_file(&t, name, *token, expires_ms);
	tlog(&t, LOG_DEBUG, "new %s, lifetime %lds", svc->token_name, expires_in);
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}
