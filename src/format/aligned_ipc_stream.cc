#include "format/aligned_ipc_stream.h"

#include <algorithm>
#include <array>

namespace arrowembed {

arrow::Status AlignedIpcFileStream::Write(const void* data, int64_t nbytes) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (position_ < kMagicBytes && position_ + nbytes >= kMagicBytes) {
    // Finish the magic, then pad to the aligned start before anything else.
    const int64_t head = kMagicBytes - position_;
    ARROW_RETURN_NOT_OK(sink_->Write(bytes, head));
    static constexpr std::array<uint8_t, kAlignedStart - kMagicBytes> kZeros{};
    ARROW_RETURN_NOT_OK(sink_->Write(kZeros.data(), kZeros.size()));
    position_ = kAlignedStart;
    bytes += head;
    nbytes -= head;
  }
  ARROW_RETURN_NOT_OK(sink_->Write(bytes, nbytes));
  position_ += nbytes;
  return arrow::Status::OK();
}

}  // namespace arrowembed
