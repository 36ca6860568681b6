/*  version - the one place the release number lives                        */
#ifndef TXW_VERSION_H
#define TXW_VERSION_H
#define TXW_VERSION "0.1.0"
#endif
