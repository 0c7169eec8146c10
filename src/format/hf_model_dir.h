#pragma once
// Reads a Hugging Face model directory as saved by sentence-transformers:
// config.json, model.safetensors, tokenizer.json and, when present,
// modules.json, <pooling module>/config.json and sentence_bert_config.json.
#include <filesystem>
#include <memory>

#include "arrowembed/format/model_file.h"

namespace arrowembed {

// Throws Error naming the file and field that is missing or unsupported.
std::shared_ptr<ModelFile::State> read_hf_model_dir(const std::filesystem::path& dir);

}  // namespace arrowembed
