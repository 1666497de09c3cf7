// adjtimex(2), which Swift's Glibc module does not export: `lockstep check` asks the kernel
// whether the clock is synchronised.
#include <sys/timex.h>
