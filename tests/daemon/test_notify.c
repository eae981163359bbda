// SPDX-License-Identifier: BSD-2-Clause
// crispd against a real AF_UNIX datagram socket standing in for systemd:
// READY=1 after warm-up, STATUS with numbers, WATCHDOG=1 only while frames
// flow from a real ffmpeg RTP sender on 127.0.0.1 (none before it starts,
// none after it stops), STOPPING=1 on SIGTERM.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common.h"

extern char **environ;

struct counts {
    int ready, watchdog, status_numbers, stopping;
};

static void collect(int fd, int ms, struct counts *c)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        int left = ms - (int)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0)
            return;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, left) <= 0)
            continue;
        char buf[1024];
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
            continue;
        buf[n] = 0;
        if (strstr(buf, "READY=1"))
            c->ready++;
        if (strstr(buf, "WATCHDOG=1"))
            c->watchdog++;
        if (strstr(buf, "STOPPING=1"))
            c->stopping++;
        const char *st = strstr(buf, "STATUS=");
        if (st && strstr(st, "fps out"))
            c->status_numbers++;
    }
}

int main(void)
{
    const char *crispd = getenv("CRISPD");
    if (!crispd || access("/usr/bin/ffmpeg", X_OK) != 0) {
        printf("SKIP: needs CRISPD and the ffmpeg CLI\n");
        return 77;
    }
    char dir[] = "/tmp/crisp-notify-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char sock[96], sdp[96], port[16], url[64];
    snprintf(sock, sizeof(sock), "%s/notify.sock", dir);
    snprintf(sdp, sizeof(sdp), "%s/in.sdp", dir);
    srand((unsigned)getpid());
    int portn = 20000 + (rand() % 20000) * 2;
    snprintf(port, sizeof(port), "%d", portn);
    snprintf(url, sizeof(url), "rtp://127.0.0.1:%d", portn);
    FILE *f = fopen(sdp, "w");
    fprintf(f, "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=t\nc=IN IP4 127.0.0.1\nt=0 0\n"
               "m=video %d RTP/AVP 96\na=rtpmap:96 H264/90000\na=fmtp:96 packetization-mode=1\n",
            portn);
    fclose(f);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind %s: %s", sock, strerror(errno));
    setenv("NOTIFY_SOCKET", sock, 1);
    setenv("WATCHDOG_USEC", "400000", 1);
    char in[300];
    snprintf(in, sizeof(in), "sdp:%s", sdp);
    char *dargv[] = {(char *)crispd, "--input", in, "--output", "null:", "--bypass",
                     "--size", "640x360", "--no-signal", "0.5", NULL};
    pid_t d;
    CHECK(posix_spawn(&d, crispd, NULL, NULL, dargv, environ) == 0, "spawn crispd");
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");

    struct counts before = {0}, during = {0}, after = {0}, end = {0};
    collect(fd, 3000, &before); /* startup waits up to 2 s for the first packets */
    CHECK(before.ready == 1, "READY=1 sent %d times before frames flow", before.ready);
    CHECK(before.watchdog == 0, "%d WATCHDOG=1 before any frame", before.watchdog);

    char *sargv[] = {"ffmpeg", "-v", "error", "-re", "-f", "lavfi", "-i",
                     "testsrc2=size=640x360:rate=30", "-t", "6.5", "-c:v", "libx264",
                     "-preset", "ultrafast", "-tune", "zerolatency", "-g", "10",
                     "-pix_fmt", "yuv420p", "-f", "rtp", url, NULL};
    pid_t s;
    CHECK(posix_spawn(&s, "/usr/bin/ffmpeg", NULL, NULL, sargv, environ) == 0, "spawn ffmpeg");
    collect(fd, 6000, &during);
    CHECK(during.watchdog >= 4, "only %d WATCHDOG=1 while frames flow", during.watchdog);
    CHECK(during.status_numbers >= 1, "no STATUS with numbers");
    int st;
    waitpid(s, &st, 0);
    collect(fd, 1500, &after); /* the stall is noticed within a second */
    struct counts late = {0};
    collect(fd, 1500, &late);
    CHECK(late.watchdog == 0, "%d WATCHDOG=1 after the sender stopped", late.watchdog);
    kill(d, SIGTERM);
    collect(fd, 1000, &end);
    CHECK(end.stopping == 1, "STOPPING=1 sent %d times", end.stopping);
    CHECK(waitpid(d, &st, 0) == d && WIFEXITED(st) && WEXITSTATUS(st) == 0, "crispd exit %d",
          WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    printf("before: ready %d watchdog %d; flowing: watchdog %d status %d; stalled: watchdog %d; "
           "stop: stopping %d\n",
           before.ready, before.watchdog, during.watchdog, during.status_numbers, late.watchdog,
           end.stopping);
    unlink(sock);
    unlink(sdp);
    rmdir(dir);
    close(fd);
    TEST_DONE();
}
