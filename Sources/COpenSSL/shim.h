#ifndef LOCKSTEP_COPENSSL_SHIM_H
#define LOCKSTEP_COPENSSL_SHIM_H
/* The parts of libcrypto that Lockstep uses: HMAC, PBKDF2, randomness, and
   constant-time comparison and wiping of memory. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#endif
