// SPDX-License-Identifier: BSD-2-Clause
#ifndef CRISP_TOOLS_BENCH_H
#define CRISP_TOOLS_BENCH_H
int cmd_bench(int argc, char **argv);
#endif
