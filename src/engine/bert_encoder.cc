#include "engine/bert_encoder.h"

#include "arrowembed/format/bert_layout.h"
#include "arrowembed/format/int8.h"
#include "engine/attention.h"
#include "engine/thread_pool.h"

namespace arrowembed::engine {

namespace {
// An int8 matrix's per-row scales, stored beside it (format/int8.h); null
// for float matrices.
const TensorView* row_scales(const ModelFile& model, const TensorView& matrix) {
  return matrix.dtype == DType::I8 ? &int8::scale_of(model, matrix) : nullptr;
}
}  // namespace

void Workspace::reserve(size_t tokens, size_t hidden, size_t intermediate) {
  for (auto* buf : {&x, &q, &k, &v, &ctx, &tmp})
    if (buf->size() < tokens * hidden) buf->resize(tokens * hidden);
  if (inter.size() < tokens * intermediate) inter.resize(tokens * intermediate);
}

size_t Workspace::bytes() const {
  size_t floats = 0;
  for (const auto* buf : {&x, &q, &k, &v, &ctx, &tmp, &inter}) floats += buf->capacity();
  return floats * sizeof(float) + linear.bytes.capacity();
}

BertEncoder::BertEncoder(const ModelFile& model, MatmulPrecision precision) : config_(model.config()) {
  auto f32 = [&](const std::string& name) { return model.tensor(name).values<float>().data(); };
  auto linear = [&](int64_t layer, const char* base) {
    const std::string prefix = bert::layer_tensor(layer, base);
    const TensorView& weight = model.tensor(prefix + ".weight");
    return Linear(weight, model.tensor(prefix + ".bias"), precision, row_scales(model, weight));
  };
  auto table = [&](const char* name) { return EmbeddingTable{model.tensor(name), nullptr}; };
  embeddings_.word = table("embeddings.word_embeddings.weight");
  embeddings_.position = table("embeddings.position_embeddings.weight");
  embeddings_.token_type = table("embeddings.token_type_embeddings.weight");
  for (EmbeddingTable* t : {&embeddings_.word, &embeddings_.position, &embeddings_.token_type}) {
    if (const TensorView* scale = row_scales(model, t->values)) t->row_scales = scale->values<float>().data();
  }
  embeddings_.ln_gamma = f32("embeddings.LayerNorm.weight");
  embeddings_.ln_beta = f32("embeddings.LayerNorm.bias");
  embeddings_.eps = static_cast<float>(config_.layer_norm_eps);
  for (int64_t l = 0; l < config_.num_layers; ++l) {
    layers_.push_back(Layer{
        linear(l, "attention.self.query"),
        linear(l, "attention.self.key"),
        linear(l, "attention.self.value"),
        linear(l, "attention.output.dense"),
        linear(l, "intermediate.dense"),
        linear(l, "output.dense"),
        f32(bert::layer_tensor(l, "attention.output.LayerNorm.weight")),
        f32(bert::layer_tensor(l, "attention.output.LayerNorm.bias")),
        f32(bert::layer_tensor(l, "output.LayerNorm.weight")),
        f32(bert::layer_tensor(l, "output.LayerNorm.bias")),
    });
  }
}

void BertEncoder::pack_weights(ThreadPool& pool) const {
  constexpr size_t kPerLayer = 6;
  pool.parallel_for(layers_.size() * kPerLayer, [&](size_t i) {
    const Layer& l = layers_[i / kPerLayer];
    const Linear* linears[kPerLayer] = {&l.query, &l.key, &l.value, &l.attention_output, &l.intermediate, &l.output};
    linears[i % kPerLayer]->pack();
  });
}

size_t BertEncoder::packed_bytes() const {
  size_t bytes = 0;
  for (const Layer& l : layers_) {
    for (const Linear* linear : {&l.query, &l.key, &l.value, &l.attention_output, &l.intermediate, &l.output})
      bytes += linear->packed_bytes();
  }
  return bytes;
}

const float* BertEncoder::forward(const PackedBatch& batch, Workspace& ws, ThreadPool& pool, double* flops) const {
  const size_t tokens = batch.num_tokens();
  const size_t hidden = static_cast<size_t>(config_.hidden_size);
  const size_t heads = static_cast<size_t>(config_.num_heads);
  const float eps = static_cast<float>(config_.layer_norm_eps);
  ws.reserve(tokens, hidden, static_cast<size_t>(config_.intermediate_size));
  float *x = ws.x.data(), *tmp = ws.tmp.data(), *ctx = ws.ctx.data(), *inter = ws.inter.data();

  embed_tokens(embeddings_, batch, hidden, x, pool);
  double work = 0;
  for (const Layer& layer : layers_) {
    // Q, K and V read the same x: one parallel loop for the three products.
    Linear::forward_shared({{&layer.query, ws.q.data(), Activation::None},
                            {&layer.key, ws.k.data(), Activation::None},
                            {&layer.value, ws.v.data(), Activation::None}},
                           x, tokens, pool, ws.linear);
    self_attention(ws.q.data(), ws.k.data(), ws.v.data(), ctx, batch, heads, hidden / heads, pool);
    layer.attention_output.forward(ctx, tokens, tmp, Activation::None, pool, ws.linear);
    add_layer_norm(x, tmp, tokens, hidden, layer.attention_ln_gamma, layer.attention_ln_beta, eps, pool);
    layer.intermediate.forward(x, tokens, inter, Activation::Gelu, pool, ws.linear);
    layer.output.forward(inter, tokens, tmp, Activation::None, pool, ws.linear);
    add_layer_norm(x, tmp, tokens, hidden, layer.output_ln_gamma, layer.output_ln_beta, eps, pool);
    work += layer.query.flops(tokens) * 4 + layer.intermediate.flops(tokens) + layer.output.flops(tokens) +
            attention_flops(batch, hidden);
  }
  if (flops) *flops += work;
  return x;
}

}  // namespace arrowembed::engine
