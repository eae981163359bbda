// SPDX-License-Identifier: BSD-2-Clause
// The exception boundary between oneDNN (C++) and crisp (C): see
// dnnl_guard.h. The only C++ in crisp; it holds no state.
#include <new>

#include "dnnl_guard.h"

template <typename F> static dnnl_status_t guard(F f) noexcept
{
    try {
        return f();
    } catch (const std::bad_alloc &) {
        return dnnl_out_of_memory;
    } catch (...) {
        return dnnl_runtime_error;
    }
}

extern "C" {
dnnl_status_t crisp_guard_engine_create(dnnl_engine_t *e, dnnl_engine_kind_t k, size_t i)
{
    return guard([&] { return dnnl_engine_create(e, k, i); });
}

dnnl_status_t crisp_guard_stream_create(dnnl_stream_t *s, dnnl_engine_t e, unsigned flags)
{
    return guard([&] { return dnnl_stream_create(s, e, flags); });
}

dnnl_status_t crisp_guard_primitive_desc_create(dnnl_primitive_desc_t *pd, const_dnnl_op_desc_t d,
                                                const_dnnl_primitive_attr_t a, dnnl_engine_t e,
                                                const_dnnl_primitive_desc_t hint)
{
    return guard([&] { return dnnl_primitive_desc_create(pd, d, a, e, hint); });
}

dnnl_status_t crisp_guard_primitive_create(dnnl_primitive_t *p, const_dnnl_primitive_desc_t pd)
{
    return guard([&] { return dnnl_primitive_create(p, pd); });
}

dnnl_status_t crisp_guard_memory_create(dnnl_memory_t *m, const dnnl_memory_desc_t *md,
                                        dnnl_engine_t e, void *handle)
{
    return guard([&] { return dnnl_memory_create(m, md, e, handle); });
}

dnnl_status_t crisp_guard_primitive_execute(const_dnnl_primitive_t p, dnnl_stream_t s, int nargs,
                                            const dnnl_exec_arg_t *args)
{
    return guard([&] { return dnnl_primitive_execute(p, s, nargs, args); });
}
}
