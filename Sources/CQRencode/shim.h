// libqrencode (Debian libqrencode-dev), used by the lockstep CLI to draw QR codes.
#include <qrencode.h>
