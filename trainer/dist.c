// SPDX-License-Identifier: BSD-2-Clause
// Data-parallel training over MPI (dist.h). With CRISP_HAVE_MPI the calls go
// to MPI_COMM_WORLD; without it they are the one-process case. Large
// buffers are sent in chunks (MPI counts are ints). Owns nothing.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dist.h"

#ifdef CRISP_HAVE_MPI
#include <mpi.h>
#endif

#define CHUNK ((size_t)1 << 28) /* elements per MPI call */

int dist_available(void)
{
#ifdef CRISP_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

/* whether a launcher (mpirun, srun) started this process */
static int launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

void dist_init(struct dist *d, int *argc, char ***argv)
{
    *d = (struct dist){.rank = 0, .size = 1, .local_size = 1, .mpi = 0};
#ifdef CRISP_HAVE_MPI
    /* a plain `crisp-train` (no mpirun/srun) is a job of one and does not
     * start MPI at all: the same program as one built without it */
    if (!launched())
        return;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return;
    d->mpi = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_size(node, &d->local_size);
        MPI_Comm_free(&node);
    }
#else
    (void)argc, (void)argv, (void)launched;
#endif
}

int dist_finish(const struct dist *d, int exit_code, int together)
{
#ifdef CRISP_HAVE_MPI
    if (d->mpi) {
        if (exit_code && !together && d->size > 1) {
            /* when every rank fails the same way, one abort is enough: two
             * at once can crash Open MPI 4.1's mpirun, so rank 0 goes first */
            if (d->rank)
                sleep(2);
            MPI_Abort(MPI_COMM_WORLD, exit_code); /* does not return */
        }
        MPI_Finalize();
    }
#else
    (void)d, (void)together;
#endif
    return exit_code;
}

#ifdef CRISP_HAVE_MPI
static int reduce(const struct dist *d, void *buf, size_t n, size_t esize, MPI_Datatype t,
                  MPI_Op op)
{
    if (d->size < 2)
        return 0;
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t c = n - i < CHUNK ? n - i : CHUNK;
        if (MPI_Allreduce(MPI_IN_PLACE, (char *)buf + i * esize, (int)c, t, op, MPI_COMM_WORLD) !=
            MPI_SUCCESS)
            return -1;
    }
    return 0;
}
#endif

int dist_sum_f32(const struct dist *d, float *buf, size_t n)
{
#ifdef CRISP_HAVE_MPI
    return reduce(d, buf, n, sizeof(float), MPI_FLOAT, MPI_SUM);
#else
    (void)d, (void)buf, (void)n;
    return 0;
#endif
}

int dist_sum_f64(const struct dist *d, double *buf, size_t n)
{
#ifdef CRISP_HAVE_MPI
    return reduce(d, buf, n, sizeof(double), MPI_DOUBLE, MPI_SUM);
#else
    (void)d, (void)buf, (void)n;
    return 0;
#endif
}

int dist_max_f64(const struct dist *d, double *buf, size_t n)
{
#ifdef CRISP_HAVE_MPI
    return reduce(d, buf, n, sizeof(double), MPI_DOUBLE, MPI_MAX);
#else
    (void)d, (void)buf, (void)n;
    return 0;
#endif
}

int dist_bcast(const struct dist *d, void *buf, size_t n, int root)
{
#ifdef CRISP_HAVE_MPI
    if (d->size < 2)
        return 0;
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t c = n - i < CHUNK ? n - i : CHUNK;
        if (MPI_Bcast((char *)buf + i, (int)c, MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS)
            return -1;
    }
    return 0;
#else
    (void)d, (void)buf, (void)n, (void)root;
    return 0;
#endif
}

int dist_compare(const struct dist *d, uint64_t value, uint64_t *first_other)
{
#ifdef CRISP_HAVE_MPI
    if (d->size < 2)
        return 0;
    uint64_t *all = malloc(sizeof(uint64_t) * (size_t)d->size);
    if (!all)
        return -1;
    int bad = 0;
    if (MPI_Allgather(&value, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD) != MPI_SUCCESS)
        bad = -1;
    for (int q = 1; q < d->size && !bad; q++)
        if (all[q] != all[0]) {
            bad = q;
            *first_other = all[q];
        }
    free(all);
    return bad;
#else
    (void)d, (void)value, (void)first_other;
    return 0;
#endif
}

uint64_t dist_hash(uint64_t h, const float *p, size_t n)
{
    if (!h)
        h = 0xcbf29ce484222325ull;
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n * sizeof(float); i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
