/* Keeps the test support library non-empty. */
typedef int clinickv_testsupport_empty;
