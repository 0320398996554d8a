/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guard.c - one pending push per user, cooldown after denials.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cache.h"
#include "guard.h"
#include "util.h"

#define MAX_DENIALS_KEPT 64

struct state {
	int pending_pid;
	char pending_nonce[17];
	int64_t pending_until;
	int64_t cooldown_until;
	int ndenials;
	int64_t denials[MAX_DENIALS_KEPT];
};

static int guard_on(const mid_config *cfg)
{
	return cfg->state_dir && *cfg->state_dir;
}

/* Take the per-user lock; the fd is the lock. */
static int lock_user(const mid_config *cfg, const char *key, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s.lock", cfg->state_dir, key) >= (int)sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", cfg->state_dir);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 0077)) {
		snprintf(err, errlen, "%s: refused (must be a regular file of uid %u, mode 0600)",
		         path, (unsigned)geteuid());
		close(fd);
		return -1;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			snprintf(err, errlen, "%s: flock: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

static void load(const mid_config *cfg, const char *key, struct state *s)
{
	char name[40], err[256];
	mid_buf b = { 0 };
	json_object *obj, *v;

	memset(s, 0, sizeof(*s));
	snprintf(name, sizeof(name), "%s.json", key);
	if (mid_cache_read(cfg->state_dir, name, &b, err, sizeof(err)) != 0)
		goto out;
	obj = json_tokener_parse(b.data);
	if (!obj)
		goto out;   /* unreadable state counts as none */
	if (json_object_object_get_ex(obj, "pending_pid", &v))
		s->pending_pid = json_object_get_int(v);
	if (json_object_object_get_ex(obj, "pending_nonce", &v))
		snprintf(s->pending_nonce, sizeof(s->pending_nonce), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(obj, "pending_until", &v))
		s->pending_until = json_object_get_int64(v);
	if (json_object_object_get_ex(obj, "cooldown_until", &v))
		s->cooldown_until = json_object_get_int64(v);
	if (json_object_object_get_ex(obj, "denials", &v) && json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v) && s->ndenials < MAX_DENIALS_KEPT; i++)
			s->denials[s->ndenials++] = json_object_get_int64(json_object_array_get_idx(v, i));
	json_object_put(obj);
out:
	mid_buf_free(&b);
}

static int save(const mid_config *cfg, const char *key, const struct state *s,
                char *err, size_t errlen)
{
	json_object *obj = json_object_new_object(), *arr = json_object_new_array();
	char name[40];
	const char *text;
	int rc = -1;

	if (!obj || !arr) {
		json_object_put(obj);
		json_object_put(arr);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_object_object_add(obj, "pending_pid", json_object_new_int(s->pending_pid));
	json_object_object_add(obj, "pending_nonce", json_object_new_string(s->pending_nonce));
	json_object_object_add(obj, "pending_until", json_object_new_int64(s->pending_until));
	json_object_object_add(obj, "cooldown_until", json_object_new_int64(s->cooldown_until));
	for (int i = 0; i < s->ndenials; i++)
		json_object_array_add(arr, json_object_new_int64(s->denials[i]));
	json_object_object_add(obj, "denials", arr);
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	snprintf(name, sizeof(name), "%s.json", key);
	if (text)
		rc = mid_cache_write(cfg->state_dir, name, text, strlen(text), err, errlen);
	json_object_put(obj);
	return rc;
}

static int process_alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Forget denials older than the window. */
static void prune(struct state *s, int64_t now, long window_ms)
{
	int o = 0;

	for (int i = 0; i < s->ndenials; i++)
		if (s->denials[i] > now - window_ms)
			s->denials[o++] = s->denials[i];
	s->ndenials = o;
}

int mid_guard_begin(mid_guard *g, const mid_config *cfg, const char *user,
                    int64_t expires_wall_ms, mid_result *refused, char *err, size_t errlen)
{
	int64_t now = mid_wall_ms();
	struct state s;
	char dir_err[256];
	int fd, rc = 0;

	memset(g, 0, sizeof(*g));
	if (!guard_on(cfg))
		return 0;
	mid_hash_hex(user, g->key);
	/* The directory must exist and be ours (created 0700 if missing). */
	if (mid_cache_dir_check(cfg->state_dir, 1, dir_err, sizeof(dir_err)) != 0) {
		snprintf(err, errlen, "push guard state: %s", dir_err);
		g->key[0] = '\0';
		return -1;
	}
	fd = lock_user(cfg, g->key, err, errlen);
	if (fd < 0) {
		g->key[0] = '\0';
		return -1;
	}
	load(cfg, g->key, &s);
	prune(&s, now, cfg->denial_window_ms);
	if (s.cooldown_until > now) {
		*refused = MID_RATE_LIMITED;
		snprintf(err, errlen, "push refused: %d denials within %ld s, cooling down for "
		         "another %lld s", cfg->max_denials, cfg->denial_window_ms / 1000,
		         (long long)((s.cooldown_until - now + 999) / 1000));
		rc = 1;
	} else if (cfg->single_pending && s.pending_until > now && process_alive(s.pending_pid)) {
		*refused = MID_PUSH_PENDING;
		snprintf(err, errlen, "push refused: another push for this user is pending "
		         "(process %d, %lld s left)", s.pending_pid,
		         (long long)((s.pending_until - now + 999) / 1000));
		rc = 1;
	} else {
		if (mid_random_code(g->nonce, 9) != 0 || mid_random_code(g->nonce + 9, 7) != 0) {
			snprintf(err, errlen, "getrandom failed");
			rc = -1;
		} else {
			s.pending_pid = (int)getpid();
			snprintf(s.pending_nonce, sizeof(s.pending_nonce), "%s", g->nonce);
			s.pending_until = expires_wall_ms;
			if (save(cfg, g->key, &s, err, errlen) == 0)
				g->holding = 1;
			else
				rc = -1;
		}
	}
	close(fd);   /* releases the lock */
	if (rc != 0 && !g->holding)
		g->key[0] = '\0';
	return rc;
}

int mid_guard_end(mid_guard *g, const mid_config *cfg, mid_result r)
{
	int64_t now = mid_wall_ms();
	struct state s;
	char err[256];
	int fd, started = 0;

	if (!g->key[0] || !guard_on(cfg))
		return 0;
	fd = lock_user(cfg, g->key, err, sizeof(err));
	if (fd < 0)
		return 0;
	load(cfg, g->key, &s);
	prune(&s, now, cfg->denial_window_ms);
	if (g->holding && !strcmp(s.pending_nonce, g->nonce)) {
		s.pending_pid = 0;
		s.pending_nonce[0] = '\0';
		s.pending_until = 0;
	}
	if (r == MID_DENIED && cfg->max_denials > 0) {
		if (s.ndenials == MAX_DENIALS_KEPT) {
			memmove(s.denials, s.denials + 1, sizeof(s.denials[0]) * (MAX_DENIALS_KEPT - 1));
			s.ndenials--;
		}
		s.denials[s.ndenials++] = now;
		if (s.ndenials >= cfg->max_denials && s.cooldown_until <= now) {
			s.cooldown_until = now + cfg->cooldown_ms;
			s.ndenials = 0;
			started = 1;
		}
	}
	save(cfg, g->key, &s, err, sizeof(err));
	close(fd);
	g->holding = 0;
	g->key[0] = '\0';
	return started;
}
