#pragma once
// An output stream for Arrow IPC *files* whose record batch bodies must
// start on 64-byte boundaries of the file.
//
// Arrow pads every message to IpcWriteOptions::alignment relative to the
// message itself, but the file format begins with the 8-byte magic
// "ARROW1\0\0", so with alignment 64 every body lands at 8 mod 64. This
// stream widens that leading padding to 64 bytes (zeros after the magic).
// Readers locate messages through the footer's absolute block offsets, so
// the result is read by Arrow C++, pyarrow and every footer-based reader.
#include <arrow/io/interfaces.h>
#include <arrow/result.h>
#include <arrow/status.h>

#include <memory>

namespace arrowembed {

class AlignedIpcFileStream : public arrow::io::OutputStream {
 public:
  static constexpr int64_t kMagicBytes = 8;  // "ARROW1" + 2 padding bytes
  static constexpr int64_t kAlignedStart = 64;

  explicit AlignedIpcFileStream(std::shared_ptr<arrow::io::OutputStream> sink) : sink_(std::move(sink)) {}

  arrow::Status Write(const void* data, int64_t nbytes) override;
  arrow::Result<int64_t> Tell() const override { return position_; }
  arrow::Status Flush() override { return sink_->Flush(); }
  arrow::Status Close() override { return sink_->Close(); }
  bool closed() const override { return sink_->closed(); }

 private:
  std::shared_ptr<arrow::io::OutputStream> sink_;
  int64_t position_ = 0;
};

}  // namespace arrowembed
