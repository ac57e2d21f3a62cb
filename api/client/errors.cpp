#include "client/errors.hpp"

namespace ringcast::client {

cs_error_t to_cs_error(Errc code) noexcept {
  switch (code) {
    case Errc::try_again:
      return CS_ERR_TRY_AGAIN;
    case Errc::too_big:
      return CS_ERR_TOO_BIG;
    case Errc::invalid_argument:
      return CS_ERR_INVALID_PARAM;
    case Errc::refused:
      return CS_ERR_ACCESS;
    case Errc::timeout:
      return CS_ERR_TIMEOUT;
    case Errc::not_found:
      return CS_ERR_NOT_EXIST;
    default:
      // The ring failed, the device is gone, the peer spoke nonsense: what
      // corosync reports when the library cannot reach its service.
      return CS_ERR_LIBRARY;
  }
}

}  // namespace ringcast::client
