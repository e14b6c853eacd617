/* lw_integrity: the key ratchet and the key file. Writer thread(s). */
#include "store/integrity.h"
#include "core/hmac.h"
#include "core/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_VERSION 1
static const char ratchet_label[] = "logward/v1/ratchet";

static int sys_fail(struct lw_diag *diag, const char *what, const char *path)
{
	int e = errno;
	char ebuf[128];

	if (path != NULL)
		lw_diag_set(diag, LW_EIO, NULL, 0, 0, "%s '%s': %s", what, path,
			    strerror_r(e, ebuf, sizeof(ebuf)));
	else
		lw_diag_set(diag, LW_EIO, NULL, 0, 0, "%s: %s", what,
			    strerror_r(e, ebuf, sizeof(ebuf)));
	if (diag != NULL)
		diag->sys_errno = e;
	return LW_EIO;
}

void lw_integrity_key_wipe(struct lw_integrity_key *k)
{
	explicit_bzero(k->key, sizeof(k->key));
}

int lw_integrity_ratchet(struct lw_integrity_key *k)
{
	uint8_t idx[8], next[LW_SHA256_LEN];
	int rc;

	for (int i = 0; i < 8; i++)
		idx[i] = (uint8_t)(k->index >> (56 - 8 * i));
	rc = lw_hmac2(k->key, sizeof(k->key), ratchet_label, sizeof(ratchet_label) - 1,
		      idx, sizeof(idx), next);
	if (rc != LW_OK)
		return rc;
	memcpy(k->key, next, sizeof(k->key));
	explicit_bzero(next, sizeof(next));
	k->index++;
	return LW_OK;
}

int lw_integrity_ratchet_to(struct lw_integrity_key *k, uint64_t index)
{
	if (index < k->index)
		return LW_EINVAL;
	while (k->index < index) {
		int rc = lw_integrity_ratchet(k);

		if (rc != LW_OK)
			return rc;
	}
	return LW_OK;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int lw_integrity_key_from_hex(const char *hex, uint8_t key[LW_INTEGRITY_KEY_LEN])
{
	if (strlen(hex) != 2 * LW_INTEGRITY_KEY_LEN)
		return LW_EINVAL;
	for (int i = 0; i < LW_INTEGRITY_KEY_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return LW_EINVAL;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return LW_OK;
}

void lw_integrity_file_encode(const struct lw_integrity_key *k,
			      uint8_t out[LW_INTEGRITY_FILE_LEN])
{
	uint8_t sum[LW_SHA256_LEN];

	memset(out, 0, LW_INTEGRITY_FILE_LEN);
	memcpy(out, "LWIK", 4);
	out[4] = FILE_VERSION;
	for (int i = 0; i < 8; i++)
		out[8 + i] = (uint8_t)(k->index >> (8 * i));
	memcpy(out + 16, k->key, LW_INTEGRITY_KEY_LEN);
	/* A checksum, not a MAC: it tells a torn write from a key. */
	if (lw_sha256(out, 48, sum) == LW_OK)
		memcpy(out + 48, sum, 16);
}

int lw_integrity_file_decode(const uint8_t in[LW_INTEGRITY_FILE_LEN],
			     struct lw_integrity_key *k, struct lw_diag *diag)
{
	uint8_t sum[LW_SHA256_LEN];

	if (memcmp(in, "LWIK", 4) != 0)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "not a logward key file (bad magic)");
	if (in[4] != FILE_VERSION || in[5] || in[6] || in[7])
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "key file version %u not supported (this logward reads %d)",
				   in[4], FILE_VERSION);
	if (lw_sha256(in, 48, sum) != LW_OK || memcmp(sum, in + 48, 16) != 0)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "key file checksum mismatch (torn write or edited)");
	k->index = 0;
	for (int i = 7; i >= 0; i--)
		k->index = (k->index << 8) | in[8 + i];
	memcpy(k->key, in + 16, LW_INTEGRITY_KEY_LEN);
	explicit_bzero(sum, sizeof(sum));
	return LW_OK;
}

/* fsync of the directory holding path, so the new name survives a crash. */
static int sync_dir(const char *path, struct lw_diag *diag)
{
	char d[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		snprintf(d, sizeof(d), ".");
	else if (slash == path)
		snprintf(d, sizeof(d), "/");
	else
		snprintf(d, sizeof(d), "%.*s", (int)(slash - path), path);
	fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sys_fail(diag, "cannot open directory", d);
	rc = fsync(fd);
	close(fd);
	return rc == 0 ? LW_OK : sys_fail(diag, "cannot fsync directory", d);
}

static int write_all_at0(int fd, const uint8_t *buf, struct lw_diag *diag,
			 const char *path)
{
	ssize_t n = pwrite(fd, buf, LW_INTEGRITY_FILE_LEN, 0);

	if (n != LW_INTEGRITY_FILE_LEN) {
		if (n >= 0)
			errno = EIO;
		return sys_fail(diag, "cannot write key file", path);
	}
	if (fdatasync(fd) != 0)
		return sys_fail(diag, "cannot fdatasync key file", path);
	return LW_OK;
}

int lw_integrity_file_create(const char *path, struct lw_integrity_key *k,
			     struct lw_diag *diag)
{
	uint8_t buf[LW_INTEGRITY_FILE_LEN];
	size_t got = 0;
	int fd, rc;

	k->index = 1;
	while (got < sizeof(k->key)) {
		ssize_t n = getrandom(k->key + got, sizeof(k->key) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sys_fail(diag, "getrandom for", path);
		got += (size_t)n;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return sys_fail(diag, "cannot create key file", path);
	lw_integrity_file_encode(k, buf);
	rc = write_all_at0(fd, buf, diag, path);
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	if (rc == LW_OK)
		rc = sync_dir(path, diag);
	if (rc != LW_OK)
		unlink(path);
	return rc;
}

int lw_integrity_file_open(const char *path, int *fd, struct lw_diag *diag)
{
	struct stat st;

	*fd = open(path, O_RDWR | O_CLOEXEC);
	if (*fd < 0)
		return sys_fail(diag, "cannot open key file", path);
	if (fstat(*fd, &st) != 0) {
		int rc = sys_fail(diag, "cannot stat key file", path);

		close(*fd);
		*fd = -1;
		return rc;
	}
	/* Whoever can read the current key can forge every segment written
	 * from now on: like ssh with a private key, refuse to use one that
	 * group or others may read or write. */
	if (st.st_mode & 077) {
		close(*fd);
		*fd = -1;
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "key file '%s' is open to group or others (mode %04o): "
				   "anyone who reads it can forge the segments written from now on; "
				   "chmod 600 '%s'", path, (unsigned)(st.st_mode & 07777), path);
	}
	return LW_OK;
}

static int read_locked(int fd, struct lw_integrity_key *k, struct lw_diag *diag)
{
	uint8_t buf[LW_INTEGRITY_FILE_LEN];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	int rc;

	if (n < 0)
		return sys_fail(diag, "cannot read key file", NULL);
	if (n != LW_INTEGRITY_FILE_LEN)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "key file is %zd bytes, not %d", n, LW_INTEGRITY_FILE_LEN);
	rc = lw_integrity_file_decode(buf, k, diag);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

int lw_integrity_file_read(int fd, struct lw_integrity_key *k,
			   struct lw_diag *diag)
{
	int rc;

	while (flock(fd, LOCK_SH) != 0)
		if (errno != EINTR)
			return sys_fail(diag, "cannot lock key file", NULL);
	rc = read_locked(fd, k, diag);
	flock(fd, LOCK_UN);
	return rc;
}

int lw_integrity_file_advance(int fd, const struct lw_integrity_key *k,
			      struct lw_diag *diag)
{
	struct lw_integrity_key cur;
	uint8_t buf[LW_INTEGRITY_FILE_LEN];
	int rc;

	while (flock(fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return sys_fail(diag, "cannot lock key file", NULL);
	rc = read_locked(fd, &cur, diag);
	if (rc == LW_OK && cur.index < k->index) {
		/* In place, not write-new-and-rename: a rename would leave
		 * the old key's blocks behind as a free extent. */
		lw_integrity_file_encode(k, buf);
		rc = write_all_at0(fd, buf, diag, NULL);
		explicit_bzero(buf, sizeof(buf));
	}
	lw_integrity_key_wipe(&cur);
	flock(fd, LOCK_UN);
	return rc;
}

int lw_integrity_file_load(const char *path, struct lw_integrity_key *k,
			   struct lw_diag *diag)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		if (errno == ENOENT) {
			lw_diag_set(diag, LW_ENOTFOUND, NULL, 0, 0,
				    "key file '%s' does not exist", path);
			return LW_ENOTFOUND;
		}
		return sys_fail(diag, "cannot open key file", path);
	}
	rc = lw_integrity_file_read(fd, k, diag);
	close(fd);
	return rc;
}
