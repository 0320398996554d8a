/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_check.c - mobileidctl check: the configuration (syntax,
 * permissions), the network path to the API and token hosts (DNS, TCP,
 * TLS, proxy), the credentials (a token), the API permissions (a harmless
 * read), DQE and VerifID when they are in use.  One line per check with
 * the reason and the fix; non-zero exit status when any check fails.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "admin.h"
#include "ctl.h"
#include "dqe.h"
#include "http.h"
#include "util.h"
#include "verifid.h"

int cmd_check(struct ctl_ctx *ctx, int argc, char **argv);

enum status { ST_PASS, ST_FAIL, ST_SKIP };

struct report {
	struct ctl_ctx *ctx;
	json_object *checks;
	int passed, failed, skipped;
};

static void line(struct report *rp, enum status st, const char *name, const char *trace_id,
                 const char *fix, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void line(struct report *rp, enum status st, const char *name, const char *trace_id,
                 const char *fix, const char *fmt, ...)
{
	static const char *const tags[] = { "PASS", "FAIL", "SKIP" };
	static const char *const words[] = { "pass", "fail", "skip" };
	char detail[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (st == ST_PASS)
		rp->passed++;
	else if (st == ST_FAIL)
		rp->failed++;
	else
		rp->skipped++;
	if (rp->ctx->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "status", json_object_new_string(words[st]));
		json_object_object_add(o, "detail", json_object_new_string(detail));
		json_object_object_add(o, "fix", ctl_json_str(st == ST_FAIL ? fix : NULL));
		json_object_object_add(o, "traceId", ctl_json_str(trace_id));
		json_object_array_add(rp->checks, o);
		return;
	}
	/* Trace ids for failures only: they are for the vendor's support. */
	if (st != ST_FAIL)
		trace_id = NULL;
	ctl_out(rp->ctx, "%s  %-16s %s%s%s%s\n", tags[st], name, detail,
	        trace_id && *trace_id ? " (trace id " : "", trace_id && *trace_id ? trace_id : "",
	        trace_id && *trace_id ? ")" : "");
	if (st == ST_FAIL && fix && *fix)
		ctl_out(rp->ctx, "      %-16s fix: %s\n", "", fix);
}

/* ---- directories ---------------------------------------------------------------- */

static void check_dir(struct report *rp, const char *name, const char *key, const char *dir)
{
	char fix[600];
	struct stat st;

	if (!dir || !*dir) {
		line(rp, ST_SKIP, name, NULL, NULL, "%s is \"\": disabled", key);
		return;
	}
	snprintf(fix, sizeof(fix), "make %s a directory owned by the account the modules run as "
	         "(root for PAM, freerad for RADIUS), mode 0700: chmod 0700 %s", dir, dir);
	if (lstat(dir, &st) != 0) {
		if (errno == ENOENT)
			line(rp, ST_PASS, name, NULL, NULL, "%s: missing; the modules create it (0700) on "
			     "first use", dir);
		else
			line(rp, ST_FAIL, name, NULL, fix, "%s: %s: %s", key, dir, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		line(rp, ST_FAIL, name, NULL, fix, "%s: %s is not a directory%s", key, dir,
		     S_ISLNK(st.st_mode) ? " (a symbolic link)" : "");
		return;
	}
	/* The modules refuse a directory others can write to (cache.c). */
	if (st.st_mode & 0022) {
		line(rp, ST_FAIL, name, NULL, fix, "%s: %s is writable by group or others (mode %04o)",
		     key, dir, (unsigned)(st.st_mode & 07777));
		return;
	}
	if (st.st_uid != geteuid())
		line(rp, ST_PASS, name, NULL, NULL, "%s: owned by uid %u, mode %04o: usable only by "
		     "modules running as that uid", dir, (unsigned)st.st_uid,
		     (unsigned)(st.st_mode & 07777));
	else
		line(rp, ST_PASS, name, NULL, NULL, "%s: owned by us, mode %04o", dir,
		     (unsigned)(st.st_mode & 07777));
}

/* ---- DNS ------------------------------------------------------------------------- */

/* Resolve host within timeout_ms (getaddrinfo_a: getaddrinfo has no
 * timeout).  0 with the first address in addr, or -1 with a reason. */
static int resolve(const char *host, long timeout_ms, char *addr, size_t addrlen,
                   char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	/* On a timeout the lookup may still run: its control block must stay
	 * valid, so it is never freed (a short-lived process). */
	struct gaicb *cb = calloc(1, sizeof(*cb));
	struct gaicb *list[1];
	struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };
	int rc;

	if (!cb || !(cb->ar_name = strdup(host))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	list[0] = cb;
	/* hints must outlive a lookup that times out, too. */
	{
		struct addrinfo *h = malloc(sizeof(hints));

		if (!h) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		*h = hints;
		cb->ar_request = h;
	}
	rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (rc != 0) {
		snprintf(why, whylen, "%s", gai_strerror(rc));
		return -1;
	}
	do {
		rc = gai_suspend((const struct gaicb *const *)list, 1, &ts);
	} while (rc == EAI_INTR && !ctl_interrupted());
	if (rc == EAI_AGAIN || rc == EAI_INTR) {
		gai_cancel(cb);
		snprintf(why, whylen, rc == EAI_AGAIN ? "no answer within %ld ms" : "interrupted",
		         timeout_ms);
		return -1;
	}
	rc = gai_error(cb);
	if (rc == EAI_INPROGRESS) {
		snprintf(why, whylen, "no answer within %ld ms", timeout_ms);
		return -1;
	}
	if (rc != 0)
		snprintf(why, whylen, "%s", gai_strerror(rc));
	else if (getnameinfo(cb->ar_result->ai_addr, cb->ar_result->ai_addrlen, addr,
	                     (socklen_t)addrlen, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(addr, addrlen, "?");
	if (cb->ar_result)
		freeaddrinfo(cb->ar_result);
	free((void *)cb->ar_request);
	free((char *)cb->ar_name);
	free(cb);
	return rc == 0 ? 0 : -1;
}

static int check_dns(struct report *rp, const char *name, const char *key, const char *host,
                     long timeout_ms)
{
	char addr[128], why[300], fix[400];

	if (resolve(host, timeout_ms, addr, sizeof(addr), why, sizeof(why)) == 0) {
		line(rp, ST_PASS, name, NULL, NULL, "%s resolves to %s", host, addr);
		return 0;
	}
	snprintf(fix, sizeof(fix), "check /etc/resolv.conf and the name in %s; the host must "
	         "resolve on this machine", key);
	line(rp, ST_FAIL, name, NULL, fix, "cannot resolve %s (%s): %s", host, key, why);
	return -1;
}

/* ---- HTTPS ------------------------------------------------------------------------ */

static const char *https_fix(const mid_config *cfg, mid_http_status hs, const char *key,
                             char *buf, size_t len)
{
	int proxy = cfg->http_proxy && *cfg->http_proxy;

	switch (hs) {
	case MID_HTTP_ERR_DNS:
		snprintf(buf, len, proxy ? "check the proxy name in [signicat] http_proxy"
		                         : "check the host name in %s and the DNS setup", key);
		break;
	case MID_HTTP_ERR_CONNECT:
		snprintf(buf, len, proxy ? "check [signicat] http_proxy (host, port, and that the "
		         "proxy allows CONNECT to this host)" : "a firewall may block outgoing "
		         "HTTPS: allow this host and port, or set [signicat] http_proxy");
		break;
	case MID_HTTP_ERR_TLS:
		snprintf(buf, len, "the server certificate must chain to %s and name the host of %s%s",
		         cfg->ca_file && *cfg->ca_file ? "[signicat] ca_file" : "the system CA store "
		         "(or set [signicat] ca_file)", key,
		         proxy ? "; a TLS-intercepting proxy needs its CA in ca_file" : "");
		break;
	case MID_HTTP_ERR_TIMEOUT:
		snprintf(buf, len, "packets may be dropped by a firewall%s; or raise [signicat] "
		         "connect_timeout / request_timeout", proxy ? " or the proxy" : "");
		break;
	default:
		snprintf(buf, len, "check %s", key);
		break;
	}
	return buf;
}

/* One GET on url: any HTTP answer proves DNS, TCP, proxy and TLS. */
static int check_https(struct report *rp, const mid_config *cfg, const char *name,
                       const char *key, const char *url)
{
	mid_http *h = mid_http_new_from_config(cfg, ctl_aborted, NULL);
	mid_http_response resp = { 0 };
	mid_http_status hs;
	char fix[500];
	int rc = -1;

	if (!h) {
		line(rp, ST_FAIL, name, NULL, NULL, "cannot set up the HTTPS client");
		return -1;
	}
	hs = mid_http_request(h, "GET", url, NULL, NULL, NULL, 0, &resp);
	if (hs == MID_HTTP_OK) {
		line(rp, ST_PASS, name, resp.trace_id, NULL, "%s: TLS verified%s%s, HTTP %ld in %ld ms",
		     url, cfg->http_proxy && *cfg->http_proxy ? " through the proxy " : "",
		     cfg->http_proxy && *cfg->http_proxy ? cfg->http_proxy : "", resp.status,
		     resp.elapsed_ms);
		rc = 0;
	} else {
		line(rp, ST_FAIL, name, resp.trace_id, https_fix(cfg, hs, key, fix, sizeof(fix)),
		     "%s (%s): %s", url, key, resp.error);
	}
	mid_http_response_free(&resp);
	mid_http_free(h);
	return rc;
}

/* DNS (of the proxy when there is one) and HTTPS for url.  0 when reachable. */
static int check_host(struct report *rp, const mid_config *cfg, const char *what,
                      const char *key, const char *url)
{
	char host[300], name[40];
	int port;

	if (mid_url_host_port(url, host, sizeof(host), &port) != 0) {
		snprintf(name, sizeof(name), "%s url", what);
		line(rp, ST_FAIL, name, NULL, "write an https:// URL", "%s: cannot parse '%s'", key, url);
		return -1;
	}
	snprintf(name, sizeof(name), "%s dns", what);
	if (cfg->http_proxy && *cfg->http_proxy) {
		line(rp, ST_SKIP, name, NULL, NULL, "%s is resolved by the proxy", host);
	} else if (check_dns(rp, name, key, host, cfg->connect_timeout_ms) != 0) {
		snprintf(name, sizeof(name), "%s https", what);
		line(rp, ST_SKIP, name, NULL, NULL, "not tried: %s does not resolve", host);
		return -1;
	}
	snprintf(name, sizeof(name), "%s https", what);
	return check_https(rp, cfg, name, key, url);
}

static int same_host(const char *a, const char *b)
{
	char ha[300], hb[300];
	int pa, pb;

	return mid_url_host_port(a, ha, sizeof(ha), &pa) == 0 &&
	       mid_url_host_port(b, hb, sizeof(hb), &pb) == 0 && !strcasecmp(ha, hb) && pa == pb;
}

/* ---- credentials and permissions ---------------------------------------------------- */

static int check_token(struct report *rp, mid_api *a)
{
	const char *fix;

	if (mid_api_token(a, 1, mid_now_ms() + a->cfg->request_timeout_ms) == 0) {
		line(rp, ST_PASS, "token", a->trace_id, NULL, "got an access token for client_id %s",
		     a->cfg->client_id);
		return 0;
	}
	fix = a->fail == MID_CONFIG_ERROR
		? "check [signicat] client_id and client_secret (or client_secret_file): they must "
		  "be the API client's credentials from the Signicat dashboard"
		: "check [signicat] token_url; if the service is down, try again later";
	line(rp, ST_FAIL, "token", a->trace_id, fix, "%s", a->error);
	return -1;
}

static void check_permissions(struct report *rp, mid_api *a)
{
	char ref[64], code[17], uid[MID_ID_MAX];
	int rc;

	if (mid_random_code(code, 9) != 0 || mid_random_code(code + 9, 7) != 0)
		snprintf(code, sizeof(code), "%lld", (long long)mid_wall_ms());
	snprintf(ref, sizeof(ref), "mobileidctl-check-%s", code);
	rc = mid_admin_resolve(a, ref, uid, mid_now_ms() + a->cfg->request_timeout_ms);
	if (rc >= 0) {
		line(rp, ST_PASS, "permissions", a->trace_id, NULL, "the API client may read users "
		     "(resolve of a random externalRef answered %s)", rc ? "a user" : "404 as it should");
		return;
	}
	if (a->status == 403)
		line(rp, ST_FAIL, "permissions", a->trace_id, "grant the API client the MobileID "
		     "permissions (users, devices, registrations and authentications: read and write) "
		     "in the Signicat dashboard", "%s", a->error);
	else
		line(rp, ST_FAIL, "permissions", a->trace_id, a->fail == MID_CONFIG_ERROR
		     ? "check [signicat] client_id and client_secret" : "check [signicat] api_url "
		     "(it must end in /mobileid/core or the path Signicat gave you)", "%s", a->error);
}

/* ---- DQE and VerifID ------------------------------------------------------------------ */

static void check_dqe(struct report *rp, const mid_config *cfg)
{
	mid_dqe *d;
	mid_result r;

	if (!cfg->dqe_enabled) {
		line(rp, ST_SKIP, "dqe token", NULL, NULL, "[dqe] enabled = no");
		return;
	}
	if (!(d = mid_dqe_new(cfg, ctl_aborted, NULL))) {
		line(rp, ST_FAIL, "dqe token", NULL, NULL, "cannot set up the DQE client");
		return;
	}
	r = mid_dqe_token_check(d, 1, mid_now_ms() + cfg->dqe_timeout_ms);
	if (r == MID_APPROVED)
		line(rp, ST_PASS, "dqe token", mid_dqe_trace_id(d), NULL, "got a DQE token from %s",
		     cfg->dqe_server);
	else
		line(rp, ST_FAIL, "dqe token", mid_dqe_trace_id(d), r == MID_CONFIG_ERROR
		     ? "check [dqe] licence and secret (or secret_file) with DQE"
		     : "check [dqe] server and the network path to it; [dqe] on_error decides what "
		       "logins do meanwhile", "%s: %s", mid_result_name(r), mid_dqe_error(d));
	mid_dqe_free(d);
}

static void check_verifid(struct report *rp, const mid_config *cfg)
{
	char err[600];
	int used = cfg->unenrolled == MID_UNENROLLED_ENROLL;

	if (!used && !(cfg->verifid_api_token && *cfg->verifid_api_token) &&
	    !(cfg->verifid_api_token_file && *cfg->verifid_api_token_file)) {
		line(rp, ST_SKIP, "verifid", NULL, NULL, "[auth] unenrolled is not enroll and no "
		     "[verifid] api_token");
		return;
	}
	if (mid_verifid_check_config(cfg, err, sizeof(err)) != 0) {
		line(rp, ST_FAIL, "verifid", NULL, "set the [verifid] keys the message names "
		     "(see mobileid.conf(5))", "%s", err);
		return;
	}
	if (used && (!cfg->cache_dir || !*cfg->cache_dir)) {
		line(rp, ST_FAIL, "verifid", NULL, "set [signicat] cache_dir (the per-user link rate "
		     "limit is kept there)", "unenrolled = enroll needs [signicat] cache_dir");
		return;
	}
	line(rp, ST_PASS, "verifid", NULL, NULL, "profile %s, API token readable (it is only "
	     "tried by a real enrollment: mobileidctl enroll-link LOGIN)", cfg->verifid_profile);
	check_host(rp, cfg, "verifid", "[verifid] url", cfg->verifid_url);
}

/* ---- the command ---------------------------------------------------------------------- */

int cmd_check(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct report rp = { .ctx = ctx };
	char err[1024];
	mid_config *cfg;
	mid_api a;
	int api_ok, rc;

	if (argc > 1)
		return ctl_usage(ctx, "check", "check: no arguments expected");
	if (ctx->json)
		rp.checks = json_object_new_array();

	/* The configuration: mid_config_load's message verbatim. */
	cfg = mid_config_load(ctx->config_path, 0, err, sizeof(err));
	if (cfg && mid_config_finish(cfg, err, sizeof(err)) != 0) {
		mid_config_free(cfg);
		cfg = NULL;
	}
	if (!cfg) {
		line(&rp, ST_FAIL, "config", NULL, "correct what the message names (file, line, key); "
		     "the file must be a regular file owned by root, mode 0600", "%s", err);
		line(&rp, ST_SKIP, "network", NULL, NULL, "not checked without a configuration");
		rc = CTL_EXIT_CONFIG;
		goto report;
	}
	ctx->cfg = cfg;
	if (ctx->verbose >= 2)
		cfg->debug = 1;
	line(&rp, ST_PASS, "config", NULL, NULL, "%s: syntax, values and permissions OK",
	     ctx->config_path);
	check_dir(&rp, "cache_dir", "[signicat] cache_dir", cfg->cache_dir);
	check_dir(&rp, "state_dir", "[auth] state_dir", cfg->state_dir);

	api_ok = check_host(&rp, cfg, "api", "[signicat] api_url", cfg->api_url) == 0;
	if (same_host(cfg->api_url, cfg->token_url))
		line(&rp, api_ok ? ST_PASS : ST_SKIP, "token https", NULL, NULL,
		     "token_url is on the same host and port as api_url");
	else
		api_ok &= check_host(&rp, cfg, "token", "[signicat] token_url", cfg->token_url) == 0;

	if ((rc = ctl_api_open(ctx, &a)) != CTL_EXIT_OK)
		goto report;
	mid_api_forget_token();
	if (!api_ok) {
		line(&rp, ST_SKIP, "token", NULL, NULL, "not tried: the hosts are not reachable");
		line(&rp, ST_SKIP, "permissions", NULL, NULL, "not tried: the hosts are not reachable");
	} else if (check_token(&rp, &a) != 0) {
		line(&rp, ST_SKIP, "permissions", NULL, NULL, "not tried without a token");
	} else {
		check_permissions(&rp, &a);
	}
	mid_api_cleanup(&a);
	check_dqe(&rp, cfg);
	check_verifid(&rp, cfg);
	rc = rp.failed ? CTL_EXIT_FAIL : CTL_EXIT_OK;
	if (ctl_interrupted())
		rc = CTL_EXIT_INTERRUPTED;
report:
	if (ctx->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "ok", json_object_new_boolean(rp.failed == 0 &&
		                                                        rc == CTL_EXIT_OK));
		json_object_object_add(o, "config", json_object_new_string(ctx->config_path));
		json_object_object_add(o, "passed", json_object_new_int(rp.passed));
		json_object_object_add(o, "failed", json_object_new_int(rp.failed));
		json_object_object_add(o, "skipped", json_object_new_int(rp.skipped));
		json_object_object_add(o, "checks", rp.checks);
		ctl_json_print(ctx, o);
	} else {
		ctl_out(ctx, "\n%d passed, %d failed, %d skipped\n", rp.passed, rp.failed, rp.skipped);
	}
	if (rc == CTL_EXIT_OK && rp.failed)
		rc = CTL_EXIT_FAIL;
	return rc;
}
