// SPDX-License-Identifier: BSD-2-Clause
// Error codes shared by every crisp library and program.
#ifndef CRISP_ERROR_H
#define CRISP_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#define CRISP_API __attribute__((visibility("default")))

/* Fallible functions return 0 on success, -errno for system conditions and one
 * of these project codes (all below -4096) otherwise. */
enum {
    CRISP_EBADFILE = -4097, /* malformed file: bad magic, truncated, out-of-range field */
    CRISP_EVERSION = -4098, /* well-formed file of a version this build does not read */
    CRISP_EMODEL = -4099,   /* model description inconsistent (shapes, layer order) */
    CRISP_EDNNL = -4100,    /* oneDNN refused or failed; original status logged where it occurred */
    CRISP_EAV = -4101,      /* FFmpeg refused or failed; original code logged where it occurred */
    CRISP_ECHECKSUM = -4102,/* checksum mismatch */
    CRISP_EUSAGE = -4103,   /* invalid parameters from the caller */
    CRISP_EFORMAT = -4104,  /* unsupported pixel format, image size or colour mode */
};

/* Text for a crisp error code (project or -errno). Never NULL; thread-safe. */
CRISP_API const char *crisp_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
