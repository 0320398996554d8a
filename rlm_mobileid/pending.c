/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pending.c - the pushes in progress of one module instance, found by join
 * key (retransmissions, re-sent requests) and by State (challenge mode),
 * and a pool of idle library handles.
 *
 * Every function that touches a push expects inst->lock to be held.
 * Pushes are allocated with calloc(), not talloc: they are shared between
 * request threads, and talloc contexts are not thread-safe.
 */
#include "rlm_mobileid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "util.h"

static int key_cmp(void const *one, void const *two)
{
	mobileid_push_t const *a = one, *b = two;

	return strcmp(a->key, b->key);
}

static int state_cmp(void const *one, void const *two)
{
	mobileid_push_t const *a = one, *b = two;

	return memcmp(a->state, b->state, sizeof(a->state));
}

int mobileid_pending_init(rlm_mobileid_t *inst)
{
	pthread_condattr_t attr;

	if (pthread_mutex_init(&inst->lock, NULL) != 0) return -1;
	inst->lock_init = true;
	if (pthread_mutex_init(&inst->pool_lock, NULL) != 0) return -1;
	inst->pool_init = true;

	inst->by_key = rbtree_create(NULL, key_cmp, NULL, RBTREE_FLAG_NONE);
	inst->by_state = rbtree_create(NULL, state_cmp, NULL, RBTREE_FLAG_NONE);
	if (!inst->by_key || !inst->by_state) return -1;

	inst->idle = calloc(inst->idle_handles ? inst->idle_handles : 1, sizeof(*inst->idle));
	if (!inst->idle) return -1;

	/* Check once that condition variables can use the monotonic clock. */
	if (pthread_condattr_init(&attr) != 0) return -1;
	if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0) {
		pthread_condattr_destroy(&attr);
		return -1;
	}
	pthread_condattr_destroy(&attr);
	return 0;
}

static void push_free(mobileid_push_t *push)
{
	pthread_cond_destroy(&push->cond);
	mid_handle_free(push->handle);	/* a challenge nobody answered */
	free(push->key);
	free(push->user);
	free(push->message);
	free(push->external_ref);
	free(push->error);
	free(push);
}

void mobileid_pending_free(rlm_mobileid_t *inst)
{
	mobileid_push_t *push, *next;

	/*
	 *	Called from detach: no request thread runs any more.
	 */
	for (push = inst->oldest; push; push = next) {
		next = push->next;
		push_free(push);
	}
	inst->oldest = inst->newest = NULL;
	if (inst->by_key) rbtree_free(inst->by_key);
	if (inst->by_state) rbtree_free(inst->by_state);
	inst->by_key = inst->by_state = NULL;

	if (inst->idle) {
		for (uint32_t i = 0; i < inst->idle_count; i++) mid_handle_free(inst->idle[i]);
		free(inst->idle);
		inst->idle = NULL;
		inst->idle_count = 0;
	}
	if (inst->pool_init) pthread_mutex_destroy(&inst->pool_lock);
	if (inst->lock_init) pthread_mutex_destroy(&inst->lock);
	inst->pool_init = inst->lock_init = false;
}

mobileid_push_t *mobileid_push_by_key(rlm_mobileid_t *inst, char const *key)
{
	mobileid_push_t my_push = { .key = (char *) key }, *push;

	push = rbtree_finddata(inst->by_key, &my_push);
	if (push) push->refs++;
	return push;
}

mobileid_push_t *mobileid_push_by_state(rlm_mobileid_t *inst, uint8_t const *state, size_t len)
{
	mobileid_push_t my_push, *push;

	if (len != MOBILEID_STATE_LEN) return NULL;
	memcpy(my_push.state, state, MOBILEID_STATE_LEN);
	push = rbtree_finddata(inst->by_state, &my_push);
	if (push) push->refs++;
	return push;
}

static void age_append(rlm_mobileid_t *inst, mobileid_push_t *push)
{
	push->prev = inst->newest;
	push->next = NULL;
	if (inst->newest) inst->newest->next = push;
	else inst->oldest = push;
	inst->newest = push;
	inst->count++;
}

static void age_remove(rlm_mobileid_t *inst, mobileid_push_t *push)
{
	if (push->prev) push->prev->next = push->next;
	else inst->oldest = push->next;
	if (push->next) push->next->prev = push->prev;
	else inst->newest = push->prev;
	push->prev = push->next = NULL;
	inst->count--;
}

mobileid_push_t *mobileid_push_create(rlm_mobileid_t *inst, char const *key,
				      char const *user, char const *client)
{
	mobileid_push_t *push;
	pthread_condattr_t attr;

	mobileid_pending_expire(inst, mid_now_ms());
	if (inst->count >= inst->max_pending) return NULL;

	push = calloc(1, sizeof(*push));
	if (!push) return NULL;
	push->key = strdup(key);
	push->user = strdup(user);
	if (!push->key || !push->user) {
		free(push->key);
		free(push->user);
		free(push);
		return NULL;
	}
	snprintf(push->client, sizeof(push->client), "%s", client);

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_cond_init(&push->cond, &attr) != 0) {
		pthread_condattr_destroy(&attr);
		free(push->key);
		free(push->user);
		free(push);
		return NULL;
	}
	pthread_condattr_destroy(&attr);

	push->status = PUSH_STARTING;
	push->polling = true;	/* the creator starts it */
	push->created_ms = mid_now_ms();
	push->deadline_ms = push->created_ms + inst->cfg->push_timeout_ms;

	if (!rbtree_insert(inst->by_key, push)) {
		push_free(push);
		return NULL;
	}
	push->in_key_tree = true;
	push->refs = 2;		/* the key tree and the caller */
	age_append(inst, push);
	return push;
}

int mobileid_push_link_state(rlm_mobileid_t *inst, mobileid_push_t *push)
{
	int tries;

	for (tries = 0; tries < 4; tries++) {
		size_t got = 0;

		while (got < sizeof(push->state)) {
			ssize_t n = getrandom(push->state + got, sizeof(push->state) - got, 0);

			if (n < 0) {
				if (errno == EINTR) continue;
				return -1;
			}
			got += (size_t) n;
		}
		if (rbtree_insert(inst->by_state, push)) {
			push->in_state_tree = true;
			push->refs++;
			return 0;
		}
		/* 128 random bits collided: try again, but not forever. */
	}
	return -1;
}

void mobileid_push_unlink(rlm_mobileid_t *inst, mobileid_push_t *push)
{
	bool linked = push->in_key_tree || push->in_state_tree;

	if (push->in_key_tree) {
		rbtree_deletebydata(inst->by_key, push);
		push->in_key_tree = false;
		push->refs--;
	}
	if (push->in_state_tree) {
		rbtree_deletebydata(inst->by_state, push);
		push->in_state_tree = false;
		push->refs--;
	}
	if (linked) age_remove(inst, push);
	if (push->refs <= 0) push_free(push);
}

void mobileid_push_release(rlm_mobileid_t *inst, mobileid_push_t *push)
{
	(void) inst;
	if (--push->refs <= 0) push_free(push);
}

void mobileid_pending_expire(rlm_mobileid_t *inst, int64_t now_ms)
{
	mobileid_push_t *push, *next;

	/*
	 *	Pushes are appended in creation order and all have the
	 *	same lifetime, so the expired ones are at the front.  Only
	 *	challenge-mode pushes nobody asked for again end up here:
	 *	every other push is unlinked by the request that finishes it.
	 */
	for (push = inst->oldest; push; push = next) {
		int tree_refs = push->in_key_tree + push->in_state_tree;

		next = push->next;
		if (push->deadline_ms + 1000 > now_ms) break;
		if (push->refs > tree_refs) continue;	/* a request still uses it */
		mobileid_push_unlink(inst, push);
	}
}

void mobileid_push_wait_cond(rlm_mobileid_t *inst, mobileid_push_t *push, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	push->waiters++;
	pthread_cond_timedwait(&push->cond, &inst->lock, &ts);
	push->waiters--;
}

mid_handle *mobileid_handle_get(rlm_mobileid_t *inst)
{
	mid_handle *h = NULL;

	pthread_mutex_lock(&inst->pool_lock);
	if (inst->idle_count > 0) h = inst->idle[--inst->idle_count];
	pthread_mutex_unlock(&inst->pool_lock);

	return h ? h : mid_handle_new(inst->cfg);
}

void mobileid_handle_put(rlm_mobileid_t *inst, mid_handle *h)
{
	if (!h) return;

	pthread_mutex_lock(&inst->pool_lock);
	if (inst->idle_count < inst->idle_handles) {
		inst->idle[inst->idle_count++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&inst->pool_lock);

	mid_handle_free(h);	/* the pool is full */
}
