// SPDX-License-Identifier: BSD-2-Clause
// crisp ab tally (ab.h): the answers of a test's raters against its key.
//  - pair comparison (P.910): per pair of methods, over clips and raters,
//    the share of votes preferring the first, ties counted as half a vote
//    each way, with the 95% Wilson score interval;
//  - a ranking: Bradley-Terry strengths fitted by Hunter's MM algorithm (ties
//    as half wins; each compared pair also gets one virtual tie, so that a
//    method that always wins has a finite strength), as log-strength against
//    the received video, with 95% percentile intervals from a bootstrap over
//    raters (5 raters or more) or else over votes;
//  - MOS (ACR, 1..5) per method with the 95% Student-t interval.
// Answers of another test, unknown ids or malformed entries are refused
// with the file and entry named. Main thread.
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisp/log.h"
#include "ab.h"
#include "json.h"
#include "args.h"

#define fail crisp_fail
enum { MAXM = 16, MAX_FILES = 4096 };
static const double Z95 = 1.959963984540054;

struct vote {
    int a, b;     /* method indices, a < b */
    double win_a; /* 1, 0.5 (no difference) or 0 */
    int rater;
};

struct tally {
    char methods[MAXM][64];
    int nm, received; /* the received video's index: the ranking's zero */
    char test[17];
    /* id -> method, clip */
    char (*ids)[16];
    int *id_method, *id_clip, n_ids;
    struct vote *votes;
    int n_votes, cap_votes;
    double *scores[MAXM]; /* ACR per method */
    int n_scores[MAXM], cap_scores[MAXM];
    char (*raters)[17];
    int *rater_answers; /* pc + acr entries, for picking among duplicates */
    int n_raters;
};

static int find_id(const struct tally *t, const char *id)
{
    for (int i = 0; id && i < t->n_ids; i++)
        if (!strcmp(t->ids[i], id))
            return i;
    return -1;
}

static int load_key(struct tally *t, const char *dir, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/key.json", dir);
    struct json *k = json_read_file(path, 1 << 20, err, errlen);
    if (!k)
        return 1;
    int ret = 1;
    const struct json *ms = json_get(k, "methods"), *clips = json_get(k, "clips");
    const char *test = json_str(k, "test");
    if (!test || !ab_is_hex(test, 16) || !ms || ms->type != JSON_ARR || !ms->n || ms->n > MAXM ||
        !clips || clips->type != JSON_ARR || !clips->n) {
        snprintf(err, errlen, "%s: not a crisp ab key (test, methods, clips)", path);
        goto done;
    }
    snprintf(t->test, sizeof(t->test), "%s", test);
    t->received = -1;
    for (int m = 0; m < ms->n; m++) {
        if (ms->kids[m].type != JSON_STR) {
            snprintf(err, errlen, "%s: methods[%d] is not a name", path, m);
            goto done;
        }
        snprintf(t->methods[m], 64, "%s", ms->kids[m].str);
        if (!strcmp(t->methods[m], "received"))
            t->received = m;
    }
    t->nm = ms->n;
    if (t->received < 0)
        t->received = 0;
    int total = 0;
    for (int c = 0; c < clips->n; c++) {
        const struct json *v = json_get(&clips->kids[c], "videos");
        if (!v || v->type != JSON_OBJ) {
            snprintf(err, errlen, "%s: clips[%d] has no videos", path, c);
            goto done;
        }
        total += v->n;
    }
    t->ids = calloc((size_t)total, sizeof(*t->ids));
    t->id_method = calloc((size_t)total, sizeof(int));
    t->id_clip = calloc((size_t)total, sizeof(int));
    if (!t->ids || !t->id_method || !t->id_clip) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int c = 0; c < clips->n; c++) {
        const struct json *v = json_get(&clips->kids[c], "videos");
        for (int i = 0; i < v->n; i++) {
            int m = -1;
            for (int k2 = 0; k2 < t->nm; k2++)
                if (v->kids[i].type == JSON_STR && !strcmp(v->kids[i].str, t->methods[k2]))
                    m = k2;
            if (m < 0 || !ab_is_hex(v->kids[i].key, 12)) {
                snprintf(err, errlen, "%s: clips[%d] video %s: bad id or unknown method", path, c,
                         v->kids[i].key);
                goto done;
            }
            snprintf(t->ids[t->n_ids], 16, "%s", v->kids[i].key);
            t->id_method[t->n_ids] = m;
            t->id_clip[t->n_ids++] = c;
        }
    }
    ret = 0;
done:
    json_free(k);
    return ret;
}

static int add_vote(struct tally *t, struct vote v)
{
    if (t->n_votes == t->cap_votes) {
        int nc = t->cap_votes ? 2 * t->cap_votes : 256;
        struct vote *nv = realloc(t->votes, sizeof(*nv) * (size_t)nc);
        if (!nv)
            return -1;
        t->votes = nv;
        t->cap_votes = nc;
    }
    t->votes[t->n_votes++] = v;
    return 0;
}

static int add_score(struct tally *t, int m, double s)
{
    if (t->n_scores[m] == t->cap_scores[m]) {
        int nc = t->cap_scores[m] ? 2 * t->cap_scores[m] : 64;
        double *ns = realloc(t->scores[m], sizeof(double) * (size_t)nc);
        if (!ns)
            return -1;
        t->scores[m] = ns;
        t->cap_scores[m] = nc;
    }
    t->scores[m][t->n_scores[m]++] = s;
    return 0;
}

/* checks one file; 0 and its rater and answer count, or 1 with err */
static int check_file(struct tally *t, const struct json *j, const char *path, char *err,
                      size_t errlen)
{
    const char *test = json_str(j, "test"), *rater = json_str(j, "rater");
    const struct json *pc = json_get(j, "pc"), *acr = json_get(j, "acr");
    if (!json_get(j, "ab_votes") || !test) {
        snprintf(err, errlen, "%s: not a crisp ab answers file", path);
        return 1;
    }
    if (strcmp(test, t->test)) {
        snprintf(err, errlen, "%s: answers for test %.40s, not this test (%s): refused", path,
                 test, t->test);
        return 1;
    }
    if (!rater || !ab_is_hex(rater, 16) || !pc || pc->type != JSON_ARR ||
        (acr && acr->type != JSON_ARR)) {
        snprintf(err, errlen, "%s: no rater id, or pc/acr are not lists", path);
        return 1;
    }
    for (int i = 0; i < pc->n; i++) {
        const struct json *e = &pc->kids[i];
        int l = find_id(t, json_str(e, "left")), r = find_id(t, json_str(e, "right"));
        const char *v = json_str(e, "vote");
        if (l < 0 || r < 0 || t->id_clip[l] != t->id_clip[r] || t->id_method[l] == t->id_method[r] ||
            !v || (strcmp(v, "left") && strcmp(v, "right") && strcmp(v, "same"))) {
            snprintf(err, errlen, "%s: pc[%d]: unknown ids, a pair of two clips, or a vote other "
                                  "than left/right/same",
                     path, i);
            return 1;
        }
    }
    for (int i = 0; acr && i < acr->n; i++) {
        const struct json *e = &acr->kids[i], *s = json_get(e, "score");
        if (find_id(t, json_str(e, "video")) < 0 || !s || s->type != JSON_NUM || s->num < 1 ||
            s->num > 5 || s->num != floor(s->num)) {
            snprintf(err, errlen, "%s: acr[%d]: unknown video id or a score other than 1..5", path,
                     i);
            return 1;
        }
    }
    return 0;
}

static int add_file(struct tally *t, const struct json *j, int rater)
{
    const struct json *pc = json_get(j, "pc"), *acr = json_get(j, "acr");
    for (int i = 0; i < pc->n; i++) {
        const struct json *e = &pc->kids[i];
        int l = t->id_method[find_id(t, json_str(e, "left"))];
        int r = t->id_method[find_id(t, json_str(e, "right"))];
        const char *v = json_str(e, "vote");
        double win_l = !strcmp(v, "left") ? 1 : !strcmp(v, "right") ? 0 : 0.5;
        struct vote vo = {l < r ? l : r, l < r ? r : l, l < r ? win_l : 1 - win_l, rater};
        if (add_vote(t, vo) < 0)
            return -1;
    }
    for (int i = 0; acr && i < acr->n; i++) {
        const struct json *e = &acr->kids[i];
        if (add_score(t, t->id_method[find_id(t, json_str(e, "video"))],
                      json_get(e, "score")->num) < 0)
            return -1;
    }
    return 0;
}

static void ab_wilson(double wins, double n, double z, double *lo, double *hi)
{
    if (n <= 0) {
        *lo = 0;
        *hi = 1;
        return;
    }
    double p = wins / n, z2 = z * z, d = 1 + z2 / n;
    double c = (p + z2 / (2 * n)) / d;
    double h = z / d * sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    *lo = fmax(0, c - h);
    *hi = fmin(1, c + h);
}

/* Bradley-Terry by MM: w[i][j] = i's wins over j (ties halved), n[i][j]
 * comparisons; one virtual tie per compared pair. score[i] = ln p_i - ln
 * p_ref; NAN for a method never compared. */
static void bt_fit(int m, double w[MAXM][MAXM], double n[MAXM][MAXM], int ref, double *score)
{
    double p[MAXM], W[MAXM], ww[MAXM][MAXM], nn[MAXM][MAXM];
    int seen[MAXM] = {0};
    for (int i = 0; i < m; i++) {
        W[i] = 0;
        p[i] = 1;
        for (int j = 0; j < m; j++) {
            ww[i][j] = w[i][j] + (n[i][j] > 0 ? 0.5 : 0);
            nn[i][j] = n[i][j] + (n[i][j] > 0 ? 1 : 0);
            W[i] += ww[i][j];
            seen[i] |= n[i][j] > 0;
        }
    }
    for (int it = 0; it < 10000; it++) {
        double change = 0, lsum = 0;
        int k = 0;
        for (int i = 0; i < m; i++) {
            if (!seen[i])
                continue;
            double den = 0;
            for (int j = 0; j < m; j++)
                if (j != i && nn[i][j] > 0)
                    den += nn[i][j] / (p[i] + p[j]);
            double np = W[i] / den;
            change = fmax(change, fabs(log(np) - log(p[i])));
            p[i] = np;
        }
        for (int i = 0; i < m; i++)
            if (seen[i]) {
                lsum += log(p[i]);
                k++;
            }
        for (int i = 0; i < m; i++) /* geometric mean 1: keeps the scale */
            if (seen[i])
                p[i] /= exp(lsum / k);
        if (change < 1e-12)
            break;
    }
    for (int i = 0; i < m; i++)
        score[i] = seen[i] && seen[ref] ? log(p[i]) - log(p[ref]) : NAN;
}

/* the tally's counts from a multiset of votes: all (idx NULL) or idx[0..k) */
static void counts(const struct tally *t, const int *idx, int k, double w[MAXM][MAXM],
                   double n[MAXM][MAXM])
{
    memset(w, 0, sizeof(double) * MAXM * MAXM);
    memset(n, 0, sizeof(double) * MAXM * MAXM);
    for (int q = 0; q < (idx ? k : t->n_votes); q++) {
        const struct vote *v = &t->votes[idx ? idx[q] : q];
        w[v->a][v->b] += v->win_a;
        w[v->b][v->a] += 1 - v->win_a;
        n[v->a][v->b] += 1;
        n[v->b][v->a] += 1;
    }
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Student t quantile at 0.975 for df degrees of freedom */
static double t975(int df)
{
    static const double T[31] = {0,      12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                                 2.306,  2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                                 2.120,  2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                                 2.064,  2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    if (df < 1)
        return NAN;
    if (df <= 30)
        return T[df];
    double z = Z95; /* Cornish-Fisher, two terms */
    return z + (z * z * z + z) / (4.0 * df) +
           (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96.0 * df * df);
}

static const char TALLY_USAGE[] =
    "usage: crisp ab tally [--json FILE] [--bootstrap N] [--seed N] DIR [ANSWERS.json ...]\n"
    "       (no ANSWERS: every DIR/votes/*.json)\n";

int ab_tally(int argc, char **argv)
{
    static const struct option opts[] = {{"json", required_argument, 0, 'j'},
                                         {"bootstrap", required_argument, 0, 'b'},
                                         {"seed", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *json_out = NULL;
    long boot = 2000;
    unsigned long long seed = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'j': json_out = optarg; break;
        case 'b':
            if (crisp_arg_int(optarg, "ab tally: --bootstrap", 0, 1000000, &boot))
                return EXIT_USAGE;
            break;
        case 's':
            seed = strtoull(optarg, &end, 10);
            if (*end || end == optarg)
                return fail(EXIT_USAGE, "ab tally: --seed must be an integer");
            break;
        case 'h': fputs(TALLY_USAGE, stdout); return 0;
        default: return fail(EXIT_USAGE, "ab tally: unknown option %s", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return fail(EXIT_USAGE, "ab tally: the test folder is needed (%s)", "crisp ab tally DIR [ANSWERS.json ...]");
    const char *dir = argv[optind++];
    struct tally t = {0};
    char err[4700];
    int ret = EXIT_INPUT;
    glob_t g = {0};
    char **files = argv + optind;
    int n_files = argc - optind;
    if (load_key(&t, dir, err, sizeof(err))) {
        fail(EXIT_INPUT, "ab tally: %s", err);
        goto done;
    }
    if (!n_files) {
        char pat[4200];
        snprintf(pat, sizeof(pat), "%s/votes/*.json", dir);
        if (glob(pat, 0, NULL, &g) == 0) {
            files = g.gl_pathv;
            n_files = (int)g.gl_pathc;
        }
        if (!n_files) {
            fail(EXIT_INPUT, "ab tally: no answers given and none in %s/votes/", dir);
            goto done;
        }
    }
    if (n_files > MAX_FILES) {
        fail(EXIT_USAGE, "ab tally: at most %d answer files", MAX_FILES);
        goto done;
    }
    /* every file checked first; one per rater (the one with most answers:
     * a rater may both download and post) */
    struct json **js = calloc((size_t)n_files, sizeof(*js));
    t.raters = calloc((size_t)n_files, sizeof(*t.raters));
    t.rater_answers = calloc((size_t)n_files, sizeof(int));
    int *use = calloc((size_t)n_files, sizeof(int)), dups = 0;
    if (!js || !t.raters || !t.rater_answers || !use) {
        fail(EXIT_INPUT, "ab tally: out of memory");
        free(js);
        free(use);
        goto done;
    }
    int bad = 0;
    for (int f = 0; f < n_files && !bad; f++) {
        if (!(js[f] = json_read_file(files[f], 4u << 20, err, sizeof(err))) ||
            check_file(&t, js[f], files[f], err, sizeof(err))) {
            fail(EXIT_INPUT, "ab tally: %s", err);
            bad = 1;
            break;
        }
        const char *rater = json_str(js[f], "rater");
        const struct json *acr = json_get(js[f], "acr");
        int answers = json_get(js[f], "pc")->n + (acr ? acr->n : 0), r = 0;
        while (r < t.n_raters && strcmp(t.raters[r], rater))
            r++;
        if (r == t.n_raters) {
            snprintf(t.raters[t.n_raters++], 17, "%s", rater);
            t.rater_answers[r] = -1;
        } else {
            dups++;
        }
        if (answers > t.rater_answers[r]) {
            t.rater_answers[r] = answers;
            for (int f2 = 0; f2 < f; f2++)
                if (use[f2] == r + 1)
                    use[f2] = 0;
            use[f] = r + 1;
        }
    }
    for (int f = 0; f < n_files && !bad; f++)
        if (use[f] && add_file(&t, js[f], use[f] - 1) < 0) {
            fail(EXIT_INPUT, "ab tally: out of memory");
            bad = 1;
        }
    for (int f = 0; f < n_files; f++)
        json_free(js[f]);
    free(js);
    free(use);
    if (bad)
        goto done;
    if (!t.n_votes) {
        fail(EXIT_INPUT, "ab tally: the answers hold no pair votes");
        goto done;
    }

    const int m = t.nm;
    double w[MAXM][MAXM], n[MAXM][MAXM], score[MAXM];
    counts(&t, NULL, 0, w, n);
    bt_fit(m, w, n, t.received, score);
    /* bootstrap: resample raters (5 or more) or votes, refit */
    const int by_rater = t.n_raters >= 5;
    double *bs = calloc((size_t)(boot ? boot : 1) * MAXM, sizeof(double));
    int *idx = malloc(sizeof(int) * (size_t)t.n_votes * (by_rater ? 2 : 1) + sizeof(int));
    int *rater_votes = calloc((size_t)t.n_raters + 1, sizeof(int));
    if (!bs || !idx || !rater_votes) {
        free(bs);
        free(idx);
        free(rater_votes);
        fail(EXIT_INPUT, "ab tally: out of memory");
        goto done;
    }
    uint64_t st = seed * 0x9e3779b97f4a7c15ull + 1;
    for (long b = 0; b < boot; b++) {
        int k = 0;
        if (by_rater) {
            for (int r = 0; r < t.n_raters; r++) {
                int pick = (int)(rng_next(&st) % (uint64_t)t.n_raters);
                for (int q = 0; q < t.n_votes && k < 2 * t.n_votes; q++)
                    if (t.votes[q].rater == pick)
                        idx[k++] = q;
            }
        } else {
            for (int q = 0; q < t.n_votes; q++)
                idx[k++] = (int)(rng_next(&st) % (uint64_t)t.n_votes);
        }
        double bw[MAXM][MAXM], bn[MAXM][MAXM];
        counts(&t, idx, k, bw, bn);
        bt_fit(m, bw, bn, t.received, bs + b * MAXM);
    }
    double lo[MAXM], hi[MAXM];
    double *col = malloc(sizeof(double) * (size_t)(boot ? boot : 1));
    for (int i = 0; i < m; i++) {
        int k = 0;
        for (long b = 0; b < boot && col; b++)
            if (!isnan(bs[b * MAXM + i]))
                col[k++] = bs[b * MAXM + i];
        lo[i] = hi[i] = NAN;
        if (k) {
            qsort(col, (size_t)k, sizeof(double), cmp_double);
            lo[i] = col[(int)floor(0.025 * (k - 1))];
            hi[i] = col[(int)ceil(0.975 * (k - 1))];
        }
    }
    free(col);
    free(bs);
    free(idx);
    free(rater_votes);

    int n_ratings = 0;
    for (int i = 0; i < m; i++)
        n_ratings += t.n_scores[i];
    printf("test %s: %d rater%s, %d pair votes, %d ratings%s\n", t.test, t.n_raters,
           t.n_raters == 1 ? "" : "s", t.n_votes, n_ratings,
           dups ? " (a rater's duplicate files: the fullest one counted)" : "");
    printf("\npair comparison (ITU-T P.910): share of votes preferring A, ties split, 95%% Wilson "
           "interval\n");
    printf("%-22s %-22s %6s %6s %6s %6s %8s  %s\n", "A", "B", "votes", "A", "same", "B",
           "share A", "95% CI");
    FILE *jf = NULL;
    if (json_out && !(jf = fopen(json_out, "w"))) {
        fail(EXIT_INPUT, "ab tally: %s: %s", json_out, strerror(errno));
        goto done;
    }
    if (jf)
        fprintf(jf, "{\"test\": \"%s\", \"raters\": %d, \"pc_votes\": %d, \"acr_ratings\": %d, "
                    "\"bootstrap\": {\"resamples\": %ld, \"unit\": \"%s\", \"seed\": %llu},\n "
                    "\"pairs\": [",
                t.test, t.n_raters, t.n_votes, n_ratings, boot, by_rater ? "raters" : "votes", seed);
    int first = 1;
    for (int a = 0; a < m; a++)
        for (int b = a + 1; b < m; b++) {
            if (n[a][b] == 0)
                continue;
            double wa = 0, wb = 0, ties = 0;
            for (int q = 0; q < t.n_votes; q++) {
                const struct vote *v = &t.votes[q];
                if (v->a != a || v->b != b)
                    continue;
                if (v->win_a == 1)
                    wa++;
                else if (v->win_a == 0)
                    wb++;
                else
                    ties++;
            }
            double share = w[a][b] / n[a][b], l, h;
            ab_wilson(w[a][b], n[a][b], Z95, &l, &h);
            printf("%-22s %-22s %6.0f %6.0f %6.0f %6.0f %8.3f  [%.3f, %.3f]\n", t.methods[a],
                   t.methods[b], n[a][b], wa, ties, wb, share, l, h);
            if (jf)
                fprintf(jf,
                        "%s\n  {\"a\": \"%s\", \"b\": \"%s\", \"votes\": %.0f, \"a_preferred\": "
                        "%.0f, \"same\": %.0f, \"b_preferred\": %.0f, \"share_a\": %.6f, "
                        "\"ci95\": [%.6f, %.6f]}",
                        first ? "" : ",", t.methods[a], t.methods[b], n[a][b], wa, ties, wb, share,
                        l, h);
            first = 0;
        }
    int order[MAXM];
    for (int i = 0; i < m; i++)
        order[i] = i;
    for (int i = 0; i < m; i++) /* by score, highest first; never compared last */
        for (int j = i + 1; j < m; j++) {
            double si = score[order[i]], sj = score[order[j]];
            if (isnan(si) ? !isnan(sj) : (!isnan(sj) && sj > si)) {
                int x = order[i];
                order[i] = order[j];
                order[j] = x;
            }
        }
    printf("\nranking (Bradley-Terry, ties as half wins, one virtual tie per pair): log-strength "
           "against %s,\n95%% interval from %ld bootstrap resamples of %s; P = chance of being "
           "preferred to %s\n",
           t.methods[t.received], boot, by_rater ? "raters" : "votes (fewer than 5 raters)",
           t.methods[t.received]);
    printf("%4s %-22s %8s  %-18s %6s\n", "rank", "method", "score", "95% CI", "P");
    if (jf)
        fprintf(jf, "],\n \"ranking\": [");
    for (int r = 0; r < m; r++) {
        int i = order[r];
        double p = 1 / (1 + exp(-score[i]));
        printf("%4d %-22s %8.3f  [%6.3f, %6.3f] %6.3f\n", r + 1, t.methods[i], score[i], lo[i],
               hi[i], p);
        if (jf) {
            if (isnan(score[i]))
                fprintf(jf, "%s\n  {\"method\": \"%s\", \"score\": null}", r ? "," : "", t.methods[i]);
            else
                fprintf(jf,
                        "%s\n  {\"method\": \"%s\", \"score\": %.6f, \"ci95\": [%.6f, %.6f], "
                        "\"p_vs_reference\": %.6f}",
                        r ? "," : "", t.methods[i], score[i], lo[i], hi[i], p);
        }
    }
    if (jf)
        fprintf(jf, "],\n \"mos\": [");
    if (n_ratings) {
        printf("\nMOS (absolute category rating, 5 excellent .. 1 bad), 95%% Student-t interval\n");
        printf("%-22s %6s %6s  %s\n", "method", "n", "MOS", "95% CI");
    }
    first = 1;
    for (int i = 0; i < m; i++) {
        int k = t.n_scores[i];
        if (!k)
            continue;
        double sum = 0, ss = 0;
        for (int q = 0; q < k; q++)
            sum += t.scores[i][q];
        double mean = sum / k;
        for (int q = 0; q < k; q++)
            ss += (t.scores[i][q] - mean) * (t.scores[i][q] - mean);
        double half = k > 1 ? t975(k - 1) * sqrt(ss / (k - 1)) / sqrt(k) : NAN;
        printf("%-22s %6d %6.3f  [%.3f, %.3f]\n", t.methods[i], k, mean, mean - half,
               mean + half);
        if (jf) {
            if (k > 1)
                fprintf(jf, "%s\n  {\"method\": \"%s\", \"n\": %d, \"mos\": %.6f, \"ci95\": [%.6f, %.6f]}",
                        first ? "" : ",", t.methods[i], k, mean, mean - half, mean + half);
            else
                fprintf(jf, "%s\n  {\"method\": \"%s\", \"n\": %d, \"mos\": %.6f, \"ci95\": null}",
                        first ? "" : ",", t.methods[i], k, mean);
        }
        first = 0;
    }
    if (jf) {
        fprintf(jf, "]}\n");
        if (fclose(jf) != 0) {
            fail(EXIT_INPUT, "ab tally: %s: write failed", json_out);
            goto done;
        }
    }
    ret = 0;
done:
    globfree(&g);
    free(t.ids);
    free(t.id_method);
    free(t.id_clip);
    free(t.votes);
    free(t.raters);
    free(t.rater_answers);
    for (int i = 0; i < MAXM; i++)
        free(t.scores[i]);
    return ret;
}

int cmd_ab(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs("usage: crisp ab make|serve|tally ... (crisp ab COMMAND -h; docs/evaluation.md)\n",
              argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (!strcmp(argv[1], "make"))
        return ab_make(argc - 1, argv + 1);
    if (!strcmp(argv[1], "serve"))
        return ab_serve(argc - 1, argv + 1);
    if (!strcmp(argv[1], "tally"))
        return ab_tally(argc - 1, argv + 1);
    return fail(EXIT_USAGE, "ab: unknown command \"%s\" (make, serve, tally)", argv[1]);
}
