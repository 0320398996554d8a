/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rlm_mobileid.h - shared between the files of the FreeRADIUS module.
 *
 * Compiled with the FreeRADIUS headers force-included (build.h, autoconf.h,
 * features.h, radpaths.h): do not include the project's config.h here, its
 * PACKAGE_* macros clash with FreeRADIUS' autoconf.h.
 */
#ifndef RLM_MOBILEID_H
#define RLM_MOBILEID_H

#include <freeradius/radiusd.h>
#include <freeradius/modules.h>

#include <pthread.h>
#include <stdint.h>

#include "mobileid.h"

#define MOBILEID_STATE_LEN 16          /* octets of our State attribute */
#define MOBILEID_KEY_MAX 1024          /* bytes of an expanded join key */

/*
 * One push, shared by every request that waits for it: the request that
 * started it, retransmissions and re-sent requests from the same NAS for
 * the same user (same join key), and in challenge mode the follow-up
 * request carrying our State.
 *
 * All fields after "immutable" are protected by the instance lock.
 */
typedef enum mobileid_push_status {
	PUSH_STARTING = 0,   /* the starting request talks to the API */
	PUSH_PENDING,        /* on the phone; transaction id and code known */
	PUSH_DONE            /* result known */
} mobileid_push_status_t;

typedef struct mobileid_push mobileid_push_t;
struct mobileid_push {
	/* immutable after creation */
	char			*key;          /* user, client and join key */
	char			*user;         /* the login name (sanitised) */
	char			client[64];    /* RADIUS client address */

	/* protected by inst->lock */
	mobileid_push_status_t	status;
	bool			polling;       /* a request thread polls the API */
	bool			in_key_tree;
	bool			in_state_tree;
	int			waiters;       /* threads waiting on cond */
	int			refs;          /* trees + threads holding it */
	uint8_t			state[MOBILEID_STATE_LEN];
	char			transaction_id[128];
	char			code[16];
	char			*message;      /* what the user sees */
	char			*external_ref;
	int64_t			created_ms;
	int64_t			deadline_ms;   /* mid_now_ms() clock */
	mid_result		result;
	char			*error;        /* reason of a failure, for log lines */
	char			trace_id[80];
	mid_handle		*handle;       /* challenge mode: started it, polls it */
	pthread_cond_t		cond;
	mobileid_push_t		*prev, *next;  /* age list, for expiry */
};

typedef struct rlm_mobileid_t {
	char const		*name;         /* instance name */
	int			auth_type;     /* Auth-Type value, 0 if none */

	/* module items */
	char const		*config_file;
	char const		*mode;
	bool			challenge;
	char const		*user_name;    /* xlat */
	char const		*join_key;     /* xlat */
	uint32_t		max_pending;
	uint32_t		answer_margin;
	uint32_t		idle_handles;

	mid_config		*cfg;          /* read-only after instantiate */

	/* pushes in progress */
	pthread_mutex_t		lock;
	bool			lock_init;
	rbtree_t		*by_key;
	rbtree_t		*by_state;
	mobileid_push_t		*oldest, *newest;
	uint32_t		count;

	/* idle library handles (each keeps its HTTPS connection) */
	pthread_mutex_t		pool_lock;
	bool			pool_init;
	mid_handle		**idle;
	uint32_t		idle_count;
} rlm_mobileid_t;

/* pending.c */
int mobileid_pending_init(rlm_mobileid_t *inst);
void mobileid_pending_free(rlm_mobileid_t *inst);

/* Look a push up and take a reference (inst->lock held). */
mobileid_push_t *mobileid_push_by_key(rlm_mobileid_t *inst, char const *key);
mobileid_push_t *mobileid_push_by_state(rlm_mobileid_t *inst, uint8_t const *state, size_t len);

/* A new push in PUSH_STARTING with a reference for the caller, linked by
 * key (inst->lock held).  NULL when max_pending is reached or on OOM. */
mobileid_push_t *mobileid_push_create(rlm_mobileid_t *inst, char const *key,
				      char const *user, char const *client);

/* Give the push a State and link it by State (inst->lock held). */
int mobileid_push_link_state(rlm_mobileid_t *inst, mobileid_push_t *push);

/* Unlink from both trees (inst->lock held): later requests start afresh. */
void mobileid_push_unlink(rlm_mobileid_t *inst, mobileid_push_t *push);

/* Drop the caller's reference (inst->lock held). */
void mobileid_push_release(rlm_mobileid_t *inst, mobileid_push_t *push);

/* Unlink pushes whose deadline has passed and nobody uses (inst->lock held). */
void mobileid_pending_expire(rlm_mobileid_t *inst, int64_t now_ms);

/* Wait on the push's condition for at most ms (inst->lock held). */
void mobileid_push_wait_cond(rlm_mobileid_t *inst, mobileid_push_t *push, long ms);

/* Library handles, reused across requests. */
mid_handle *mobileid_handle_get(rlm_mobileid_t *inst);
void mobileid_handle_put(rlm_mobileid_t *inst, mid_handle *h);

#endif
