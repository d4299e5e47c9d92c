/*
 * kho_core.h — the public interface of kho's core: errors, logging, paths,
 * content hashing, the content-addressed blob store, the box store (kho.db)
 * and the pack model with its manifest and container readers.
 *
 * Every other module builds on this header and on nothing inside core/.
 * Conventions: functions return 0 (KHO_OK) or a negative kho_error and set a
 * message readable with kho_error_last(); output parameters come first and are
 * set only on success; what a function returns through `out` belongs to the
 * caller and is freed with the matching *_free(), which accepts NULL.
 */
#ifndef KHO_CORE_H
#define KHO_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sqlite3 sqlite3;

/* ---------------------------------------------------------------- errors */

/* The one error type of the project. Values are pinned: scripts and tests
 * may rely on them, and a new code only ever takes a new number. */
typedef enum kho_error {
	KHO_OK = 0,
	KHO_ERROR = -1,      /* something failed that has no better code */
	KHO_ENOMEM = -2,     /* out of memory */
	KHO_ENOTFOUND = -3,  /* no such pack, lesson, file or key */
	KHO_EEXISTS = -4,    /* already there (e.g. the same pack version) */
	KHO_EINVALID = -5,   /* malformed input: bad manifest, bad argument */
	KHO_ECORRUPT = -6,   /* stored or received data fails its checks */
	KHO_EVERSION = -7,   /* version conflict: older pack, newer store schema */
	KHO_ENOSPACE = -8,   /* the disk is full */
	KHO_EIO = -9,        /* the operating system refused a read or write */
	KHO_ESIGNATURE = -10, /* a signature does not verify */
	KHO_EUNSAFE = -11,   /* input tries to leave its place: traversal, links */
	KHO_ELIMIT = -12,    /* input exceeds a cap: size, count, ratio, depth */
	KHO_EBUSY = -13,     /* the store is locked by another process */
	KHO_EDENIED = -14,   /* not allowed: another teacher's collection, admin work */
} kho_error;

/* A short fixed description of `code` ("not found", …); never NULL. */
const char *kho_error_name(int code);

/* Records `code` with a printf-style message as this thread's last error and
 * returns `code`, so that `return kho_error_set(KHO_EINVALID, "…");` reads
 * naturally. The message says what went wrong and why, without a prefix. */
int kho_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The message of this thread's last error, or "" if none. Valid until the
 * next kho_error_set() or kho_error_clear() on this thread. */
const char *kho_error_last(void);

/* The code of this thread's last error, or KHO_OK. */
int kho_error_last_code(void);

void kho_error_clear(void);

/* --------------------------------------------------------------- logging */

typedef enum kho_log_level {
	KHO_LOG_ERROR = 0,
	KHO_LOG_WARN = 1,
	KHO_LOG_INFO = 2,
	KHO_LOG_DEBUG = 3,
} kho_log_level;

/* Messages above `level` are dropped. The default is KHO_LOG_WARN, or the
 * level named by $KHO_LOG (error, warn, info, debug) when it is set. */
void kho_log_set_level(kho_log_level level);
kho_log_level kho_log_get_level(void);

/* Writes one line "kho: <level>: <message>" to stderr. */
void kho_log(kho_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define kho_log_error(...) kho_log(KHO_LOG_ERROR, __VA_ARGS__)
#define kho_log_warn(...) kho_log(KHO_LOG_WARN, __VA_ARGS__)
#define kho_log_info(...) kho_log(KHO_LOG_INFO, __VA_ARGS__)
#define kho_log_debug(...) kho_log(KHO_LOG_DEBUG, __VA_ARGS__)

/* Seconds on a monotonic clock, for logging how long steps take. */
double kho_log_clock(void);

/* The processors this process may run on (its affinity), at least 1. */
int kho_cpus(void);

/* ----------------------------------------------------------------- paths */

/* The box's home folder: `flag` when given (--home), else $KHO_HOME, else
 * $XDG_DATA_HOME/kho, else $HOME/.local/share/kho. *out is malloc'd.
 * Returns KHO_EINVALID when none of these is set. */
int kho_home_resolve(char **out, const char *flag);

/* Creates `path` and its missing parents with `mode`. KHO_EIO on failure. */
int kho_mkdir_p(const char *path, unsigned mode);

/* "a/b" as a new malloc'd string, or NULL when out of memory. */
char *kho_path_join(const char *a, const char *b);

/* True when `path` is a safe relative path inside a pack: UTF-8, not empty,
 * no leading '/', no backslash, no ':', no control characters, no empty,
 * "." or ".." segment, at most 1024 bytes. */
bool kho_path_is_safe(const char *path);

/* True when the `len` bytes at `s` are valid UTF-8 without NUL. */
bool kho_utf8_valid(const char *s, size_t len);

/* The next word of the space-separated list at *p ("5 6", "toan tin-hoc")
 * into `word` (NUL-terminated), *p moved past it; false at the end. Words
 * of `size` bytes or more are skipped. */
bool kho_next_word(const char **p, char *word, size_t size);

/* --------------------------------------------------------------- hashing */

/* Content hashes are BLAKE2b-256 (libsodium's crypto_generichash); why is
 * written in docs/design.md. */
#define KHO_HASH_SIZE 32
#define KHO_HASH_HEX_SIZE 65 /* 64 hex digits and a NUL */

typedef struct kho_hash {
	unsigned char bytes[KHO_HASH_SIZE];
} kho_hash;

/* Streaming hasher; lives on the caller's stack. */
typedef struct kho_hasher {
	_Alignas(64) unsigned char state[384];
} kho_hasher;

/* Initialises libsodium; call once before anything else. KHO_ERROR if the
 * library cannot start. */
int kho_crypto_init(void);

void kho_hasher_init(kho_hasher *h);
void kho_hasher_update(kho_hasher *h, const void *data, size_t len);
void kho_hasher_final(kho_hasher *h, kho_hash *out);
void kho_hash_buffer(kho_hash *out, const void *data, size_t len);

void kho_hash_to_hex(char out[KHO_HASH_HEX_SIZE], const kho_hash *hash);
/* KHO_EINVALID unless `hex` is exactly 64 lower-case hex digits. */
int kho_hash_from_hex(kho_hash *out, const char *hex);

/* ------------------------------------------ keys and signatures (sign.c) */

/* Ed25519 keys and signatures in minisign's file formats (docs/signing.md):
 * minisign verifies what kho signs, and kho verifies what minisign signs. */
#define KHO_KEY_ID_SIZE 8
#define KHO_KEY_ID_HEX_SIZE 17 /* 16 hex digits, as minisign prints a key id, and NUL */

typedef struct kho_public_key {
	unsigned char id[KHO_KEY_ID_SIZE];
	unsigned char key[32];
} kho_public_key;

typedef struct kho_secret_key {
	unsigned char id[KHO_KEY_ID_SIZE];
	unsigned char key[64];
} kho_secret_key;

/* A new key pair with a random key id. */
void kho_keygen(kho_public_key *pub, kho_secret_key *sec);
void kho_key_id_hex(char out[KHO_KEY_ID_HEX_SIZE], const unsigned char id[KHO_KEY_ID_SIZE]);

/* A public key from a key file's text, or from its base64 line alone. */
int kho_public_key_parse(kho_public_key *out, const char *text, size_t len);
int kho_public_key_read(kho_public_key *out, const char *path);
/* The key's base64 line (malloc'd), or NULL when out of memory. */
char *kho_public_key_text(const kho_public_key *pub);
/* Key files are written whole or not at all; KHO_EEXISTS unless overwrite. */
int kho_public_key_write(const char *path, const kho_public_key *pub, bool overwrite);
/* Encrypted with the passphrase (scrypt, as minisign) unless it is NULL. */
int kho_secret_key_write(const char *path, const kho_secret_key *sec, const char *passphrase,
	bool overwrite);
int kho_secret_key_encrypted(bool *out, const char *path);
/* KHO_ESIGNATURE for a wrong passphrase (the key's checksum fails). */
int kho_secret_key_read(kho_secret_key *out, const char *path, const char *passphrase);

/* Signs the file at `path` (its BLAKE2b-512, minisign's "hashed" mode) into
 * the signature file `sig_path`, with a one-line trusted comment. */
int kho_sign_file(const char *path, const char *sig_path, const kho_secret_key *sec,
	const char *trusted_comment);
/* Verifies `path` against `sig_path` with whichever of `keys` signed it:
 * *signer gets its index and *trusted_comment (malloc'd, may be NULL) the
 * signed comment. KHO_ENOTFOUND when no key has the signature's key id,
 * KHO_ESIGNATURE when the signature does not verify, KHO_EINVALID when the
 * signature file is malformed. */
int kho_verify_file(size_t *signer, char **trusted_comment, const char *path,
	const char *sig_path, const kho_public_key *keys, size_t n_keys);

/* ------------------------------------------------------------ blob store */

/* Files named by their hash under a folder (blobs/ab/cdef…). New blobs are
 * written to blobs/tmp/, then kho_blobs_commit() makes them durable (one
 * syncfs), renames them into place and syncs again, so that a blob under its
 * final name always holds its whole content. A blob that is already there is
 * not written again: identical files across packs and versions are stored
 * once. Blobs are never changed once written. */
typedef struct kho_blobs kho_blobs;
typedef struct kho_blob_writer kho_blob_writer;

/* Opens (creating it if needed) the blob folder `dir`. */
int kho_blobs_open(kho_blobs **out, const char *dir);
/* Removes staged blobs that were not committed, then frees. */
void kho_blobs_free(kho_blobs *blobs);

/* Starts a new blob; the writer is freed by kho_blob_writer_finish() or
 * kho_blob_writer_free(). */
int kho_blob_writer_new(kho_blob_writer **out, kho_blobs *blobs);
int kho_blob_writer_write(kho_blob_writer *w, const void *data, size_t len);
/* Ends the blob and stages it; always frees `w`. *out_size may be NULL. */
int kho_blob_writer_finish(kho_blob_writer *w, kho_hash *out, uint64_t *out_size);
/* Abandons a blob being written (removes its temporary file). */
void kho_blob_writer_free(kho_blob_writer *w);

/* Writes a whole buffer as one blob (stage only). */
int kho_blobs_put(kho_blobs *blobs, kho_hash *out, const void *data, size_t len);

/* Makes every staged blob durable under its final name. */
int kho_blobs_commit(kho_blobs *blobs);
/* The same in a thread of its own: begin starts it (nothing may be staged
 * until end), end waits for it and returns what kho_blobs_commit() would
 * have (it commits right there when begin could not start a thread). */
void kho_blobs_commit_begin(kho_blobs *blobs);
int kho_blobs_commit_end(kho_blobs *blobs);
/* Drops every staged blob (after waiting for a commit begun: the blobs it
 * renamed stay, unreferenced, until kho gc). */
void kho_blobs_abort(kho_blobs *blobs);

/* The path of a committed blob (malloc'd); the file may not exist. */
char *kho_blobs_path(const kho_blobs *blobs, const kho_hash *hash);

/* Reads a committed blob into a malloc'd buffer (NUL-terminated for
 * convenience; the NUL is not counted in *out_len). KHO_ENOTFOUND if absent,
 * KHO_ECORRUPT if its content no longer matches its hash. */
int kho_blobs_read(char **out, size_t *out_len, const kho_blobs *blobs, const kho_hash *hash);

/* ---------------------------------------------------------- pack manifest */

typedef struct kho_manifest_unit {
	char *id;
	char *title;
	char *summary;     /* NULL when absent */
} kho_manifest_unit;

typedef struct kho_manifest_lesson {
	char *id;
	char *href;        /* safe relative path inside the pack */
	char *title;
	char *keywords;    /* NULL when absent */
	char *summary;     /* NULL when absent */
	long unit;         /* index into kho_manifest.units, or -1 */
	char **subjects;   /* the lesson's own, else the pack's */
	size_t n_subjects;
	int *grades;       /* the lesson's own, else the pack's */
	size_t n_grades;
	int line;          /* line of <lesson> in manifest.xml */
} kho_manifest_lesson;

typedef struct kho_manifest {
	char *id;
	int64_t version;
	char *lang;        /* xml:lang, "und" when absent */
	char *title;
	char *summary;     /* NULL when absent */
	char *publisher;   /* NULL when absent */
	char *license;     /* NULL when absent */
	char **subjects;
	size_t n_subjects;
	int *grades;
	size_t n_grades;
	kho_manifest_unit *units;
	size_t n_units;
	kho_manifest_lesson *lessons; /* in document order */
	size_t n_lessons;
} kho_manifest;

/* Largest manifest.xml accepted, in bytes. */
#define KHO_MANIFEST_MAX_SIZE (8u * 1024 * 1024)

/* Parses and validates manifest.xml (`len` bytes at `xml`) against the
 * RELAX NG schema of content-packs/FORMAT.md, then checks what the schema
 * cannot (unique lesson ids, safe hrefs). Refuses DTDs, entities and
 * anything that would touch the network. `name` prefixes error lines.
 * KHO_EINVALID (message lists each error with its line), KHO_ELIMIT,
 * KHO_EUNSAFE. */
int kho_manifest_parse(kho_manifest **out, const char *xml, size_t len, const char *name);
void kho_manifest_free(kho_manifest *m);

/* ------------------------------------------------------------------ packs */

/* An opened pack: a .kho zip file or a folder, its manifest parsed and every
 * entry checked (names, links, sizes, counts). Entries are the pack's files,
 * manifest.xml included, in a stable order. */
typedef struct kho_pack kho_pack;

/* Caps on what a pack may hold; exceeding one is KHO_ELIMIT. */
#define KHO_PACK_MAX_ENTRIES 65536
#define KHO_PACK_MAX_ENTRY_SIZE (1024ull * 1024 * 1024)      /* 1 GiB */
#define KHO_PACK_MAX_TOTAL_SIZE (8ull * 1024 * 1024 * 1024)  /* 8 GiB */
/* Zip bombs: an entry larger than 1 MiB, and all entries together once they
 * pass KHO_PACK_RATIO_FLOOR bytes, may not expand more than
 * KHO_PACK_MAX_RATIO times their compressed size. */
#define KHO_PACK_MAX_RATIO 200
#define KHO_PACK_RATIO_FLOOR (64ull * 1024 * 1024)

/* Opens `path`, a zip file or a folder. KHO_ENOTFOUND, KHO_EINVALID
 * (not a zip, no manifest, bad manifest, missing lesson file), KHO_EUNSAFE,
 * KHO_ELIMIT, KHO_EIO. */
int kho_pack_open(kho_pack **out, const char *path);

/* Opens a zip pack held in memory; `data` must outlive the pack. */
int kho_pack_open_buffer(kho_pack **out, const void *data, size_t len, const char *name);

void kho_pack_free(kho_pack *pack);

/* Borrowed; valid until kho_pack_free(). */
const kho_manifest *kho_pack_manifest(const kho_pack *pack);
/* The path the pack was opened from. */
const char *kho_pack_source(const kho_pack *pack);
/* The key id (hex) whose signature of the pack the importer verified, which
 * kho_store_install() records; NULL (the default) for an unverified pack. */
int kho_pack_set_signer(kho_pack *pack, const char *key_id);
const char *kho_pack_signer(const kho_pack *pack);

size_t kho_pack_entry_count(const kho_pack *pack);
/* Borrowed entry name, a safe relative path. */
const char *kho_pack_entry_name(const kho_pack *pack, size_t i);
/* The size the container declares (checked while reading). */
uint64_t kho_pack_entry_size(const kho_pack *pack, size_t i);
/* Index of the entry named `name`, or -1. */
long kho_pack_entry_find(const kho_pack *pack, const char *name);

/* Streams entry `i` to `sink` in pieces; stops at the first non-zero return
 * of `sink` and returns it. KHO_ECORRUPT if the bytes disagree with the
 * container's size or checksum. */
int kho_pack_entry_read(kho_pack *pack, size_t i,
	int (*sink)(void *payload, const void *data, size_t len), void *payload);

/* Reads entry `i` whole into a malloc'd, NUL-terminated buffer; KHO_ELIMIT if
 * it is larger than `max`. */
int kho_pack_entry_read_all(char **out, size_t *out_len, kho_pack *pack, size_t i, size_t max);

/* ------------------------------------------------ archives (archive.c) */

/* Any zip file or folder read with a pack's safety rules but without a
 * manifest: the foreign packages that importers convert (SCORM, IMS CC,
 * EPUB, H5P). Every entry name is checked as for a pack (safe relative
 * UTF-8 path, no links, no encrypted entries), the caps of "packs" above
 * apply (entry count, sizes, compression ratio), names are unique, and each
 * read is checked against the declared size. Entries are sorted by name;
 * folder entries of a zip are not listed. */
typedef struct kho_archive kho_archive;

/* Opens `path`, a zip file or a folder. KHO_ENOTFOUND, KHO_EINVALID (not a
 * zip, damaged zip), KHO_EUNSAFE, KHO_ELIMIT, KHO_EIO. */
int kho_archive_open(kho_archive **out, const char *path);
/* Opens a zip held in memory; `data` must outlive the archive. */
int kho_archive_open_buffer(kho_archive **out, const void *data, size_t len, const char *name);
void kho_archive_free(kho_archive *archive);

/* The path (or name) the archive was opened from; borrowed. */
const char *kho_archive_source(const kho_archive *archive);
size_t kho_archive_entry_count(const kho_archive *archive);
/* Borrowed entry name (a safe relative path), NULL past the end. */
const char *kho_archive_entry_name(const kho_archive *archive, size_t i);
uint64_t kho_archive_entry_size(const kho_archive *archive, size_t i);
/* Index of the entry named `name`, or -1. */
long kho_archive_entry_find(const kho_archive *archive, const char *name);
/* As kho_pack_entry_read() and kho_pack_entry_read_all(). */
int kho_archive_entry_read(kho_archive *archive, size_t i,
	int (*sink)(void *payload, const void *data, size_t len), void *payload);
int kho_archive_entry_read_all(char **out, size_t *out_len, kho_archive *archive, size_t i,
	size_t max);

/* ------------------------------------------------------------- box store */

/* The box store under a home folder: kho.db (SQLite, WAL, foreign keys) and
 * blobs/. Opening creates what is missing and migrates an older schema. A
 * store, its connection and what is built on it (an index) are used by one
 * thread at a time; threads that work in parallel open their own. */
typedef struct kho_store kho_store;

/* The schema version this build writes. */
#define KHO_STORE_SCHEMA_VERSION 7

/* KHO_EVERSION if the store was written by a newer kho. */
int kho_store_open(kho_store **out, const char *home);
void kho_store_free(kho_store *store);

/* Borrowed handles, valid until kho_store_free(). */
sqlite3 *kho_store_db(kho_store *store);
kho_blobs *kho_store_blobs(kho_store *store);
const char *kho_store_home(const kho_store *store);
int kho_store_schema_version(kho_store *store);

/* Runs one SQL statement without results; translates SQLite errors. */
int kho_store_exec(kho_store *store, const char *sql);

/* Translates the store's last SQLite error after `rc` into a kho_error with
 * `what` as context. */
int kho_store_error(kho_store *store, int rc, const char *what);

/* Installed packs, as `kho list` shows them. */
typedef struct kho_pack_info {
	char *id;
	int64_t version;         /* the visible version */
	char *title;
	char *lang;
	int64_t lessons;         /* lessons in the visible version */
	int64_t older_versions;  /* kept for rollback */
	int64_t installed_at;    /* Unix time of the visible version */
	char *signed_by;         /* key id (hex) of the visible version; NULL: unverified */
} kho_pack_info;

int kho_store_list_packs(kho_pack_info **out, size_t *out_count, kho_store *store);

/* Keys whose signed packs this box installs (`kho trust`). */
typedef struct kho_trusted_key {
	kho_public_key key;
	char id_hex[KHO_KEY_ID_HEX_SIZE];
	char *comment;
	int64_t added_at;
} kho_trusted_key;

/* KHO_EEXISTS when a key with that id is trusted already. */
int kho_store_trust_add(kho_store *store, const kho_public_key *key, const char *comment);
/* `key_id` in hex (as `kho trust list` shows it); KHO_ENOTFOUND when absent. */
int kho_store_trust_remove(kho_store *store, const char *key_id);
int kho_store_trusted_keys(kho_trusted_key **out, size_t *out_count, kho_store *store);
void kho_trusted_keys_free(kho_trusted_key *keys, size_t count);

/* What `kho sync` pulls (store-sync.c): packs whose id matches `pattern` (a
 * shell glob: vn.kho.toan-*), and, when set, that have the subject, grade
 * or language. */
typedef struct kho_subscription {
	char *pattern;
	char *subject;   /* "" for any */
	char *grade;     /* "" for any */
	char *lang;      /* "" for any */
	int64_t added_at;
} kho_subscription;

/* KHO_EEXISTS for the same pattern and filters again. */
int kho_store_subscribe(kho_store *store, const kho_subscription *sub);
/* Every subscription with this pattern; KHO_ENOTFOUND when none. */
int kho_store_unsubscribe(kho_store *store, const char *pattern);
int kho_store_subscriptions(kho_subscription **out, size_t *out_count, kho_store *store);
void kho_subscriptions_free(kho_subscription *subs, size_t count);

/* The content hash (hex) of every file of every installed version, sorted:
 * what a box holds, for `kho state`. */
int kho_store_file_hashes(char ***out, size_t *out_count, kho_store *store);

/* ------------------------------------- teachers' accounts (store-users.c) */

/* A teacher's account on the box. */
typedef struct kho_user {
	int64_t id;
	char *name;
	bool admin;
	char *grades;     /* numbers separated by spaces */
	char *subjects;   /* codes separated by spaces */
	char *lang;       /* "vi" or "en" */
	int64_t created_at;
} kho_user;

void kho_user_free(kho_user *user);
void kho_users_free(kho_user *users, size_t count);

/* Names: 1–64 bytes of letters, digits, '.', '-', '_' (KHO_EINVALID
 * otherwise); passwords: 8–1024 bytes, stored as Argon2id hashes. */
int kho_store_user_add(kho_store *store, const char *name, const char *password, bool admin);
int kho_store_user_remove(kho_store *store, const char *name);
int kho_store_user_passwd(kho_store *store, const char *name, const char *password);
int kho_store_users(kho_user **out, size_t *out_count, kho_store *store);
/* The user whose name and password these are; KHO_ENOTFOUND for a wrong
 * name or password (the same answer, and about the same time, for both). */
int kho_store_user_check(kho_user **out, kho_store *store, const char *name,
	const char *password);

/* Sessions: a random token (64 hex digits, given once to the browser; only
 * its hash is stored) and a CSRF token, valid for `seconds`. */
int kho_store_session_new(char token[65], char csrf[65], kho_store *store, int64_t user_id,
	int64_t seconds);
/* The session's user and CSRF token; KHO_ENOTFOUND when unknown or expired. */
int kho_store_session_get(kho_user **user, char csrf[65], kho_store *store, const char *token);
int kho_store_session_end(kho_store *store, const char *token);

/* A teacher's favourite lessons, newest first. */
typedef struct kho_favourite {
	char *pack, *lesson;
	int64_t added_at;
} kho_favourite;

/* KHO_EEXISTS when it is a favourite already (nothing changes). */
int kho_store_favourite_add(kho_store *store, int64_t user_id, const char *pack, const char *lesson);
int kho_store_favourite_remove(kho_store *store, int64_t user_id, const char *pack,
	const char *lesson);
int kho_store_favourites(kho_favourite **out, size_t *out_count, kho_store *store,
	int64_t user_id);
void kho_favourites_free(kho_favourite *favs, size_t count);

/* A teacher's profile: grades ("5 6"), subjects ("toan tin-hoc"), "vi" or
 * "en"; NULL leaves a field as it is. KHO_EINVALID for malformed values. */
int kho_store_user_profile(kho_store *store, int64_t user_id, const char *grades,
	const char *subjects, const char *lang);

/* A teacher's history: the lessons they opened, each once, last first
 * (kho_favourite's fields; added_at is when it was last opened). Only the
 * newest KHO_HISTORY_MAX are kept. */
#define KHO_HISTORY_MAX 200
int kho_store_history_add(kho_store *store, int64_t user_id, const char *pack, const char *lesson);
int kho_store_history(kho_favourite **out, size_t *out_count, kho_store *store, int64_t user_id,
	size_t limit);

/* Collections: a teacher's named, ordered lists of lessons ("Tuần 12 –
 * Lớp 5A"), private or shared with every teacher of the school. Only the
 * owner changes one; another teacher's private collection does not exist
 * for the others (KHO_ENOTFOUND), a shared one reads but does not change
 * (KHO_EDENIED). Names: 1–200 bytes of UTF-8 text; at most
 * KHO_COLLECTION_MAX lessons. */
#define KHO_COLLECTION_MAX 500
/* As `user_id`: the box's administrator at the command line, who reads and
 * changes every collection (no account has this id). */
#define KHO_BOX_ADMIN 0

typedef struct kho_collection_item {
	char *pack, *lesson;
	char *title;       /* the lesson's title on the box; NULL when it is no longer there */
} kho_collection_item;

typedef struct kho_collection {
	int64_t id;
	char *name;
	char *owner;       /* the owner's user name */
	bool shared;
	bool mine;         /* owned by the teacher who asked */
	int64_t updated_at;
	size_t count;      /* lessons in it */
	char *pack_id;     /* of its exported pack: "teacher." and 16 random hex digits */
	char *queued;      /* its pack's name in the outbox, or NULL */
	kho_collection_item *items; /* in order; NULL in kho_store_collections()' list */
} kho_collection;

int kho_store_collection_new(int64_t *id, kho_store *store, int64_t user_id, const char *name,
	bool shared);
/* The collections `user_id` reads: their own, then those shared by others;
 * each group last changed first. */
int kho_store_collections(kho_collection **out, size_t *out_count, kho_store *store,
	int64_t user_id);
/* One collection with its items. */
int kho_store_collection_get(kho_collection **out, kho_store *store, int64_t id,
	int64_t user_id);
/* Renames it (`name` NULL: keeps it) and shares it or not (`shared` -1:
 * keeps it). */
int kho_store_collection_update(kho_store *store, int64_t id, int64_t user_id, const char *name,
	int shared);
/* Replaces its lessons by `items` (pack, lesson of each; titles ignored),
 * in that order, each once; each must be installed (KHO_EINVALID naming the
 * first that is not; nothing changes then). */
int kho_store_collection_set(kho_store *store, int64_t id, int64_t user_id,
	const kho_collection_item *items, size_t count);
/* Adds one installed lesson at the end (a no-op when it is there). */
int kho_store_collection_add(kho_store *store, int64_t id, int64_t user_id, const char *pack,
	const char *lesson);
int kho_store_collection_remove(kho_store *store, int64_t id, int64_t user_id);
/* Records `name` as the collection's pack in the outbox (the caller checked
 * who may). */
int kho_store_collection_queued(kho_store *store, int64_t id, const char *name);
void kho_collection_free(kho_collection *c);
void kho_collections_free(kho_collection *list, size_t count);

/* A lesson as the home page lists it (store-home.c). */
typedef struct kho_lesson_brief {
	char *pack, *lesson, *title;
	char *unit_title;  /* "" without a unit */
	int64_t count;     /* what the list counts (teachers), or 0 */
	char *after;       /* kho_store_next_lessons(): the title of the lesson it follows */
} kho_lesson_brief;
void kho_lesson_briefs_free(kho_lesson_brief *list, size_t count);

/* The lessons opened by the most teachers of the box since `since` (Unix
 * time), most first; `count` is the number of teachers, two at least (what
 * one teacher alone reads is theirs). */
int kho_store_popular_here(kho_lesson_brief **out, size_t *out_count, kho_store *store,
	int64_t since, size_t limit);
/* Where the units of the space-separated `grades` and `subjects` ("" or
 * NULL: any) start: for each unit (each pack without units) of the visible
 * packs, its first lesson of one of those grades and subjects, in store
 * order, grade by grade. Reads lessons through the index of lesson_tags,
 * only up to the last unit listed. */
int kho_store_starting_lessons(kho_lesson_brief **out, size_t *out_count, kho_store *store,
	const char *grades, const char *subjects, size_t limit);
/* In each of the last `units` units the teacher opened a lesson of, the
 * first lesson after the last one they opened there that they have not
 * opened; units done give none. Last worked in first. */
int kho_store_next_lessons(kho_lesson_brief **out, size_t *out_count, kho_store *store,
	int64_t user_id, size_t units);

/* Teachers' data and the box's settings — users, favourites, history,
 * subscriptions, trusted keys, catalogs seen — copied into a new SQLite file
 * at `path` from one consistent snapshot (safe while the box serves), and
 * restored from one (rows of the same key replaced; packs come back by a
 * sync). KHO_EEXISTS when `path` exists. */
int kho_store_backup(kho_store *store, const char *path);
int kho_store_restore(kho_store *store, const char *path);

/* The highest catalog serial seen from publisher key `key_id` (0: none). */
int kho_store_catalog_seen(int64_t *serial, kho_store *store, const char *key_id);
/* The newest sync recorded: *synced_at 0 when the box never synced;
 * *source malloc'd (NULL then). */
int kho_store_last_sync(int64_t *synced_at, char **source, int64_t *serial, kho_store *store);

/* Records a catalog installed from (never lowers the serial). With `source`
 * NULL, only the serial is raised (a sync under way: its packs install
 * before it completes); the time and source of the last completed sync
 * stay as they were. */
int kho_store_catalog_record(kho_store *store, const char *key_id, int64_t serial,
	int64_t created, const char *source);
void kho_pack_info_free(kho_pack_info *infos, size_t count);

/* The visible version of `pack_id`; KHO_ENOTFOUND when not installed. */
int kho_store_current_version(int64_t *out, kho_store *store, const char *pack_id);

/* ---------------------------------------------- reading lessons (browse) */

/* A lesson named by its manifest id. */
typedef struct kho_lesson_ref {
	char *lesson;  /* NULL when there is none */
	char *title;
} kho_lesson_ref;

/* A lesson of the visible version of a pack, as the web app shows it. */
typedef struct kho_lesson_info {
	char *pack;
	char *pack_title;
	int64_t version;
	char *lesson;
	char *title;
	char *summary;     /* "" when none */
	char *keywords;    /* "" when none */
	char *href;        /* the lesson file's path inside the pack */
	char *unit_id;     /* NULL without a unit */
	char *unit_title;  /* NULL without a unit */
	char *subjects;    /* codes separated by spaces */
	char *grades;      /* numbers separated by spaces */
	char *signed_by;   /* key id (hex) of the version's verified signature; NULL: none */
	kho_lesson_ref prev, next; /* around it in its unit, in the pack's order */
} kho_lesson_info;

/* KHO_ENOTFOUND when the pack is not installed or has no such lesson. */
int kho_store_lesson(kho_lesson_info **out, kho_store *store, const char *pack_id,
	const char *lesson_id);
void kho_lesson_info_free(kho_lesson_info *info);

/* A file of an installed pack version (visible or kept); KHO_ENOTFOUND when
 * there is no such version or path. */
int kho_store_file(kho_hash *hash, uint64_t *size, kho_store *store, const char *pack_id,
	int64_t version, const char *path);

/* Visible lessons per subject (`subject` NULL), or per grade of one subject. */
typedef struct kho_browse_count {
	char *value;
	int64_t count;
} kho_browse_count;

int kho_store_browse_counts(kho_browse_count **out, size_t *out_count, kho_store *store,
	const char *subject);
void kho_browse_counts_free(kho_browse_count *counts, size_t count);

/* The visible lessons of one subject and grade, by unit, in the packs' order
 * (lessons without a unit in a unit whose id and title are NULL). */
typedef struct kho_browse_unit {
	char *pack;
	char *unit_id;
	char *title;
	kho_lesson_ref *lessons;
	size_t n_lessons;
} kho_browse_unit;

int kho_store_browse_units(kho_browse_unit **out, size_t *out_count, kho_store *store,
	const char *subject, const char *grade);
void kho_browse_units_free(kho_browse_unit *units, size_t count);

/* What the indexer (or anyone who keeps derived data) is told while a pack is
 * installed or removed. Every callback runs inside the store's transaction;
 * a non-zero return aborts the whole install. */
typedef struct kho_install_hooks {
	void *payload;
	/* Plain text of a lesson file for the store; *out is malloc'd. */
	int (*extract)(void *payload, char **out, const char *html, size_t len);
	/* The visible version of a pack changed from `old_pv` to `new_pv`
	 * (pack_versions rows; 0 for none). Runs before old rows go away. */
	int (*switched)(void *payload, int64_t old_pv, int64_t new_pv);
	/* Optional: `done` of `total` bytes of the pack read so far; gets
	 * `progress_payload`, not `payload`. */
	void (*progress)(void *progress_payload, uint64_t done, uint64_t total);
	void *progress_payload;
} kho_install_hooks;

typedef enum kho_install_outcome {
	KHO_INSTALL_NEW = 0,      /* the pack was not installed before */
	KHO_INSTALL_UPGRADED = 1, /* a newer version replaced the visible one */
	KHO_INSTALL_SAME = 2,     /* this version is already installed: no-op */
} kho_install_outcome;

typedef struct kho_install_info {
	kho_install_outcome outcome;
	int64_t previous_version; /* 0 when none */
	int64_t lessons;
	int64_t files;
	uint64_t bytes;           /* bytes of all files read */
	uint64_t text_bytes;      /* bytes of lesson text extracted */
	uint64_t new_bytes;       /* bytes written as new blobs */
} kho_install_info;

/* Installs `pack` in one transaction: its files as blobs, its manifest and
 * lesson text as rows, then makes it the visible version. The same version
 * again is a no-op (KHO_OK, outcome KHO_INSTALL_SAME); an older version than
 * the visible one is KHO_EVERSION and changes nothing. */
int kho_store_install(kho_install_info *out, kho_store *store, kho_pack *pack,
	const kho_install_hooks *hooks);

/* Removes `pack_id` and all its versions (their blobs stay until garbage
 * collection). KHO_ENOTFOUND if not installed. */
int kho_store_remove(kho_store *store, const char *pack_id, const kho_install_hooks *hooks);

/* Makes the newest kept version older than the visible one visible again,
 * and forgets the newer (store-gc.c); KHO_ENOTFOUND when none is kept. */
int kho_store_rollback(int64_t *from, int64_t *to, kho_store *store, const char *pack_id,
	const kho_install_hooks *hooks);

/* What kho_store_gc() freed. */
typedef struct kho_gc_info {
	size_t versions_removed;
	uint64_t blobs_removed;
	uint64_t bytes_freed;
} kho_gc_info;

/* Keeps each pack's visible version and the newest older one (for a
 * rollback), deletes the other versions, then the blobs nothing names. */
int kho_store_gc(kho_gc_info *out, kho_store *store);

/* -------------------------------- settings and usage figures (store-usage.c) */

/* The box's settings (table settings): small text values by key. *out is
 * malloc'd; KHO_ENOTFOUND when the key is not set. A NULL value unsets. */
int kho_store_setting(char **out, kho_store *store, const char *key);
int kho_store_setting_set(kho_store *store, const char *key, const char *value);

/* What teachers used and searched for, counted per day on the box and
 * reported to the centre without names or addresses (docs/privacy.md). */
#define KHO_USAGE_K_DEFAULT 3   /* a query is reported when this many askers made it */
#define KHO_USAGE_K_MAX 1000
#define KHO_USAGE_QUERY_MAX 256 /* bytes of a normalised query kept */
#define KHO_USAGE_OPEN_WINDOW 600 /* seconds after a search in which an open counts for it */
#define KHO_USAGE_TYPING_WINDOW 60 /* seconds in which a typed search replaces the last */
/* What one day can hold, so that no client can fill the disk through the
 * figures: past a limit a search still counts in the day's totals, but its
 * query is not recorded. */
#define KHO_USAGE_DAY_QUERIES 2000   /* distinct queries recorded a day */
#define KHO_USAGE_ASKER_QUERIES 100  /* distinct queries recorded per asker a day */
#define KHO_USAGE_DAY_ASKER_ROWS 20000 /* askers, and (asker, query) pairs, a day;
                                        * an asker past it is not counted at all */

typedef struct kho_usage_settings {
	bool on;   /* recording and reporting (default on) */
	int k;     /* askers a query needs on a day to be reported */
} kho_usage_settings;

int kho_store_usage_settings(kho_usage_settings *out, kho_store *store);
/* Turning recording off also deletes every figure not yet reported. */
int kho_store_usage_enable(kho_store *store, bool on);
/* KHO_EINVALID unless 1 <= k <= KHO_USAGE_K_MAX. */
int kho_store_usage_set_k(kho_store *store, int k);

/* A query as it is counted: NFC, case-folded, white space collapsed to one
 * space and trimmed, cut to KHO_USAGE_QUERY_MAX bytes at a character
 * boundary. *out is malloc'd ("" for a blank query). KHO_EINVALID for text
 * that is not UTF-8. */
int kho_usage_normalise(char **out, const char *query);

/* Recording, each one short transaction that gives up (KHO_EBUSY) rather
 * than wait for a long install. `asker` names who asked ("u:ID" for a
 * signed-in teacher, "a:ADDRESS" otherwise); only its hash under the day's
 * random key is kept. `now` is Unix time; the day is local. Nothing is
 * written while recording is off. A search is one of `query` (raw text)
 * that `found` something or not; `typing` when it was made while the
 * teacher typed, so that it replaces the asker's last typed search of the
 * last KHO_USAGE_TYPING_WINDOW seconds. An open is credited to the asker's
 * last search of the last KHO_USAGE_OPEN_WINDOW seconds. Past the limits
 * above (KHO_USAGE_DAY_QUERIES…) a search counts in the day's totals only. */
int kho_store_usage_search(kho_store *store, const char *asker, const char *query, bool found,
	bool typing, int64_t now);
int kho_store_usage_open(kho_store *store, const char *asker, const char *pack,
	const char *lesson, int64_t now);
int kho_store_usage_favourite(kho_store *store, const char *asker, const char *pack,
	const char *lesson, int64_t now);

/* Figures over the days from..to (inclusive, "YYYY-MM-DD"). */
typedef struct kho_usage_day {
	char day[11];
	int64_t searches, opens, askers;
} kho_usage_day;

typedef struct kho_usage_lesson {
	char *pack, *lesson;
	int64_t opens, favourites;
} kho_usage_lesson;

typedef struct kho_usage_query {
	char *query;
	int64_t searches, found_nothing, no_open;
} kho_usage_query;

typedef struct kho_usage {
	char from[11], to[11];  /* "" when there are no days */
	int k;                  /* the k applied (0: none, every query listed) */
	kho_usage_day *days;    /* oldest first */
	size_t n_days;
	kho_usage_lesson *lessons; /* most opened first */
	size_t n_lessons;
	kho_usage_query *queries;  /* most searched first */
	size_t n_queries;
} kho_usage;

/* The figures recorded for days up to `through` (NULL: every day, today's
 * too). With k > 0, a query counts on a day only when at least k distinct
 * askers made it that day. */
int kho_store_usage(kho_usage **out, kho_store *store, const char *through, int k);
void kho_usage_free(kho_usage *usage);
/* Deletes the figures of every day up to `through` (once reported). */
int kho_store_usage_forget(kho_store *store, const char *through);
/* The local day of Unix time `t` as "YYYY-MM-DD". */
void kho_usage_day_of(char out[11], int64_t t);

#endif
