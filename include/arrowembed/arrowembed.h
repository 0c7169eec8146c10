/* arrowembed's C API: load a model file, embed texts, free. For any host
 * that can call C (Rust, Go, Node, Java through FFI; Python through ctypes).
 *
 * Texts come in and embeddings go out through the Arrow C Data Interface
 * (https://arrow.apache.org/docs/format/CDataInterface.html), so a host with
 * Arrow data passes its string array's buffers as they are, and gets back a
 * fixed_size_list<float32> array whose buffer is the engine's output, with no
 * copy either way. Plain pointers (arrowembed_embed) work without Arrow.
 *
 *   arrowembed_model* model;
 *   if (arrowembed_model_load("minilm.arrow", NULL, &model) != ARROWEMBED_OK)
 *     fprintf(stderr, "%s\n", arrowembed_last_error());
 *   struct ArrowSchema out_schema; struct ArrowArray out;
 *   arrowembed_embed_arrow(model, &texts_schema, &texts, NULL, &out_schema, &out);
 *   ...                      // out.children[0]->buffers[1]: rows x dimension floats
 *   out.release(&out); out_schema.release(&out_schema);
 *   arrowembed_model_free(model);
 *
 * Every function returning arrowembed_status leaves a message for
 * arrowembed_last_error() when it fails. A model is safe to use from several
 * threads at once; their calls share the model's engine threads. */
#ifndef ARROWEMBED_ARROWEMBED_H
#define ARROWEMBED_ARROWEMBED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The Arrow C Data Interface structs, exactly as the specification defines
 * them (and guards them, so that hosts including Arrow's own headers too
 * see one definition). */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;
  void (*release)(struct ArrowSchema*);
  void* private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;
  void (*release)(struct ArrowArray*);
  void* private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

#if defined(_WIN32)
#define ARROWEMBED_API __declspec(dllexport)
#else
#define ARROWEMBED_API __attribute__((visibility("default")))
#endif

typedef enum arrowembed_status {
  ARROWEMBED_OK = 0,
  ARROWEMBED_INVALID_ARGUMENT = 1, /* a null pointer, an unknown option value */
  ARROWEMBED_MODEL_ERROR = 2,      /* a missing, damaged or unsupported model file; a CPU it cannot run on */
  ARROWEMBED_INVALID_INPUT = 3,    /* texts: not a string array, a null, invalid UTF-8, too many tokens */
  ARROWEMBED_INTERNAL = 4          /* out of memory, or a bug: please report it */
} arrowembed_status;

typedef struct arrowembed_model arrowembed_model;

typedef struct arrowembed_load_options {
  size_t threads;        /* engine threads; 0: one per core */
  const char* precision; /* "f32" (default when NULL) or "bf16" (CPUs with AVX512-BF16) */
} arrowembed_load_options;

typedef struct arrowembed_embed_options {
  int normalize;     /* -1: the model's own setting; 0: no; 1: L2-normalise */
  size_t dimensions; /* keep the first N dimensions (Matryoshka); 0: all */
} arrowembed_embed_options;

/* "0.1.0" */
ARROWEMBED_API const char* arrowembed_version(void);

/* The message of this thread's last failed call ("" when none). Valid until
 * this thread's next call into the library. */
ARROWEMBED_API const char* arrowembed_last_error(void);

/* Opens an arrowembed model file (.arrow: memory-mapped; .parquet) or a
 * Hugging Face model directory. `options` may be NULL. */
ARROWEMBED_API arrowembed_status arrowembed_model_load(const char* path, const arrowembed_load_options* options,
                                                       arrowembed_model** out);

/* Frees the model; NULL is ignored. Embeddings already exported stay valid. */
ARROWEMBED_API void arrowembed_model_free(arrowembed_model* model);

/* Floats per embedding (before any `dimensions` option). */
ARROWEMBED_API size_t arrowembed_model_dimension(const arrowembed_model* model);

/* Tokens per text the model takes, including [CLS] and [SEP]. */
ARROWEMBED_API size_t arrowembed_model_max_seq_length(const arrowembed_model* model);

/* Embeds `count` UTF-8 texts (texts[i] of lengths[i] bytes, not necessarily
 * NUL-terminated) into `out`, which must hold count x dimension floats
 * (count x options->dimensions with that option), row-major, input order.
 * `options` may be NULL. */
ARROWEMBED_API arrowembed_status arrowembed_embed(const arrowembed_model* model, const char* const* texts,
                                                  const size_t* lengths, size_t count,
                                                  const arrowembed_embed_options* options, float* out);

/* Embeds the rows of an Arrow string ("u"), large_string ("U") or
 * string_view ("vu") array, read in place: `schema` and `array` are borrowed
 * (not released; they stay the caller's). On success, *out_schema and
 * *out_array hold a fixed_size_list<float32>[dimension] array of the same
 * length that the caller releases (its float buffer is the engine's output).
 * A null row is an error. `options` may be NULL. */
ARROWEMBED_API arrowembed_status arrowembed_embed_arrow(const arrowembed_model* model,
                                                        const struct ArrowSchema* schema,
                                                        const struct ArrowArray* array,
                                                        const arrowembed_embed_options* options,
                                                        struct ArrowSchema* out_schema, struct ArrowArray* out_array);

#ifdef __cplusplus
}
#endif

#endif /* ARROWEMBED_ARROWEMBED_H */
