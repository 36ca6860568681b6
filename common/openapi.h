/*  openapi - the query API's OpenAPI 3 description, compiled in

    Generated at build time from proto/openapi.yaml, so the binary serves the
    description of exactly the API it implements.                              */

#ifndef TXW_OPENAPI_H
#define TXW_OPENAPI_H

#include <stddef.h>

extern const char txw_openapi_yaml [];
extern const size_t txw_openapi_yaml_size;

#endif
