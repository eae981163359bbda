// SPDX-License-Identifier: BSD-2-Clause
// Fuzz target for crispd's SDP parser (daemon/sdp.h), the first thing the
// RTP gate does with a file an operator (or whoever wrote it) hands over:
// any bytes. Accepted SDPs must name a port in 1..65535, at least one
// payload type, and rewrite to one NUL-terminated text for FFmpeg that
// names the loopback port; refused ones leave one line naming the file.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char out[70000];
    char err[512] = "";
    uint8_t pts[128] = {0};
    struct sdp_info si;
    memset(out, 'x', sizeof(out));
    int r = sdp_rewrite("fuzz.sdp", (const char *)data, size, 40000, pts, &si, out, sizeof(out), err,
                        sizeof(err));
    if (r < 0) {
        if (strncmp(err, "SDP fuzz.sdp", 12) || strchr(err, '\n'))
            abort(); /* one line naming the file */
        return 0;
    }
    int npt = 0;
    for (int i = 0; i < 128; i++)
        npt += pts[i];
    if (si.port < 1 || si.port > 65535 || !npt || !memchr(out, 0, sizeof(out)) ||
        !strstr(out, "m=video 40000 RTP/AVP") || !strstr(out, "c=IN IP4 127.0.0.1"))
        abort();
    return 0;
}
