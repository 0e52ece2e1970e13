/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The extension ABI across dlopen: shared objects built from ext_sample.c
 * against <xvs/xvs_ext.h> alone are loaded, their xvs_ext_register() called
 * and the descriptor checked with xvs_ext_desc_check(), as xvsd's loader will
 * do. A current object is accepted and its process() runs on a burst; one
 * built for ABI version 2, and one from a "newer header" that sets an unknown
 * field, are refused with their messages. Then xvsd's own loader
 * (src/ctl/ext_load.c, then the registry of src/dp/pipeline.c) on objects
 * that must each be refused with one message naming the file and the reason:
 * a missing entry point, a NULL descriptor, a size that lies, a bad name,
 * a failing init, an ordering cycle between two objects; nothing of a refused
 * one stays registered.
 */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ext_load.h"
#include "ext_order.h"
#include "pipeline.h"

static const struct xvs_ext_desc *
load(const char *file, void **handle)
{
	char path[512];
	xvs_ext_register_fn *reg;

	snprintf(path, sizeof(path), "%s/%s", EXT_SAMPLE_DIR, file);
	*handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (*handle == NULL)
		fail_msg("dlopen %s: %s", path, dlerror());
	reg = (xvs_ext_register_fn *)dlsym(*handle, XVS_EXT_REGISTER_SYMBOL);
	assert_non_null(reg);
	return reg(XVS_EXT_ABI_VERSION);
}

static void
test_ext_load_current_abi(void **state)
{
	const struct xvs_ext_desc *d;
	struct xvs_pkt_meta meta[2] = {{.l3 = 4}, {.l3 = 6}};
	struct xvs_pkt_meta *mp[2] = {&meta[0], &meta[1]};
	uint8_t f0[64] = {0}, f1[40] = {0};
	uint8_t *data[2] = {f0, f1};
	uint32_t len[2] = {64, 40};
	uint8_t verdict[2] = {0}, reason[2] = {0};
	uint64_t counters[2] = {0};
	struct xvs_ext_burst b = {
		.size = sizeof(struct xvs_ext_burst), .data = data, .len = len, .meta = mp, .n = 2, .place = XVS_EXT_INGRESS,
		.counters = counters,
	};
	struct xvs_err err;
	void *h;

	(void)state;
	d = load("libext_sample.so", &h);
	assert_int_equal(xvs_ext_desc_check(d, &err), 0);
	assert_string_equal(d->name, "sample");
	assert_string_equal(d->drop_reasons[0], "runt");
	d->ops->process(NULL, &b, verdict, reason);
	assert_int_equal(verdict[0], XVS_VERDICT_PASS);
	assert_int_equal(verdict[1], XVS_VERDICT_DROP);
	assert_int_equal(reason[1], 0);
	assert_int_equal(counters[0], 1);
	assert_int_equal(counters[1], 1);
	dlclose(h);
}

static void
test_ext_load_wrong_abi_refused(void **state)
{
	const struct xvs_ext_desc *d;
	struct xvs_err err;
	void *h;

	(void)state;
	d = load("libext_sample_abi2.so", &h);
	assert_int_equal(xvs_ext_desc_check(d, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "ABI version 2, xvsd supports 1"));
	dlclose(h);

	d = load("libext_sample_tail.so", &h);
	assert_int_equal(xvs_ext_desc_check(d, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "extension 'sample': descriptor of"));
	assert_non_null(strstr(err.msg, "upgrade xvsd"));
	dlclose(h);
}

static void
path_of(const char *file, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", EXT_SAMPLE_DIR, file);
}

/* xvs_ext_open refuses file with code, and the message names the file and
 * contains why. */
static void
open_refused(const char *file, int code, const char *why)
{
	const struct xvs_ext_desc *d = NULL;
	struct xvs_err err;
	char path[512];
	void *dl = NULL;

	path_of(file, path, sizeof(path));
	xvs_err_clear(&err);
	assert_int_equal(xvs_ext_open(path, &d, &dl, &err), code);
	assert_null(dl);
	if (strstr(err.msg, path) == NULL || strstr(err.msg, why) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", file, err.msg, why);
}

static void
test_ext_load_open_refusals(void **state)
{
	(void)state;
	open_refused("libext_sample_nosym.so", -ENOEXEC, "no symbol xvs_ext_register()");
	open_refused("libext_sample_null.so", -EPROTO, "returned no descriptor");
	open_refused("libext_sample_abi2.so", -EPROTO, "ABI version 2, xvsd supports 1");
	open_refused("libext_sample_tail.so", -EPROTO, "upgrade xvsd");
	open_refused("libext_sample_huge.so", -EPROTO, "above 4096 bytes");
	open_refused("libext_sample_badname.so", -EINVAL, "Bad-Name");
	open_refused("libext_no_such_file.so", -ENOENT, "No such file");
}

static void
test_ext_load_refuses_writable_object(void **state)
{
	const struct xvs_ext_desc *d;
	char src[512], dst[] = "/tmp/xvs_ext_test_XXXXXX";
	struct xvs_err err;
	FILE *in, *out;
	void *dl = NULL;
	char buf[4096];
	size_t k;
	int fd;

	(void)state;
	path_of("libext_sample.so", src, sizeof(src));
	fd = mkstemp(dst);
	assert_true(fd >= 0);
	in = fopen(src, "rb");
	out = fdopen(fd, "wb");
	assert_non_null(in);
	assert_non_null(out);
	while ((k = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, k, out), k);
	fclose(in);
	fclose(out);
	chmod(dst, 0666);
	assert_int_equal(xvs_ext_open(dst, &d, &dl, &err), -EPERM);
	assert_non_null(strstr(err.msg, "writable by group or others"));
	chmod(dst, 0644);
	assert_int_equal(xvs_ext_open(dst, &d, &dl, &err), 0);
	dlclose(dl);
	unlink(dst);
}

/* Open and register as xvsd does (cmd_ext.c); returns the registry's code. */
static int
open_register(const char *file, struct xvs_err *err)
{
	const struct xvs_ext_desc *d;
	char path[512];
	void *dl;
	int r;

	path_of(file, path, sizeof(path));
	r = xvs_ext_open(path, &d, &dl, err);
	assert_int_equal(r, 0);
	r = xvs_stage_register(d, dl, path, err);
	if (r < 0)
		dlclose(dl);
	return r;
}

static void
test_ext_load_register_refusals(void **state)
{
	struct xvs_err err;

	(void)state;
	assert_int_equal(open_register("libext_sample.so", &err), 0);
	assert_non_null(xvs_stage_find("sample"));
	/* the same extension twice */
	assert_int_equal(open_register("libext_sample.so", &err), -EEXIST);
	assert_non_null(strstr(err.msg, "already registered"));
	/* init fails: not registered, and its object closed */
	assert_int_equal(open_register("libext_sample_initfail.so", &err), -EIO);
	assert_non_null(strstr(err.msg, "init failed"));
	assert_null(xvs_stage_find("initfail"));
	/* cycle_a runs before cycle_b, which runs before cycle_a */
	assert_int_equal(open_register("libext_cycle_a.so", &err), 0);
	assert_int_equal(open_register("libext_cycle_b.so", &err), -ELOOP);
	assert_non_null(strstr(err.msg, "cycle"));
	assert_null(xvs_stage_find("cycle_b"));
	assert_int_equal(xvs_stage_count(), 2);
	/* an operator constraint, taken back spelled the other way round */
	assert_int_equal(xvs_stage_order_add("cycle_a", false, "sample", &err), 0);
	assert_int_equal(xvs_stage_order_del("sample", true, "cycle_a", &err), 0);
	assert_int_equal(xvs_stage_order_del("sample", true, "cycle_a", &err), -ENOENT);
	assert_int_equal(xvs_stage_order_add("cycle_a", true, "sample", &err), 0);
	xvs_stage_registry_clear();
	assert_int_equal(xvs_stage_count(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ext_load_current_abi),
		cmocka_unit_test(test_ext_load_wrong_abi_refused),
		cmocka_unit_test(test_ext_load_open_refusals),
		cmocka_unit_test(test_ext_load_refuses_writable_object),
		cmocka_unit_test(test_ext_load_register_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
