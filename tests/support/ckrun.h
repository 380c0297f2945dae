/*
 * What every Check suite shares: its main(), which runs every test of the suite
 * (each in its own forked process, Check's default) and turns the result into
 * an exit status, and an assertion for hot loops.
 *
 *   int main(void) { return ckrun(frame_suite()); }
 */
#ifndef CLINICKV_CKRUN_H
#define CLINICKV_CKRUN_H

#include <check.h>

/* Run s, print Check's summary; EXIT_SUCCESS when no test failed. */
int ckrun(Suite *s);

/*
 * An assertion for hot loops. Check records every passing ck_assert in a file,
 * which costs a write() per call; this fails the test the same way but only
 * calls into Check when the condition is false.
 */
#define require(cond, ...)             \
    do {                               \
        if (!(cond))                   \
            ck_abort_msg(__VA_ARGS__); \
    } while (0)

#endif
