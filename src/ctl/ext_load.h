/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Opening third-party extensions (control thread, no DPDK): dlopen a shared
 * object, find its entry point, ask it for its descriptor and check that
 * descriptor (include/xvs/xvs_ext.h, xvs_ext_desc_check) before anything else
 * of it is used. Registering it in the pipeline is the caller's next step
 * (cmd_ext.c); this part is kept apart so the unit tests run every refusal on
 * real shared objects without a datapath.
 *
 * What cannot be contained: the object's constructors and xvs_ext_register()
 * run inside xvsd, so an object that crashes or hangs there takes xvsd with
 * it. Everything the loader can check without running the object's code
 * afterwards (version, sizes, names, ops) it checks here.
 */
#ifndef XVS_EXT_LOAD_H
#define XVS_EXT_LOAD_H

#include <xvs/xvs_ext.h>

#include "xvs_err.h"

/* A descriptor or ops table claiming to be larger than this is refused
 * before its tail is read: the tail check reads every byte up to the
 * claimed size, and a size that lies would read past the object. */
#define XVS_EXT_STRUCT_MAX 4096u

/* Open path (RTLD_NOW | RTLD_LOCAL: every symbol resolved now, none leaking
 * into other extensions), call its XVS_EXT_REGISTER_SYMBOL with
 * XVS_EXT_ABI_VERSION and check the descriptor. Returns 0 with *desc and *dl
 * (the caller dlclose()s dl when done), or a negative errno with a message
 * that starts with path: -ENOENT (no such file), -EPERM (the file is writable
 * by group or others), -ENOEXEC (dlopen failed, or no entry point), -EPROTO (NULL descriptor, ABI version or size), -EINVAL
 * (names, kind, places, ops); nothing stays open then. */
int xvs_ext_open(const char *path, const struct xvs_ext_desc **desc, void **dl,
		 struct xvs_err *err);

/* The "*.so" files of dir, sorted by name, as full paths: calls fn for each
 * (fn returns 0 to go on). Returns how many it passed, or a negative errno
 * with a message when dir cannot be read. */
int xvs_ext_dir_scan(const char *dir, int (*fn)(const char *path, void *arg), void *arg,
		     struct xvs_err *err);

#endif /* XVS_EXT_LOAD_H */
