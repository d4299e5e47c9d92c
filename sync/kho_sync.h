/*
 * kho_sync.h — the public interface of kho's sync module: the static
 * repository (REPOSITORY.md) — publishing pack versions into it, checking
 * it, listing it and collecting its garbage. Transports, delta planning and
 * the box's side of syncing come with the sync issue.
 */
#ifndef KHO_SYNC_H
#define KHO_SYNC_H

#include "kho_core.h"

/* What a publish did. */
typedef struct kho_publish_report {
	size_t versions_added;     /* pack versions new in the repository */
	size_t versions_unchanged; /* already there, with the same content */
	uint64_t objects_added;    /* objects written */
	uint64_t objects_reused;   /* chunks already stored */
	uint64_t bytes_added;      /* bytes of the new objects, compressed */
	int64_t serial;            /* the catalog's serial after the publish */
} kho_publish_report;

/* Adds the pack versions (.kho files or pack folders) to the repository in
 * `repo` (created if missing) and signs its catalog with `sec`. Idempotent:
 * a version already published with the same content changes nothing; with
 * other content it is KHO_EVERSION. A catalog signed by another key is
 * KHO_ESIGNATURE (one repository, one publisher key). KHO_EBUSY while
 * another publish, bundle or gc writes the repository (REPO/.kho-lock). */
int kho_repo_publish(kho_publish_report *out, const char *repo, const kho_secret_key *sec,
	const char *const *packs, size_t n_packs);

/* One published version, as the catalog lists it. */
typedef struct kho_repo_version {
	char *pack;
	char *title;
	int64_t version;
	int64_t files, bytes, lessons;
	int64_t published;   /* Unix time */
} kho_repo_version;

/* The catalog's versions, by pack then version, and its serial and time.
 * With `keys`, its signature must verify with one of them. */
int kho_repo_list(kho_repo_version **out, size_t *out_count, int64_t *serial, int64_t *created,
	const char *repo, const kho_public_key *keys, size_t n_keys);
void kho_repo_versions_free(kho_repo_version *versions, size_t count);

/* Checks every signature and hash: the catalog's signature (with `keys`, or
 * only its shape without), each index against its hash, each object against
 * its name and size, each file against its hash. *problems gets one line per
 * problem found, naming the file (malloc'd array of malloc'd strings);
 * returns KHO_ECORRUPT when there is any, KHO_OK when none. */
int kho_repo_verify(char ***problems, size_t *n_problems, const char *repo,
	const kho_public_key *keys, size_t n_keys);
void kho_repo_problems_free(char **problems, size_t n);

/* What a garbage collection did. */
typedef struct kho_gc_report {
	size_t versions_dropped;
	uint64_t objects_removed;
	uint64_t indexes_removed;  /* files of packs/ no kept version names */
	uint64_t bytes_removed;
	int64_t serial;
} kho_gc_report;

/* Keeps the newest `keep` versions of each pack in the catalog (re-signed
 * with `sec`), then removes the files of packs/ (indexes, deltas) and the
 * objects no kept version names. Holds the repository's lock
 * (REPO/.kho-lock), as publish and bundle do: KHO_EBUSY while another
 * holds it. */
int kho_repo_gc(kho_gc_report *out, const char *repo, const kho_secret_key *sec, int keep);

/* One rule of a bundle: packs whose id matches `pattern` (NULL: "*") and,
 * when set, have the subject, grade or language. */
typedef struct kho_bundle_rule {
	const char *pattern, *subject, *grade, *lang;
} kho_bundle_rule;

/* Adds (or replaces) the catalog's bundle `name` with these rules, or with
 * `rules` NULL removes it (KHO_ENOTFOUND when absent); the catalog is
 * re-signed with a higher serial (*serial). */
int kho_repo_bundle(int64_t *serial, const char *repo, const kho_secret_key *sec,
	const char *name, const char *title, const kho_bundle_rule *rules, size_t n_rules);

/* ------------------------------------------------ the box's side: sync */

/* One pack version a sync installs. */
typedef struct kho_sync_item {
	char *pack;
	char *title;
	int64_t version;         /* the newest in the catalog */
	int64_t installed;       /* the box's visible version; 0 when none */
	size_t files;            /* files of the version */
	size_t files_needed;     /* of which the box has no copy */
	uint64_t bytes;          /* size of all its files */
	uint64_t download;       /* bytes of objects to fetch (as stored) */
	char *index_rel, *index_hash;
	/* the index as a delta from the version `delta_from` (NULL: none) */
	char *delta_rel, *delta_hash;
	int64_t delta_from;
} kho_sync_item;

/* What a sync will do, before it does anything. */
typedef struct kho_sync_plan {
	char *source;            /* a folder (a USB stick) or an http(s):// URL */
	char *work;              /* $KHO_HOME/sync: the catalog, fetched objects, packs being built */
	char key_id[KHO_KEY_ID_HEX_SIZE];
	int64_t serial, created; /* the catalog's */
	kho_sync_item *items;
	size_t n_items;
	size_t up_to_date;       /* subscribed packs already at the newest version */
	size_t not_offered;      /* subscribed versions whose index the source lacks (left out) */
	uint64_t download;       /* bytes to fetch in all */
	uint64_t disk;           /* bytes of disk the sync needs at most */
	/* set by the caller before fetching: */
	uint64_t max_rate;       /* bytes per second; 0: no cap */
	int64_t until;           /* Unix time after which no object is started; 0: none */
	bool stopped;            /* kho_sync_fetch() stopped at `until` (KHO_ELIMIT) */
	/* optional: told after each object, with the bytes fetched so far */
	void (*progress)(void *payload, uint64_t done, uint64_t total);
	void *progress_payload;
	uint64_t fetched;        /* bytes fetched by this run so far */
	/* kept by the sync module: */
	int lock;                /* $KHO_HOME/sync.lock, held while the plan lives */
	bool recorded;           /* the catalog's serial is recorded as seen */
} kho_sync_plan;

/* Fetches and checks the catalog of `source` (its signature by a key the box
 * trusts: KHO_ESIGNATURE otherwise; its serial not lower than one seen
 * from that key: KHO_EVERSION otherwise), then plans the subscribed packs'
 * newest versions: the files the box lacks and the objects to fetch (each
 * counted once). A version whose index the source lacks is left out with a
 * warning (plan->not_offered). KHO_ENOSPACE when the disk cannot hold them —
 * before anything is fetched. The plan holds $KHO_HOME/sync.lock until it
 * is freed: a second sync on the same box is KHO_EBUSY. An empty `source`
 * is KHO_EINVALID. */
int kho_sync_plan_make(kho_sync_plan **out, kho_store *store, const char *source);

/* Fetches what item `i` needs (objects already fetched by an interrupted
 * sync are not fetched again), checks every object and file against its
 * hash, and builds the pack version as a folder under plan->work;
 * *pack_dir (malloc'd) names it, for kho_pack_open() and an install. Past
 * plan->until it starts no new object: KHO_ELIMIT with plan->stopped.
 * The first call records the catalog's serial as seen (rollback
 * protection), whatever happens to the rest of the sync. */
int kho_sync_fetch(char **pack_dir, kho_sync_plan *plan, size_t i, kho_store *store);

/* Checks that the pack built for item `i` is what the catalog names: its
 * manifest's id and version (KHO_ECORRUPT otherwise). */
int kho_sync_check_pack(const kho_sync_plan *plan, size_t i, const kho_pack *pack);

/* After the installs: records the catalog as installed from, keeps it and
 * the installed versions' indexes in $KHO_HOME/repo (for kho serve's
 * /repo/), and removes what the sync kept under plan->work. */
int kho_sync_finish(kho_sync_plan *plan, kho_store *store);
void kho_sync_plan_free(kho_sync_plan *plan);

/* ---------------------------------------------- sneakernet (export.c) */

/* Writes what this box holds and follows (its packs' versions, its
 * subscriptions, the hashes of its files) to `path`, for kho_sync_export()
 * on another machine. */
int kho_sync_state_write(const char *path, kho_store *store);

typedef struct kho_export_report {
	size_t versions;      /* pack versions the box will install from it */
	uint64_t files;       /* files written (catalog, indexes, objects) */
	uint64_t bytes;
} kho_export_report;

/* Writes into the folder `dir` (a USB stick) a repository holding exactly
 * what the box described by the state file lacks, taken from the
 * repository `from` (a folder or URL): the signed catalog as it is, the
 * indexes of the versions it will install, the objects of the files it has
 * no copy of. A stick can serve several boxes: objects already in `dir` are
 * kept, as are indexes that match the catalog's hash; the catalog and its
 * signature are always fetched again (signature first). KHO_EBUSY while
 * another export writes `dir` (DIR/.kho-lock). The box checks everything
 * when it syncs from it. */
int kho_sync_export(kho_export_report *out, const char *state_path, const char *from,
	const char *dir);

/* ------------------------------------------ the outbox (outbox.c) */

/* This box's id for the centre: 16 random hex digits, made once. */
int kho_box_id(char out[17], kho_store *store);

/* Queues a copy of `file` in the outbox, named by its content's hash (so a
 * file queued twice is sent once); *name (malloc'd) is that name. */
int kho_outbox_add(char **name, kho_store *store, const char *file);
/* Takes the queued file `name` out of the outbox (nothing when it was sent
 * already or is not there). */
int kho_outbox_drop(kho_store *store, const char *name);

typedef struct kho_push_report {
	size_t sent, failed;
	uint64_t bytes;
} kho_push_report;

/* Sends every queued file to `to`/BOX_ID/NAME: an HTTP PUT when `to` is a
 * URL, a copy when it is a folder; sent files move to outbox/sent/. Files
 * that fail stay queued (the error names the first). An empty `to` is
 * KHO_EINVALID. */
int kho_outbox_push(kho_push_report *out, kho_store *store, const char *to);

/* --------------------------------- suggested subscriptions (suggest.c) */

/* A pack of the box's last catalog that teachers' profiles ask for. */
typedef struct kho_suggestion {
	char *pack, *title;
	char *subjects, *grades;  /* space-separated, as the catalog gives them */
	size_t teachers;          /* teachers whose grades and subjects it has */
} kho_suggestion;

/* The packs of the last catalog synced ($KHO_HOME/repo/catalog.json) that
 * are not installed, that no subscription pulls, and that have a subject
 * and a grade of a teacher's profile (a profile without grades: any grade;
 * without subjects: any subject; empty: none); most teachers first.
 * KHO_ENOTFOUND when the box never synced. */
int kho_sync_suggest(kho_suggestion **out, size_t *out_count, kho_store *store);
void kho_suggestions_free(kho_suggestion *list, size_t count);

/* ------------------------- popularity across schools (repo-popular.c) */

/* Folds the most opened lessons of `popularity` (the popularity.json of
 * kho repo report) whose packs the catalog has into its "popular" (at most
 * 200), and re-signs it with a higher serial (*serial); *count lessons. */
int kho_repo_popular(int64_t *serial, size_t *count, const char *repo,
	const kho_secret_key *sec, const char *popularity);

/* A lesson opened at many schools, as the centre's last catalog says. */
typedef struct kho_popular {
	char *pack, *lesson;
	int64_t opens, schools;
} kho_popular;

/* The "popular" of the last catalog synced (none before the first sync,
 * or when the centre gave none), most opened first. */
int kho_sync_popular(kho_popular **out, size_t *out_count, kho_store *store);
void kho_popular_free(kho_popular *list, size_t count);

#endif
