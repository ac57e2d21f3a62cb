// cs_strerror(): a description of every cs_error_t. Needs no handle and no
// running node, so it works before cpg_initialize() and after cpg_finalize().
#include "client/c_enum_args.hpp"
#include "ringcast/corotypes.h"

// Any int may come from C (cs_strerror(-1)): switched on as the integer.
extern "C" const char* cs_strerror(cs_error_t err) {
  switch (ringcast::client::raw_c_enum(err)) {
    case CS_OK:
      return "Success";
    case CS_ERR_LIBRARY:
      return "Library error";
    case CS_ERR_VERSION:
      return "Version not supported";
    case CS_ERR_INIT:
      return "Initialization failed";
    case CS_ERR_TIMEOUT:
      return "Timed out";
    case CS_ERR_TRY_AGAIN:
      return "Try again";
    case CS_ERR_INVALID_PARAM:
      return "Invalid argument";
    case CS_ERR_NO_MEMORY:
      return "Out of memory";
    case CS_ERR_BAD_HANDLE:
      return "Bad handle";
    case CS_ERR_BUSY:
      return "Busy";
    case CS_ERR_ACCESS:
      return "Access denied";
    case CS_ERR_NOT_EXIST:
      return "Does not exist";
    case CS_ERR_NAME_TOO_LONG:
      return "Name too long";
    case CS_ERR_EXIST:
      return "Already exists";
    case CS_ERR_NO_SPACE:
      return "Not enough space";
    case CS_ERR_INTERRUPT:
      return "Interrupted";
    case CS_ERR_NAME_NOT_FOUND:
      return "Name not found";
    case CS_ERR_NO_RESOURCES:
      return "Out of resources";
    case CS_ERR_NOT_SUPPORTED:
      return "Not supported";
    case CS_ERR_BAD_OPERATION:
      return "Operation not allowed";
    case CS_ERR_FAILED_OPERATION:
      return "Operation failed";
    case CS_ERR_MESSAGE_ERROR:
      return "Message error";
    case CS_ERR_QUEUE_FULL:
      return "Queue full";
    case CS_ERR_QUEUE_NOT_AVAILABLE:
      return "Queue not available";
    case CS_ERR_BAD_FLAGS:
      return "Bad flags";
    case CS_ERR_TOO_BIG:
      return "Too big";
    case CS_ERR_NO_SECTIONS:
      return "No more items";
    case CS_ERR_CONTEXT_NOT_FOUND:
      return "Context not found";
    case CS_ERR_TOO_MANY_GROUPS:
      return "Too many groups";
    case CS_ERR_SECURITY:
      return "Security error";
  }
  return "Unknown error";
}
