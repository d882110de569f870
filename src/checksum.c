/*-------------------------------------------------------------------------
 *
 * checksum.c
 *		  sha256 digests as hex text: migration checksums and schema
 *		  fingerprints.
 *
 * Whatever names a script or a schema by a digest goes through
 * ds_sha256_hex, so that the journal, pending() manifests and the schema
 * fingerprints of introspect.c write digests alike: 64 lower-case hex
 * digits.  The checksum journaled for a script is taken over its text with
 * line ends normalized (ds_script_checksum), so the same file checked out
 * on Windows or read through psql keeps its checksum; the raw digests
 * script.c keeps beside it are what drizzle-kit records.  This file sits
 * below everything that uses it and calls nothing else of ours.
 *
 * Memory: digests are written into the caller's buffers; the one palloc
 * (the normalized text) is in the caller's context and freed before
 * return.
 *
 * IDENTIFICATION
 *		  src/checksum.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "utils/builtins.h"

#include "pg_datasource.h"

/*
 * ds_sha256_hex
 *		The sha256 of len bytes of data (and of more, when not NULL), as 64
 *		lower-case hex digits in out.  Migration checksums and schema
 *		fingerprints (introspect.c) both use it.  out must have room for
 *		DS_SHA256_HEX_LEN + 1 bytes.
 */
void
ds_sha256_hex(const char *data, size_t len, const char *more, char *out)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	StaticAssertStmt(DS_SHA256_HEX_LEN == 2 * PG_SHA256_DIGEST_LENGTH,
					 "DS_SHA256_HEX_LEN is two hex digits per byte of a sha256");
	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0 ||
		(more != NULL &&
		 pg_cryptohash_update(ctx, (const uint8 *) more, strlen(more)) < 0) ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a sha256 checksum: %s",
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	hex_encode((const char *) digest, sizeof(digest), out);
	out[DS_CHECKSUM_LEN] = '\0';
}

/*
 * ds_script_checksum
 *		The checksum journaled for a script: sha256 of its text with CR LF
 *		and lone CR written as LF and trailing line ends removed, so that a
 *		file checked out on Windows or read through psql's backquotes (which
 *		drop the last newline) has the checksum of the original.  out must
 *		have room for DS_CHECKSUM_LEN + 1 bytes.
 */
void
ds_script_checksum(const char *text, char *out)
{
	size_t		len = strlen(text);
	char	   *norm = palloc(len + 1);
	size_t		n = 0;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		if (text[i] == '\r')
		{
			norm[n++] = '\n';
			if (text[i + 1] == '\n')
				i++;
		}
		else
			norm[n++] = text[i];
	}
	while (n > 0 && norm[n - 1] == '\n')
		n--;
	ds_sha256_hex(norm, n, NULL, out);
	pfree(norm);
}

/*
 * ds_check_checksum
 *		A checksum argument: 64 lower-case hex digits, or 22023.
 */
void
ds_check_checksum(const char *checksum)
{
	int			i;

	for (i = 0; checksum[i] != '\0'; i++)
		if (!((checksum[i] >= '0' && checksum[i] <= '9') ||
			  (checksum[i] >= 'a' && checksum[i] <= 'f')))
			break;
	if (i != DS_CHECKSUM_LEN || checksum[i] != '\0')
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("\"%s\" is not a checksum", checksum),
				errdetail("A checksum is a sha256 digest written as 64 lower-case hex digits."));
}
