// Debian's libqrencode (libqrencode-dev): QR codes for the health certificate page.
#include <qrencode.h>
