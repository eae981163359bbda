// SPDX-License-Identifier: BSD-2-Clause
// oneDNN's allocating C entry points, guarded (dnnl_guard.cc): oneDNN is C++
// and lets std::bad_alloc (and other exceptions) escape through its C API
// when memory runs out — under `ulimit -v` or a cgroup limit crispd then
// died in std::terminate. Included after <oneapi/dnnl/dnnl.h> by the files
// that call oneDNN, it routes those calls through wrappers that turn an
// exception into dnnl_out_of_memory (bad_alloc) or dnnl_runtime_error.
// Any thread; as thread-safe as the calls they wrap.
#ifndef CRISP_NN_DNNL_GUARD_H
#define CRISP_NN_DNNL_GUARD_H

#include <oneapi/dnnl/dnnl.h>

#ifdef __cplusplus
extern "C" {
#endif
dnnl_status_t crisp_guard_engine_create(dnnl_engine_t *e, dnnl_engine_kind_t k, size_t i);
dnnl_status_t crisp_guard_stream_create(dnnl_stream_t *s, dnnl_engine_t e, unsigned flags);
dnnl_status_t crisp_guard_primitive_desc_create(dnnl_primitive_desc_t *pd, const_dnnl_op_desc_t d,
                                                const_dnnl_primitive_attr_t a, dnnl_engine_t e,
                                                const_dnnl_primitive_desc_t hint);
dnnl_status_t crisp_guard_primitive_create(dnnl_primitive_t *p, const_dnnl_primitive_desc_t pd);
dnnl_status_t crisp_guard_memory_create(dnnl_memory_t *m, const dnnl_memory_desc_t *md,
                                        dnnl_engine_t e, void *handle);
dnnl_status_t crisp_guard_primitive_execute(const_dnnl_primitive_t p, dnnl_stream_t s, int nargs,
                                            const dnnl_exec_arg_t *args);
#ifdef __cplusplus
}
#else
#define dnnl_engine_create crisp_guard_engine_create
#define dnnl_stream_create crisp_guard_stream_create
#define dnnl_primitive_desc_create crisp_guard_primitive_desc_create
#define dnnl_primitive_create crisp_guard_primitive_create
#define dnnl_memory_create crisp_guard_memory_create
#define dnnl_primitive_execute crisp_guard_primitive_execute
#endif

#endif
