#ifndef LOCKSTEP_CNETTLE_SHIM_H
#define LOCKSTEP_CNETTLE_SHIM_H
/* The parts of nettle (Debian's libnettle8) that the module uses: HMAC with SHA-1, SHA-256
   and SHA-512, PBKDF2 with HMAC-SHA-256, AES-256-GCM (sealing secrets at rest), and
   constant-time comparison. */
#include <nettle/gcm.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/pbkdf2.h>
#endif
