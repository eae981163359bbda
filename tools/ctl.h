// SPDX-License-Identifier: BSD-2-Clause
// crisp ctl: a running crispd's control surface from the command line.
#ifndef CRISP_TOOLS_CTL_H
#define CRISP_TOOLS_CTL_H

int cmd_ctl(int argc, char **argv);

#endif
