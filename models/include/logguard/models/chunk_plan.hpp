#pragma once
// Model-window arithmetic for scoring a session in chunks (the daemon scores open sessions
// chunk by chunk, `logguard detect` whole sessions; both must judge the same model windows).
//
// Offline equivalence. `logguard detect` scores a session as the sequence
// [start] + events + [end] cut into model windows (MSMASS: W events, starts 0, s, 2s, ... and a
// last one ending at the session's end; DeepLog: one target per position with h events of
// history) and ORs their verdicts. A streaming windower cuts an open session into chunks of
// `length` events that slide by `stride`; chunk k starts at event k*stride. plan_chunk() picks,
// in each chunk, exactly the offline model windows that end inside it and did not fit into the
// previous chunk (a closing chunk also judges the end token). With an overlap
// length - stride >= W, every offline window lies inside one chunk, so a session's chunks OR to
// the same verdict as the whole session, as long as the session is not closed early and its
// templates map the same. Without sessions (count/time windows) each chunk is a whole session.
// Thread-safety: pure functions.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace logguard::models {

/// How the model cuts a session into model windows (as Scorer::score_sessions).
struct ModelShape {
  std::size_t window = 0;     // W (MSMASS) or h+1 (DeepLog)
  std::size_t stride = 1;     // MSMASS window stride over sessions
  bool boundaries = true;     // sessions wrapped in start/end tokens
  bool deeplog = false;
};

/// How sessions are cut into chunks.
struct ChunkLayout {
  bool sessions = true;          // false: count/time windows, each judged as a whole
  std::size_t length = 0;        // chunk length (the daemon's pipeline.window.length)
  std::size_t stride = 0;        // chunk stride (pipeline.window.stride, 0 resolved to length)
};

/// One chunk of a session: the template ids of its events, its number in the session and
/// whether it is the session's last chunk (`closing`: the model windows up to its last event are
/// scored) and the session ended there (`ended`: the end token is judged too; false for a
/// session cut short, e.g. by a stop).
struct Chunk {
  std::span<const std::uint32_t> events;
  std::uint64_t sequence = 0;
  bool closing = false;
  bool ended = true;
  /// Where the chunk lies in its session, when not on the chunk grid (a session resumed after a
  /// pause): the index in the session of events[0], and the event index up to which earlier
  /// chunks judged every model window. kOnGrid: chunk `sequence` of the layout (start
  /// sequence * stride; judged: the previous chunk's end).
  static constexpr std::uint64_t kOnGrid = ~std::uint64_t{0};
  std::uint64_t start = kOnGrid;
  std::uint64_t judged = 0;
};

/// A model window inside a chunk: [begin, end) of the chunk's token sequence.
struct ModelWindowRef {
  std::size_t begin = 0, end = 0;
};

/// The chunk's token sequence (template ids, with start/end tokens where they belong) and the
/// model windows to score in it. `event_of_token[i]` is the index into Chunk::events of token i
/// (events.size() for the end token, SIZE_MAX for the start token).
struct ChunkPlan {
  std::vector<std::uint32_t> tokens;
  std::vector<std::size_t> event_of_token;
  std::vector<ModelWindowRef> windows;
};

ChunkPlan plan_chunk(const Chunk& chunk, const ModelShape& m, const ChunkLayout& layout);

/// The index in its session of the chunk's first event: Chunk::start, or on the grid
/// sequence * stride (0 without sessions).
std::size_t chunk_start(const Chunk& chunk, const ChunkLayout& layout);

/// Checks a chunk layout against the model: overlap length - stride >= W. Throws
/// core::ConfigError keyed "pipeline.window.stride" / "pipeline.window.length" (the daemon's
/// keys that set the layout).
void check_chunk_layout(const ChunkLayout& layout, const ModelShape& m);

}  // namespace logguard::models
