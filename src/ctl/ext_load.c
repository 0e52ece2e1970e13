/* SPDX-License-Identifier: BSD-3-Clause */
/* Opening third-party extensions (control thread); see ext_load.h. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ext_load.h"
#include "ext_order.h"

int
xvs_ext_open(const char *path, const struct xvs_ext_desc **desc, void **dl, struct xvs_err *err)
{
	xvs_ext_register_fn *reg;
	const struct xvs_ext_desc *d;
	struct xvs_err e;
	const char *why;
	struct stat sb;
	uint32_t ops_size;
	void *h;
	int r;

	if (stat(path, &sb) < 0) {
		int e = errno;

		return xvs_err_set(err, e == ENOENT ? -ENOENT : -ENOEXEC, "extension %s: %s", path,
				   strerror(e));
	}
	if (!S_ISREG(sb.st_mode))
		return xvs_err_set(err, -ENOEXEC, "extension %s: not a regular file", path);
	/* code xvsd will run: nobody but its owner may have changed it */
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		return xvs_err_set(err, -EPERM, "extension %s: writable by group or others "
				   "(mode %03o); chmod go-w it", path, sb.st_mode & 0777);
	dlerror();
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		why = dlerror();
		return xvs_err_set(err, -ENOEXEC, "extension %s: cannot load: %s", path,
				   why != NULL ? why : "dlopen failed");
	}
	/* POSIX: the cast from void * to a function pointer is how dlsym works */
	reg = (xvs_ext_register_fn *)dlsym(h, XVS_EXT_REGISTER_SYMBOL);
	if (reg == NULL) {
		r = xvs_err_set(err, -ENOEXEC,
				"extension %s: no symbol %s(): not an xvs extension (see "
				"doc/extensions.md)", path, XVS_EXT_REGISTER_SYMBOL);
		goto close;
	}
	d = reg(XVS_EXT_ABI_VERSION);
	if (d == NULL) {
		r = xvs_err_set(err, -EPROTO,
				"extension %s: %s(%u) returned no descriptor: it does not support "
				"xvs extension ABI version %u", path, XVS_EXT_REGISTER_SYMBOL,
				XVS_EXT_ABI_VERSION, XVS_EXT_ABI_VERSION);
		goto close;
	}
	/* abi_version and size are the first fields of every version; ops is
	 * where this ABI puts it only when the version is ours */
	ops_size = d->abi_version == XVS_EXT_ABI_VERSION && d->size >= XVS_EXT_DESC_SIZE_V1 &&
			   d->ops != NULL ? d->ops->size : 0;
	if (d->abi_version == XVS_EXT_ABI_VERSION &&
	    (d->size > XVS_EXT_STRUCT_MAX || ops_size > XVS_EXT_STRUCT_MAX)) {
		r = xvs_err_set(err, -EPROTO,
				"extension %s: descriptor size %u or ops size %u above %u bytes: "
				"not a descriptor of this ABI", path, d->size, ops_size,
				XVS_EXT_STRUCT_MAX);
		goto close;
	}
	r = xvs_ext_desc_check(d, &e);
	if (r < 0) {
		xvs_err_set(err, r, "extension %s: %s", path, e.msg);
		goto close;
	}
	*desc = d;
	*dl = h;
	return 0;
close:
	dlclose(h);
	return r;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
xvs_ext_dir_scan(const char *dir, int (*fn)(const char *path, void *arg), void *arg,
		 struct xvs_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (d == NULL)
		return xvs_err_set(err, -errno, "extension directory %s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0 || e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **more = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*names));

			if (more == NULL) {
				r = xvs_err_set(err, -ENOMEM,
						"extension directory %s: out of memory", dir);
				goto out;
			}
			names = more;
		}
		if (asprintf(&names[n], "%s/%s", dir, e->d_name) < 0) {
			r = xvs_err_set(err, -ENOMEM, "extension directory %s: out of memory", dir);
			goto out;
		}
		n++;
	}
	/* name order: the registration order, and so the default stage order,
	 * does not depend on the file system's */
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && r == 0; i++)
		if (fn(names[i], arg) != 0)
			break;
	r = (int)n;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}
