/*
 * Password preparation: a write that carries users passwords (row.insert,
 * row.update, txn.run on users) has them hashed with Argon2id on libuv's thread
 * pool before it is queued for the writer, so neither the loop nor the writer
 * thread ever spends tens of milliseconds in a hash. The hashes reach the
 * handler in order of appearance (ck_call.pw_hashes).
 */
#ifndef CLINICKV_PWPREP_H
#define CLINICKV_PWPREP_H

#include "conn.h"
#include "writer.h"

/* Queue job for the writer, hashing its passwords first if it has any. */
void pwprep_submit(struct conn *c, struct wjob *job);

/* Free a job's prepared hashes. */
void pwprep_free(struct wjob *job);

#endif
