// SPDX-License-Identifier: BSD-2-Clause
#include <string.h>

#include "crisp/error.h"

const char *crisp_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case CRISP_EBADFILE: return "malformed file";
    case CRISP_EVERSION: return "unsupported file version";
    case CRISP_EMODEL: return "inconsistent model description";
    case CRISP_EDNNL: return "oneDNN error";
    case CRISP_EAV: return "FFmpeg error";
    case CRISP_ECHECKSUM: return "checksum mismatch";
    case CRISP_EUSAGE: return "invalid argument";
    case CRISP_EFORMAT: return "unsupported format or size";
    default: break;
    }
    if (err < 0 && err > -4096) {
        /* strerror() of glibc returns static strings for known codes */
        return strerror(-err);
    }
    return "unknown error";
}
