// SPDX-License-Identifier: BSD-2-Clause
// Test helper: sends garbage UDP datagrams to 127.0.0.1:PORT at RATE per
// second for SECONDS, then exits (bounded: at most 100,000 per second, 60 s).
//   rtp_flood PORT RATE SECONDS random   random bytes, 1..1400 of them
//   rtp_flood PORT RATE SECONDS rtp PT   valid RTP headers (version 2, payload
//                                         type PT, one SSRC, sequence numbers
//                                         in order, a marker every 5th packet)
//                                         around random payloads
// Prints the number sent. Loopback only.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 5 || (strcmp(argv[4], "random") && (strcmp(argv[4], "rtp") || argc < 6))) {
        fprintf(stderr, "usage: rtp_flood PORT RATE SECONDS random|rtp PT\n");
        return 2;
    }
    const int port = atoi(argv[1]);
    const double rate = atof(argv[2]), secs = atof(argv[3]);
    const int rtp = !strcmp(argv[4], "rtp"), pt = rtp ? atoi(argv[5]) & 127 : 0;
    if (port < 1 || port > 65535 || !(rate > 0 && rate <= 100000) || !(secs > 0 && secs <= 60)) {
        fprintf(stderr, "rtp_flood: port 1..65535, rate 0..100000, seconds 0..60\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
        perror("rtp_flood");
        return 1;
    }
    srand((unsigned)now_ns());
    uint8_t buf[1400];
    uint16_t seq = (uint16_t)rand();
    uint32_t ts = (uint32_t)rand(), ssrc = (uint32_t)rand() * 2654435761u;
    const int64_t t0 = now_ns(), end = t0 + (int64_t)(secs * 1e9);
    long sent = 0;
    for (long i = 0;; i++) {
        const int64_t due = t0 + (int64_t)(i * 1e9 / rate);
        int64_t now = now_ns();
        if (due >= end)
            break;
        if (due > now) {
            struct timespec d = {(due - now) / 1000000000, (due - now) % 1000000000};
            nanosleep(&d, NULL);
        }
        int len = rtp ? 20 + rand() % 1180 : 1 + rand() % 1400;
        for (int k = 0; k < len; k++)
            buf[k] = (uint8_t)rand();
        if (rtp) {
            if (i % 5 == 0)
                ts += 3000;
            buf[0] = 0x80;
            buf[1] = (uint8_t)(pt | (i % 5 == 4 ? 0x80 : 0));
            buf[2] = (uint8_t)(seq >> 8);
            buf[3] = (uint8_t)seq;
            seq++;
            for (int k = 0; k < 4; k++) {
                buf[4 + k] = (uint8_t)(ts >> (24 - 8 * k));
                buf[8 + k] = (uint8_t)(ssrc >> (24 - 8 * k));
            }
        }
        if (send(fd, buf, (size_t)len, 0) > 0) /* refused while nobody listens: not counted */
            sent++;
    }
    printf("%ld\n", sent);
    close(fd);
    return 0;
}
