/*
 * Built into the pam-driver of `make sanitize` only (with -fsanitize=address,undefined):
 * AddressSanitizer's defaults for that driver, which the runtime reads before main().
 *
 * Tests preload libfaketime into the driver, which puts it before the ASan runtime in the
 * list of libraries; that order is harmless here (libfaketime only wraps time functions), so
 * the check that would refuse to start is turned off. ASAN_OPTIONS still adds to these.
 */
const char *__asan_default_options(void);

const char *__asan_default_options(void) {
  return "verify_asan_link_order=0:detect_leaks=1";
}
