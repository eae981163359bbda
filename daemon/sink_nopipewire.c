// SPDX-License-Identifier: BSD-2-Clause
// Built instead of sink_pipewire.c when libpipewire-0.3 is missing
// (meson -Dpipewire=disabled): the sink exists and says why it cannot run.
#include <errno.h>
#include <stdio.h>

#include "sink.h"

static int open_none(struct sink *s, const char *arg, const struct sink_params *sp, char *err,
                     size_t n)
{
    snprintf(err, n, "output pipewire: crispd was built without PipeWire (libpipewire-0.3-dev)");
    return -ENOSYS;
}

const struct sink crispd_sink_pipewire = {.name = "pipewire", .live = 1, .open = open_none};
