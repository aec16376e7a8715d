/* ops: the operator's commands on the embedded default — up, down, status, simulate,
 * account, report and the audited operator actions. Each is a thin shell: the folder
 * and processes are embedded and fleet, the clock is driver, the questions go to the
 * services as queries (opclient), and what comes back is printed. */
#ifndef ARREARS_OPS_H
#define ARREARS_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OPS_POINTS_MAX 8      /* correct-contact: phones (or e-mails), as staging allows */

typedef struct {
    const char *dir;          /* the embedded default's folder */
    bool simulated;           /* up: on the simulated clock */
    const char *start;        /* up: its first day */
    const char *durability;   /* up: "durable" (default) or "relaxed" */
    uint64_t seed;            /* up: the worker's voice robot */
    uint32_t shards;          /* up: staging's shards; 0: as many as the folder has (1 at first) */
    int64_t days;             /* simulate: how far */
    int64_t step_minutes;     /* simulate: the step */
    const char *format;       /* report: "table", "csv" or "html" */
    const char *out;          /* report: the file (csv, html); NULL: stdout */
    const char *platform;     /* report: one platform; NULL: every one */
    const char *as;           /* actions: the operator principal whose key signs (keys/AS.key) */
    const char *reason;       /* actions: why (audited) */
    const char *hold;         /* lift-hold: which */
    const char *from;         /* restore: the backup folder */
    struct {                  /* correct-contact: --phone (E.164) and --email, in order */
        const char *phones[OPS_POINTS_MAX], *emails[OPS_POINTS_MAX];
        size_t n_phones, n_emails;
    } contact;
} ops_options_t;

ops_options_t ops_default_options(void);
int ops_up_main(const ops_options_t *o);
int ops_down_main(const ops_options_t *o);
int ops_status_main(const ops_options_t *o);
int ops_simulate_main(const ops_options_t *o);
int ops_account_main(const ops_options_t *o, const char *platform, const char *ref);
int ops_report_main(const ops_options_t *o);
/* backup: every store's consistent copy; restore SERVICE: one put back (it stopped). */
int ops_backup_main(const ops_options_t *o);
int ops_restore_main(const ops_options_t *o, const char *service);
int ops_stop_main(const ops_options_t *o, const char *service);
/* action: resolve-complaint, hold, lift-hold, write-off, approve-settlement,
 * correct-contact. */
int ops_action_main(const ops_options_t *o, const char *action, const char *platform,
                    const char *ref);

#endif
