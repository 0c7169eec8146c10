/* The C API from plain C, as a host without Arrow libraries uses it: string
 * arrays built by hand to the Arrow C Data Interface, embeddings read back
 * from the exported fixed_size_list. Run by ctest with the tiny test model
 * (a Hugging Face directory) as argv[1]; exits non-zero on the first
 * failed check, printing it. */
#include "arrowembed/arrowembed.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                        \
    }                                                                    \
  } while (0)

/* A producer-owned string array: the test counts releases to prove the
 * library borrows its input and never releases it. */
static int input_releases = 0;
static void release_input_array(struct ArrowArray* a) { input_releases++; a->release = NULL; }
static void release_input_schema(struct ArrowSchema* s) { input_releases++; s->release = NULL; }

typedef struct {
  struct ArrowSchema schema;
  struct ArrowArray array;
  const void* buffers[3];
  int32_t offsets[8];
  int64_t large_offsets[8];
  char data[256];
  uint8_t validity[1];
} TextArray;

/* utf8 ("u") or large_utf8 ("U") array of n texts; null_row >= 0 marks one row null. */
static void make_text_array(TextArray* t, const char* format, const char** texts, int n, int null_row) {
  memset(t, 0, sizeof *t);
  int64_t pos = 0;
  for (int i = 0; i < n; ++i) {
    t->offsets[i] = (int32_t)pos;
    t->large_offsets[i] = pos;
    size_t len = strlen(texts[i]);
    memcpy(t->data + pos, texts[i], len);
    pos += (int64_t)len;
  }
  t->offsets[n] = (int32_t)pos;
  t->large_offsets[n] = pos;
  t->validity[0] = 0xFF;
  if (null_row >= 0) t->validity[0] &= (uint8_t) ~(1u << null_row);
  t->buffers[0] = null_row >= 0 ? t->validity : NULL;
  t->buffers[1] = strcmp(format, "U") == 0 ? (const void*)t->large_offsets : (const void*)t->offsets;
  t->buffers[2] = t->data;
  t->schema = (struct ArrowSchema){.format = format, .name = "text", .flags = ARROW_FLAG_NULLABLE,
                                   .release = release_input_schema};
  t->array = (struct ArrowArray){.length = n, .null_count = null_row >= 0 ? 1 : 0, .n_buffers = 3,
                                 .buffers = t->buffers, .release = release_input_array};
}

static const float* exported_values(const struct ArrowArray* out) {
  return (const float*)out->children[0]->buffers[1];
}

static double row_norm(const float* row, size_t dim) {
  double s = 0;
  for (size_t i = 0; i < dim; ++i) s += (double)row[i] * row[i];
  return sqrt(s);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: capi_test MODEL_DIR\n");
    return 2;
  }
  CHECK(strcmp(arrowembed_version(), "") != 0);

  /* Loading: errors are codes plus a message naming the problem. */
  arrowembed_model* model = (arrowembed_model*)1;
  CHECK(arrowembed_model_load("/nonexistent/model.arrow", NULL, &model) == ARROWEMBED_MODEL_ERROR);
  CHECK(model == NULL);
  CHECK(strstr(arrowembed_last_error(), "/nonexistent/model.arrow") != NULL);
  arrowembed_load_options bad = {.threads = 1, .precision = "f8"};
  CHECK(arrowembed_model_load(argv[1], &bad, &model) == ARROWEMBED_INVALID_ARGUMENT);
  CHECK(strstr(arrowembed_last_error(), "f8") != NULL);
  CHECK(arrowembed_model_load(NULL, NULL, &model) == ARROWEMBED_INVALID_ARGUMENT);

  arrowembed_load_options options = {.threads = 2, .precision = "f32"};
  CHECK(arrowembed_model_load(argv[1], &options, &model) == ARROWEMBED_OK);
  if (!model) return 1;
  CHECK(strcmp(arrowembed_last_error(), "") == 0);
  const size_t dim = arrowembed_model_dimension(model);
  CHECK(dim == 32);
  CHECK(arrowembed_model_max_seq_length(model) == 32);

  /* Plain pointers: texts need not be NUL-terminated. */
  const char* texts[] = {"Hello world!", "The quick brown fox jumps over the lazy dog.", "Caf\xc3\xa9"};
  const char buffer[] = "Hello world!XXXX";
  const char* pointers[] = {buffer, texts[1], texts[2]};
  size_t lengths[] = {12, strlen(texts[1]), strlen(texts[2])};
  float plain[3 * 32];
  CHECK(arrowembed_embed(model, pointers, lengths, 3, NULL, plain) == ARROWEMBED_OK);
  for (int r = 0; r < 3; ++r) CHECK(fabs(row_norm(plain + r * dim, dim) - 1.0) < 1e-5); /* the model normalises */

  /* Arrow, utf8 and large_utf8: the same vectors, bit for bit, and the
   * input is borrowed, not released. */
  const char* formats[] = {"u", "U"};
  for (int f = 0; f < 2; ++f) {
    TextArray in;
    make_text_array(&in, formats[f], texts, 3, -1);
    struct ArrowSchema out_schema;
    struct ArrowArray out;
    input_releases = 0;
    CHECK(arrowembed_embed_arrow(model, &in.schema, &in.array, NULL, &out_schema, &out) == ARROWEMBED_OK);
    CHECK(input_releases == 0);
    CHECK(in.array.release != NULL && in.schema.release != NULL);
    CHECK(strcmp(out_schema.format, "+w:32") == 0);
    CHECK(out_schema.n_children == 1 && strcmp(out_schema.children[0]->format, "f") == 0);
    CHECK(out.length == 3 && out.null_count == 0 && out.n_children == 1);
    CHECK(out.children[0]->length == 3 * 32);
    CHECK(((uintptr_t)exported_values(&out) % 64) == 0);
    CHECK(memcmp(exported_values(&out), plain, sizeof plain) == 0);
    out.release(&out);
    out_schema.release(&out_schema);
    CHECK(out.release == NULL && out_schema.release == NULL);
    in.array.release(&in.array);
    in.schema.release(&in.schema);
  }

  /* Options: no normalisation; Matryoshka dimensions, renormalised. */
  float raw[3 * 32];
  arrowembed_embed_options no_norm = {.normalize = 0, .dimensions = 0};
  CHECK(arrowembed_embed(model, pointers, lengths, 3, &no_norm, raw) == ARROWEMBED_OK);
  CHECK(fabs(row_norm(raw, dim) - 1.0) > 1e-3);
  for (size_t i = 0; i < dim; ++i) CHECK(fabs(raw[i] / row_norm(raw, dim) - plain[i]) < 1e-5);
  float small[3 * 8];
  arrowembed_embed_options eight = {.normalize = -1, .dimensions = 8};
  CHECK(arrowembed_embed(model, pointers, lengths, 3, &eight, small) == ARROWEMBED_OK);
  for (int r = 0; r < 3; ++r) {
    CHECK(fabs(row_norm(small + r * 8, 8) - 1.0) < 1e-5);
    CHECK(fabs(small[r * 8] - raw[r * 32] / row_norm(raw + r * 32, 8)) < 1e-5);
  }
  arrowembed_embed_options too_many = {.normalize = -1, .dimensions = 33};
  CHECK(arrowembed_embed(model, pointers, lengths, 3, &too_many, small) == ARROWEMBED_INVALID_INPUT);
  CHECK(strstr(arrowembed_last_error(), "dimensions") != NULL);
  arrowembed_embed_options bad_norm = {.normalize = 7, .dimensions = 0};
  CHECK(arrowembed_embed(model, pointers, lengths, 3, &bad_norm, raw) == ARROWEMBED_INVALID_ARGUMENT);

  /* Bad input: clear errors, nothing written, the model still works. */
  TextArray in;
  struct ArrowSchema out_schema = {0};
  struct ArrowArray out = {0};
  make_text_array(&in, "u", texts, 3, 1);
  CHECK(arrowembed_embed_arrow(model, &in.schema, &in.array, NULL, &out_schema, &out) == ARROWEMBED_INVALID_INPUT);
  CHECK(strstr(arrowembed_last_error(), "text 1 is null") != NULL);
  CHECK(out.release == NULL);
  make_text_array(&in, "i", texts, 3, -1);
  CHECK(arrowembed_embed_arrow(model, &in.schema, &in.array, NULL, &out_schema, &out) == ARROWEMBED_INVALID_INPUT);
  CHECK(strstr(arrowembed_last_error(), "string") != NULL);
  const char* invalid[] = {"ok", "bad \xff byte"};
  make_text_array(&in, "u", invalid, 2, -1);
  CHECK(arrowembed_embed_arrow(model, &in.schema, &in.array, NULL, &out_schema, &out) == ARROWEMBED_INVALID_INPUT);
  CHECK(strstr(arrowembed_last_error(), "UTF") != NULL || strstr(arrowembed_last_error(), "utf") != NULL);
  size_t invalid_lengths[] = {2, 9};
  CHECK(arrowembed_embed(model, invalid, invalid_lengths, 2, NULL, raw) == ARROWEMBED_INVALID_INPUT);
  fprintf(stderr, "invalid UTF-8 through pointers: %s\n", arrowembed_last_error());
  make_text_array(&in, "u", texts, 3, -1);
  in.offsets[3] = 1000; /* past the data buffer: must be refused, not read */
  CHECK(arrowembed_embed_arrow(model, &in.schema, &in.array, NULL, &out_schema, &out) == ARROWEMBED_INVALID_INPUT);
  CHECK(arrowembed_embed_arrow(model, NULL, &in.array, NULL, &out_schema, &out) == ARROWEMBED_INVALID_ARGUMENT);

  /* An empty array is an empty result. */
  make_text_array(&in, "u", texts, 0, -1);
  CHECK(arrowembed_embed_arrow(model, &in.schema, &in.array, NULL, &out_schema, &out) == ARROWEMBED_OK);
  CHECK(out.length == 0);
  if (out.release) out.release(&out);
  if (out_schema.release) out_schema.release(&out_schema);

  CHECK(arrowembed_embed(model, pointers, lengths, 3, NULL, raw) == ARROWEMBED_OK);
  CHECK(memcmp(raw, plain, sizeof plain) == 0);
  arrowembed_model_free(model);
  arrowembed_model_free(NULL);

  if (failures) fprintf(stderr, "%d checks failed\n", failures);
  else printf("capi_test: all checks passed\n");
  return failures ? 1 : 0;
}
