// SPDX-License-Identifier: BSD-2-Clause
// Fuzz target for the weights parser. Built with -fsanitize=fuzzer it is a
// libFuzzer target; built normally, main() replays every file named on the
// command line (or in the directories named) so the corpus runs in the
// ordinary test suite.
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crisp/engine.h"
#include "crisp/model.h"
#include "crisp/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct crisp_model *m = NULL;
    char err[256];
    if (crisp_weights_parse(&m, data, size, err, sizeof(err)) == 0) {
        /* an accepted model must be fully usable by the reference path */
        int64_t macs = crisp_model_macs(m, 17, 9);
        (void)macs;
        float in[3 * 17 * 9], out[3 * 17 * 9];
        for (int i = 0; i < 3 * 17 * 9; i++)
            in[i] = (float)(i % 13) / 13.0f * m->range_max;
        if (crisp_model_params(m) < 100000)
            crisp_ref_run(m, in, 17, 9, out);
        uint8_t *buf;
        size_t len;
        if (crisp_weights_serialize(m, &buf, &len) == 0) {
            if (len != size || memcmp(buf, data, size))
                abort(); /* accepted files re-serialize to the same bytes */
            free(buf);
        }
        crisp_model_destroy(&m);
    }
    return 0;
}

#ifndef CRISP_LIBFUZZER
static int replay_file(const char *path)
{
    uint8_t *buf;
    size_t len;
    if (crisp_file_read(path, &buf, &len) < 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    int files = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            while (d && (e = readdir(d))) {
                if (e->d_name[0] == '.')
                    continue;
                char p[4096];
                snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
                bad += replay_file(p);
                files++;
            }
            if (d)
                closedir(d);
        } else {
            bad += replay_file(argv[i]);
            files++;
        }
    }
    printf("replayed %d inputs\n", files);
    return bad || files == 0;
}
#endif
