// SPDX-License-Identifier: BSD-2-Clause
// Data-parallel training over MPI (dist.c): the ranks of one job, the
// collectives the training loop needs, and the rank-strided split of a
// global batch. Built without MPI (-Dmpi=disabled, or no Open MPI) every
// function is the one-process case: rank 0 of 1, collectives do nothing.
// Training loop thread only (MPI is initialized with MPI_THREAD_FUNNELED).
#ifndef CRISP_TRAINER_DIST_H
#define CRISP_TRAINER_DIST_H

#include <stddef.h>
#include <stdint.h>

struct dist {
    int rank, size;   /* this process, and the ranks in the job */
    int local_size;   /* ranks on this machine (shared-memory node) */
    int mpi;          /* 1 when MPI was initialized */
};

/* The job: MPI_Init when built with MPI and started by a launcher (mpirun,
 * srun: their environment variables); otherwise one process without MPI. */
void dist_init(struct dist *d, int *argc, char ***argv);
/* MPI_Finalize after a clean run, or an exit every rank reached `together`
 * (a signal); after a failure on one rank, MPI_Abort so that the other
 * ranks end instead of waiting in a collective. Returns exit_code. */
int dist_finish(const struct dist *d, int exit_code, int together);
/* 1 when crisp-train was built with MPI */
int dist_available(void);

/* Rank-strided split of a global batch of `global` samples: this rank takes
 * samples k with k % size == rank. Returns how many (0 if global <= rank);
 * dist_share is the same for any rank. */
static inline int dist_share(int global, int rank, int size)
{
    return global > rank ? (global - rank + size - 1) / size : 0;
}
static inline int dist_local_batch(const struct dist *d, int global)
{
    return dist_share(global, d->rank, d->size);
}

/* in-place sums and maxima over all ranks (every rank gets the same result) */
int dist_sum_f32(const struct dist *d, float *buf, size_t n);
int dist_sum_f64(const struct dist *d, double *buf, size_t n);
int dist_max_f64(const struct dist *d, double *buf, size_t n);
/* `n` bytes from rank `root` to every rank */
int dist_bcast(const struct dist *d, void *buf, size_t n, int root);
/* Compares a 64-bit checksum across ranks. 0 when all equal; else the
 * first rank whose value differs from rank 0's (>0), with both values. */
int dist_compare(const struct dist *d, uint64_t value, uint64_t *first_other);

/* FNV-1a over n floats' bytes, continuing from h (start with 0) */
uint64_t dist_hash(uint64_t h, const float *p, size_t n);

#endif
