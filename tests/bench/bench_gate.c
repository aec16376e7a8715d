/* bench_gate: the conduct gate's decisions per second on one core (conduct_decide, the
 * pure function the broker asks before every attempt and a worker asks again at send).
 *
 * The population: PERSONS persons (default 1,000,000), each in one of 20 time zones
 * (half- and quarter-hour offsets and both sides of the date line included), with 1-3
 * accounts and a contact ledger of realistic size over the last 14 days: 0-6 texts,
 * 0-3 e-mails, 0-10 calls of which about 30% connected, now and then a letter, at
 * local hours inside the window; 15% had a conversation in the last 30 days. The
 * ledgers sit in one array of conduct_attempt_t, each person's attempts grouped by
 * account, so an account's ledger is a slice of its person's. Half the persons are
 * under a Regulation F profile (08:00-21:00; calls 7 per 7 days per person and per
 * account, none for 7 days after a conversation; 3 texts and 3 e-mails a day, each
 * with an opt-out instruction; US holidays), half under a Chinese one (08:00-22:00,
 * 3 connected calls a day, public holidays). The simulated day is 2026-03-09 UTC, the
 * day after the US clocks change, so American borrowers' ledgers cross a DST change.
 *
 * DECISIONS tasks (default 5,000,000) go to random persons and channels at instants
 * spread over that day. Texts, e-mails and letters carry rendered text (~160 bytes,
 * letters ~400), checked against 20 banned phrases (about 1% hold one) and, where the
 * profile asks, for one of 4 opt-out phrases (about 0.4% lack them). About 6% of the
 * ordinary tasks carry a hold, a cease, an opt-out, an unusable contact point or a
 * template that may not go out. 10% sit on an edge: 5% within 5 minutes either side of
 * the local window start or end (an eighth of those exactly on it), 5% at a cap
 * boundary (the ledger holds cap - 1 or cap attempts that count, old and uncounted ones
 * mixed in). Building the population and the tasks is not measured: tasks are made in
 * chunks of 2^20 and only the loop of conduct_decide over a chunk is timed. The
 * ledgers (~230 MB) are cold in cache, as after a store read; a small PERSONS (10000)
 * shows the gate with them warm.
 *   RESULT gate decisions_per_s=... decisions=... persons=... zones=20 edge_pct=10
 *          send=... defer=... refuse=... seconds=... ns_per_decision=... seed=...
 * A breakdown by rule goes to stderr.
 * Usage: bench_gate [PERSONS [DECISIONS [SEED]]] */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conduct.h"
#include "tz.h"

#define ZONES 20
#define CHUNK (1u << 20)
#define HISTORY_DAYS 14
#define MAX_PERSON_ATTEMPTS 20       /* 6 + 3 + 10 + 1 */
#define MAX_CAP_ATTEMPTS 48          /* a cap-boundary task's own ledger, at most */
#define SEC_MS INT64_C(1000)
#define MIN_MS INT64_C(60000)
#define DAY_MS INT64_C(86400000)
#define WEEK_MS (7 * DAY_MS)
#define NEVER INT64_MIN
#define TEXTS 256                    /* rendered texts per channel */

enum { SMS = 0, EMAIL = 1, LETTER = 2, CALL = 3, VISIT = 4 };
enum { REG_F = 0, CHINA = 1 };

static const char *const zones[ZONES] = {
    "Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu", "Europe/London", "Europe/Berlin",
    "America/New_York", "America/Los_Angeles", "America/Sao_Paulo", "Africa/Lagos",
    "Australia/Sydney", "Pacific/Auckland", "Asia/Tokyo", "Asia/Singapore", "Asia/Dubai",
    "Europe/Moscow", "America/Chicago", "America/Mexico_City", "Asia/Jakarta",
    "Pacific/Kiritimati", "Pacific/Pago_Pago"};

static const char *const banned[] = {
    "arrest", "jail", "prison", "police will", "criminal charges", "lawsuit today",
    "seize your", "garnish", "deport", "your employer will", "tell your family",
    "public shame", "blacklist", "final warning", "court tomorrow", "sue you",
    "legal action immediately", "we know where", "your contacts will", "ruin your"};
#define BANNED_COUNT (sizeof banned / sizeof banned[0])
static const char *const opt_out[] = {"reply stop", "text stop", "unsubscribe", "opt out"};
#define OPT_OUT_COUNT (sizeof opt_out / sizeof opt_out[0])

typedef struct {
    uint32_t first;                  /* into ledger[] */
    uint8_t count;
    uint8_t zone;
    uint8_t accounts;                /* 1..3 */
    uint8_t account_end[3];          /* end of each account's run, from first */
    int64_t last_conversation_ms;    /* NEVER: none */
} person_t;

static uint64_t rng_state;
static const tz_zone_t *zone_of[ZONES];
static int64_t day0_local[ZONES];    /* each zone's local date at the simulated day's start */
static int64_t day0_ms;              /* the simulated day, 00:00Z */
static conduct_profile_t profiles[2];
static person_t *persons;
static conduct_attempt_t *ledger;
static char sms_text[TEXTS][256], email_text[TEXTS][256], letter_text[TEXTS][512];

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t below(uint64_t n) { return rng() % n; }

static double seconds_between(const struct timespec *t0, const struct timespec *t1)
{
    return (double)(t1->tv_sec - t0->tv_sec) + (double)(t1->tv_nsec - t0->tv_nsec) / 1e9;
}

static void *alloc_or_die(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) {
        fprintf(stderr, "bench_gate: out of memory (%zu x %zu bytes)\n", n, size);
        exit(1);
    }
    return p;
}

/* The instant of local minute `minute` on local date `day` in zone z, in ms. */
static int64_t local_instant(int z, int64_t day, int minute)
{
    int32_t y;
    int mo, d;
    int64_t s = 0;
    tz_civil_from_days(day, &y, &mo, &d);
    if (tz_utc_of_local(zone_of[z], y, mo, d, minute / 60, minute % 60, 0, &s) != TZ_OK) {
        fprintf(stderr, "bench_gate: no local time %d in %s\n", minute, zones[z]);
        exit(1);
    }
    return s * SEC_MS;
}

static int64_t local_day_of(int z, int64_t ms) { return tz_local_day(zone_of[z], ms / SEC_MS); }

/* ---------------------------------------------------------------- setup */

static void add_holidays(conduct_profile_t *p, const int (*md)[2], size_t n)
{
    for (size_t i = 0; i < n && p->holiday_count < CONDUCT_MAX_HOLIDAYS; i++)
        p->holidays[p->holiday_count++] = tz_days_from_civil(2026, md[i][0], md[i][1]);
}

static void make_profiles(void)
{
    static const int us[][2] = {{1, 1}, {1, 19}, {2, 16}, {5, 25}, {6, 19}, {7, 3},
                                {9, 7}, {10, 12}, {11, 11}, {11, 26}, {12, 25}};
    static const int cn[][2] = {{1, 1}, {2, 16}, {2, 17}, {2, 18}, {2, 19}, {2, 20},
                                {2, 21}, {2, 22}, {4, 5}, {5, 1}, {5, 2}, {5, 3}, {5, 4},
                                {5, 5}, {6, 19}, {10, 1}, {10, 2}, {10, 3}, {10, 4},
                                {10, 5}, {10, 6}, {10, 7}};
    conduct_profile_t *f = &profiles[REG_F];
    conduct_profile_init(f, "us_reg_f");
    f->window_start_min = 8 * 60;
    f->window_end_min = 21 * 60;
    f->person[CALL] = (conduct_cap_t){CONDUCT_NO_CAP, 7};
    f->account[CALL] = (conduct_cap_t){CONDUCT_NO_CAP, 7};
    f->wait_after_conversation_days[CALL] = 7;
    f->person[SMS] = (conduct_cap_t){3, CONDUCT_NO_CAP};
    f->person[EMAIL] = (conduct_cap_t){3, CONDUCT_NO_CAP};
    f->opt_out_notice[SMS] = f->opt_out_notice[EMAIL] = true;
    add_holidays(f, us, sizeof us / sizeof us[0]);

    conduct_profile_t *c = &profiles[CHINA];
    conduct_profile_init(c, "cn");
    c->window_start_min = 8 * 60;
    c->window_end_min = 22 * 60;
    c->count_connected = true;
    c->person[CALL] = (conduct_cap_t){3, CONDUCT_NO_CAP};
    add_holidays(c, cn, sizeof cn / sizeof cn[0]);
}

/* Reminder texts as a renderer would produce them; 3 in 256 hold a banned phrase, and one
 * text and one e-mail in 256 lack the opt-out instruction. */
static void make_texts(void)
{
    static const char *const names[] = {"Wei Zhang", "Maria Silva", "John Smith", "Aisha Bello",
                                        "Priya Sharma", "Tom Walker", "Yuki Tanaka", "Ana Lopez"};
    static const char *const nudges[] = {"Please pay today at", "You can pay securely at",
                                         "To avoid further fees, pay at", "Set up a plan at"};
    static const char *const bad[] = {"FINAL WARNING: pay at", "Pay now or we will Sue You. Go to",
                                      "Pay or Your Employer Will hear. Go to"};
    for (int i = 0; i < TEXTS; i++) {
        const char *name = names[i % 8];
        const char *nudge = i < 3 ? bad[i] : nudges[(i / 8) % 4];
        unsigned amount = 1000 + (unsigned)(i * 7919) % 90000, ref = 1000 + (unsigned)(i * 31) % 9000;
        snprintf(sms_text[i], sizeof sms_text[i],
                 "Hi %s, this is Acme Finance. %u.%02u is overdue on account ending %04u. "
                 "%s https://pay.example.com/%08x%s",
                 name, amount / 100, amount % 100, ref, nudge, (unsigned)i * 2654435761u,
                 i == 5 ? ". Thank you." : " or reply STOP to opt out.");
        snprintf(email_text[(i + 1) % TEXTS], sizeof email_text[0],
                 "Subject: Your Acme Finance account %04u\n\nDear %s, a payment of %u.%02u is now "
                 "past due. %s https://pay.example.com/e/%06x\n%s",
                 ref, name, amount / 100, amount % 100, nudge, (unsigned)i * 40503u,
                 i == 6 ? "" : "Unsubscribe: https://acme.example.com/u");
        snprintf(letter_text[(i + 2) % TEXTS], sizeof letter_text[0],
                 "Acme Finance, 100 Main Street\n\nDear %s,\n\nOur records show that %u.%02u on "
                 "account ending %04u remains unpaid. We would like to help you bring the account "
                 "up to date. %s https://pay.example.com/l/%06x or call us on 0800 000 000, Monday "
                 "to Saturday, to talk about a repayment plan that suits you. If you have already "
                 "paid, please ignore this letter.\n\nYours sincerely,\nCustomer Care",
                 name, amount / 100, amount % 100, ref, nudge, (unsigned)i * 69069u);
    }
}

static void load_zones(void)
{
    static tz_cache_t *cache;
    cache = tz_cache_new(NULL, 64);
    if (!cache) {
        fprintf(stderr, "bench_gate: out of memory\n");
        exit(1);
    }
    for (int z = 0; z < ZONES; z++) {
        int rc = tz_cache_get(cache, zones[z], &zone_of[z]);
        if (rc != TZ_OK) {
            fprintf(stderr, "bench_gate: zone %s: %s\n", zones[z], tz_strerror(rc));
            exit(1);
        }
        day0_local[z] = local_day_of(z, day0_ms);
    }
}

/* One earlier attempt at a local hour inside 08:00-21:00 on one of the last 14 local days,
 * before the simulated day begins. */
static conduct_attempt_t past_attempt(int z, int channel, unsigned connected_pct)
{
    int64_t day = day0_local[z] - (int64_t)below(HISTORY_DAYS);
    int minute = 8 * 60 + (int)below(13 * 60);
    int64_t at = local_instant(z, day, minute) + (int64_t)below(MIN_MS);
    if (at >= day0_ms)
        at -= DAY_MS;
    return (conduct_attempt_t){.at_ms = at, .channel = channel,
                               .connected = below(100) < connected_pct};
}

static size_t build_population(size_t n)
{
    persons = alloc_or_die(n, sizeof *persons);
    ledger = alloc_or_die(n * MAX_PERSON_ATTEMPTS, sizeof *ledger);
    size_t used = 0;
    for (size_t p = 0; p < n; p++) {
        person_t *pp = &persons[p];
        int z = (int)below(ZONES);
        unsigned r = (unsigned)below(100);
        int accounts = r < 60 ? 1 : r < 90 ? 2 : 3;
        conduct_attempt_t tmp[MAX_PERSON_ATTEMPTS];
        uint8_t account[MAX_PERSON_ATTEMPTS];
        int k = 0, sms = (int)below(7), email = (int)below(4), calls = (int)below(11);
        int letters = below(100) < 10;
        for (int i = 0; i < sms; i++) tmp[k++] = past_attempt(z, SMS, 95);
        for (int i = 0; i < email; i++) tmp[k++] = past_attempt(z, EMAIL, 90);
        for (int i = 0; i < calls; i++) tmp[k++] = past_attempt(z, CALL, 30);
        for (int i = 0; i < letters; i++) tmp[k++] = past_attempt(z, LETTER, 100);
        for (int i = 0; i < k; i++)
            account[i] = (uint8_t)below((uint64_t)accounts);
        pp->first = (uint32_t)used;
        pp->zone = (uint8_t)z;
        pp->accounts = (uint8_t)accounts;
        for (int a = 0; a < 3; a++) {
            for (int i = 0; a < accounts && i < k; i++)
                if (account[i] == a)
                    ledger[used++] = tmp[i];
            pp->account_end[a] = (uint8_t)(used - pp->first);
        }
        pp->count = (uint8_t)k;
        pp->last_conversation_ms =
            below(100) < 15 ? day0_ms - 1 - (int64_t)below(30 * DAY_MS) : NEVER;
    }
    return used;
}

/* ---------------------------------------------------------------- tasks */

typedef struct {
    conduct_task_t *tasks;
    uint8_t *profile;
    conduct_attempt_t *own;          /* ledgers of the cap-boundary tasks */
    size_t own_used, own_capacity;
    uint64_t window_edges, cap_edges;
} chunk_t;

static int pick_channel(void)
{
    unsigned r = (unsigned)below(100);
    return r < 35 ? SMS : r < 55 ? EMAIL : r < 93 ? CALL : r < 96 ? LETTER : VISIT;
}

static const char *text_for(int channel)
{
    size_t i = (size_t)below(TEXTS);
    return channel == SMS ? sms_text[i] : channel == EMAIL ? email_text[i]
         : channel == LETTER ? letter_text[i] : NULL;
}

/* About 6% refused by the task's own facts, as the broker would find them. */
static void task_flags(conduct_task_t *t)
{
    unsigned r = (unsigned)below(1000);
    t->on_hold = r < 15;
    t->cease_contact = r >= 15 && r < 20;
    t->opted_out = r >= 20 && r < 30;
    t->point_verified = !(r >= 30 && r < 40);
    t->point_consented = !(r >= 40 && r < 45);
    t->third_party = r >= 45 && r < 50;
    t->template_vetted = !(r >= 50 && r < 52);
    t->mentions_legal = (r >= 52 && r < 55) || below(100) < 3;
    t->time_barred = r >= 52 && r < 55;
}

/* A task whose person's ledger holds cap - 1 or cap attempts that count for its channel at
 * its instant; the ledger is the person's with that channel's attempts replaced, so it
 * gets its own copy in c->own. */
static void cap_edge(chunk_t *c, conduct_task_t *t, const person_t *pp, int prof, int account)
{
    int z = pp->zone, channel, cap;
    bool by_day;
    if (prof == CHINA) {
        channel = CALL, cap = profiles[CHINA].person[CALL].per_day, by_day = true;
    } else {
        unsigned r = (unsigned)below(3);
        channel = r == 0 ? CALL : r == 1 ? SMS : EMAIL;
        by_day = channel != CALL;
        cap = by_day ? profiles[REG_F].person[channel].per_day
                     : profiles[REG_F].person[channel].per_7_days;
    }
    int64_t day = local_day_of(z, day0_ms + (int64_t)below(DAY_MS));
    int64_t now = local_instant(z, day, 10 * 60 + (int)below(10 * 60)) + (int64_t)below(MIN_MS);
    int64_t day_start = local_instant(z, day, 8 * 60);
    int counting = cap - (int)below(2);
    bool one_account = below(2) == 0;

    conduct_attempt_t added[MAX_CAP_ATTEMPTS];
    uint8_t added_account[MAX_CAP_ATTEMPTS];
    int n = 0;
    for (int i = 0; i < counting; i++) {
        int64_t at = by_day ? day_start + (int64_t)below((uint64_t)(now - day_start))
                            : now - 1 - (int64_t)below(WEEK_MS - 2);
        added[n] = (conduct_attempt_t){.at_ms = at, .channel = channel, .connected = true};
        added_account[n++] = (uint8_t)(one_account ? account : (int)below(pp->accounts));
    }
    int extra = (int)below(4);   /* uncounted: older than 7 days, or unanswered calls */
    for (int i = 0; i < extra; i++) {
        bool unanswered = prof == CHINA && below(2) == 0;
        int64_t at = unanswered ? day_start + (int64_t)below((uint64_t)(now - day_start))
                                : now - WEEK_MS - 1 - (int64_t)below(6 * DAY_MS);
        added[n] = (conduct_attempt_t){.at_ms = at, .channel = channel, .connected = !unanswered};
        added_account[n++] = (uint8_t)below(pp->accounts);
    }

    conduct_attempt_t *own = c->own + c->own_used;
    const conduct_attempt_t *theirs = ledger + pp->first;
    size_t k = 0, start = 0;
    for (int a = 0; a < pp->accounts; a++) {
        if (a == account)
            start = k;
        for (int i = a ? pp->account_end[a - 1] : 0; i < pp->account_end[a]; i++)
            if (theirs[i].channel != channel)
                own[k++] = theirs[i];
        for (int i = 0; i < n; i++)
            if (added_account[i] == a)
                own[k++] = added[i];
        if (a == account)
            t->account_attempts = own + start, t->account_count = k - start;
    }
    c->own_used += k;
    t->person_attempts = own;
    t->person_count = k;
    t->channel = channel;
    t->now_ms = now;
    t->text = text_for(channel);
    c->cap_edges++;
}

static void make_chunk(chunk_t *c, size_t n, size_t population)
{
    c->own_used = 0;
    for (size_t i = 0; i < n; i++) {
        conduct_task_t *t = &c->tasks[i];
        size_t p = (size_t)below(population);
        const person_t *pp = &persons[p];
        int prof = (int)(p & 1), account = (int)below(pp->accounts);
        int begin = account ? pp->account_end[account - 1] : 0;
        memset(t, 0, sizeof *t);
        c->profile[i] = (uint8_t)prof;
        t->zone = zone_of[pp->zone];
        t->person_attempts = ledger + pp->first;
        t->person_count = pp->count;
        t->account_attempts = ledger + pp->first + begin;
        t->account_count = (size_t)(pp->account_end[account] - begin);
        t->last_conversation_ms = pp->last_conversation_ms;
        t->point_verified = t->point_consented = t->template_vetted = true;
        t->banned = banned;
        t->banned_count = BANNED_COUNT;
        t->opt_out_phrases = opt_out;
        t->opt_out_phrase_count = OPT_OUT_COUNT;
        unsigned kind = (unsigned)below(1000);
        if (kind < 50) {             /* within 5 minutes of the window's start or end */
            const conduct_profile_t *pr = &profiles[prof];
            int64_t day = local_day_of(pp->zone, day0_ms + (int64_t)below(DAY_MS));
            int minute = below(2) ? pr->window_start_min : pr->window_end_min;
            int64_t off = below(8) == 0 ? 0 : (int64_t)below(10 * MIN_MS + 1) - 5 * MIN_MS;
            t->now_ms = local_instant(pp->zone, day, minute) + off;
            t->channel = pick_channel();
            t->text = text_for(t->channel);
            c->window_edges++;
        } else if (kind < 100 && c->own_used + MAX_PERSON_ATTEMPTS + MAX_CAP_ATTEMPTS <=
                                     c->own_capacity) {   /* at a cap boundary */
            cap_edge(c, t, pp, prof, account);
        } else {
            t->now_ms = day0_ms + (int64_t)below(DAY_MS);
            t->channel = pick_channel();
            t->text = text_for(t->channel);
            task_flags(t);
        }
    }
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    size_t population = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    uint64_t decisions = argc > 2 ? strtoull(argv[2], NULL, 10) : 5000000;
    uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    if (population == 0 || population > UINT32_MAX / MAX_PERSON_ATTEMPTS) {
        fprintf(stderr, "usage: bench_gate [PERSONS [DECISIONS [SEED]]] (PERSONS 1..%u)\n",
                (unsigned)(UINT32_MAX / MAX_PERSON_ATTEMPTS));
        return 2;
    }
    rng_state = seed ? seed : 1;
    printf("# seed %llu\n", (unsigned long long)seed);
    fflush(stdout);
    day0_ms = tz_days_from_civil(2026, 3, 9) * DAY_MS;

    struct timespec b0, b1;
    clock_gettime(CLOCK_MONOTONIC, &b0);
    load_zones();
    make_profiles();
    make_texts();
    size_t attempts = build_population(population);
    clock_gettime(CLOCK_MONOTONIC, &b1);
    fprintf(stderr, "bench_gate: seed=%llu persons=%zu attempts=%zu (%.2f per person, %.0f MB) "
            "built in %.1f s\n", (unsigned long long)seed, population, attempts,
            (double)attempts / (double)population,
            (double)(attempts * sizeof *ledger + population * sizeof *persons) / 1e6,
            seconds_between(&b0, &b1));

    chunk_t c = {0};
    c.tasks = alloc_or_die(CHUNK, sizeof *c.tasks);
    c.profile = alloc_or_die(CHUNK, 1);
    c.own_capacity = CHUNK / 10 * (MAX_PERSON_ATTEMPTS + MAX_CAP_ATTEMPTS);   /* 5% need one */
    c.own = alloc_or_die(c.own_capacity, sizeof *c.own);
    uint64_t verdicts[3] = {0}, rules[CONDUCT_RULE_COUNT] = {0};
    int64_t checksum = 0;
    double timed = 0;
    conduct_decision_t d;
    for (uint64_t done = 0; done < decisions;) {
        size_t n = decisions - done < CHUNK ? (size_t)(decisions - done) : CHUNK;
        make_chunk(&c, n, population);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (size_t i = 0; i < n; i++) {
            conduct_decide(&profiles[c.profile[i]], &c.tasks[i], &d);
            verdicts[d.verdict]++;
            rules[d.rule]++;
            checksum += d.not_before_ms;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        timed += seconds_between(&t0, &t1);
        done += n;
    }

    fprintf(stderr, "bench_gate: rules");
    for (int r = 0; r < CONDUCT_RULE_COUNT; r++)
        if (rules[r])
            fprintf(stderr, " %s=%llu", conduct_rule_name((conduct_rule_t)r),
                    (unsigned long long)rules[r]);
    fprintf(stderr, "\nbench_gate: window_edge_tasks=%llu cap_edge_tasks=%llu checksum=%lld\n",
            (unsigned long long)c.window_edges, (unsigned long long)c.cap_edges,
            (long long)checksum);
    printf("RESULT gate decisions_per_s=%.0f decisions=%llu persons=%zu zones=%d edge_pct=10 "
           "send=%llu defer=%llu refuse=%llu seconds=%.3f ns_per_decision=%.1f seed=%llu\n",
           (double)decisions / timed, (unsigned long long)decisions, population, ZONES,
           (unsigned long long)verdicts[CONDUCT_SEND], (unsigned long long)verdicts[CONDUCT_DEFER],
           (unsigned long long)verdicts[CONDUCT_REFUSE], timed, timed * 1e9 / (double)decisions,
           (unsigned long long)seed);
    free(c.own);
    free(c.profile);
    free(c.tasks);
    free(ledger);
    free(persons);
    return 0;
}
