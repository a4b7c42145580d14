#!/usr/bin/env python3
"""Writes the seed corpora of the fuzzers in tests/fuzz/ (deterministic).

Each seed is a small scripted scenario in the fuzzers' input encoding (see
the top of log_fuzzer.cc and sharded_fuzzer.cc), plus one pseudo-random input
per fuzzer. Rerun after changing an encoding:

    python3 tests/fuzz/make_corpus.py
"""

import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))

# --- log_fuzzer encoding -----------------------------------------------------

(WRITE, WRITE2, READ, READ_VIEW, READ_BATCH, READ_BATCH_VIEW, RANGE,
 OPEN_STREAM, STREAM_NEXT, STREAM_NEXT_BATCH, CANCEL_STREAM, WAIT_FOR,
 MEMORY_USAGE, DROP_VIEW, CLOSE, RECREATE, READER_READ,
 READER_RELEASE) = range(18)


def log_options(start=(0,), segment=(4, 1), limit=(4, 15), fake_clock=True):
    """start/segment/limit: (mode, extra bytes...) as DecodeOptions reads."""
    return bytes(start) + bytes(segment) + bytes(limit) + bytes(
        [1 if fake_clock else 0])


def write(size_byte=5, mode=3, salt=7):
    if mode >= 3:
        return bytes([WRITE, mode, size_byte, salt])
    return bytes([WRITE, mode, salt])


# PickOffset(delta_byte, mode, extra...): delta = delta_byte % 5 - 2.
EARLIEST = bytes([2, 7])
LATEST = bytes([2, 1])
NEXT = bytes([2, 2])
BEFORE_START = bytes([2, 3, 0])


def special(index):  # -1, INT64_MIN, INT64_MAX, kMaxOffset, 0, 1
    return bytes([2, 4, index])


def log_seeds():
    seeds = {}
    # Segment size 2, 16-byte limit: writes, purges, every read kind, a
    # stream that lags, then close.
    s = log_options(segment=(4, 1))
    s += bytes([OPEN_STREAM]) + EARLIEST
    for i in range(10):
        s += write(size_byte=i)
    s += bytes([RANGE, MEMORY_USAGE])
    s += bytes([READ]) + EARLIEST + bytes([READ]) + LATEST
    s += bytes([READ]) + NEXT + bytes([READ]) + BEFORE_START
    s += bytes([READ_VIEW]) + EARLIEST
    s += bytes([READ_BATCH]) + EARLIEST + bytes([5])
    s += bytes([READ_BATCH_VIEW]) + LATEST + bytes([3])
    s += bytes([STREAM_NEXT, 0, 0]) * 3
    s += bytes([STREAM_NEXT_BATCH, 0, 4, 1])
    s += write() + bytes([WAIT_FOR]) + LATEST + bytes([WAIT_FOR]) + NEXT
    s += bytes([CLOSE]) + write() + bytes([RANGE])
    s += bytes([STREAM_NEXT, 0, 0]) * 4
    seeds["basic"] = s

    # Start at kMaxOffset - 3, segment size 1: the offset overflow.
    s = log_options(start=(2, 3), segment=(4, 0))
    for i in range(6):
        s += write(size_byte=i)
    s += bytes([RANGE, MEMORY_USAGE])
    for i in range(6):
        s += bytes([READ]) + special(i)
        s += bytes([READ_BATCH]) + special(i) + bytes([4])
        s += bytes([READER_READ]) + LATEST + bytes([READER_READ]) + special(i)
        s += bytes([WAIT_FOR]) + special(i)
    s += bytes([OPEN_STREAM]) + LATEST + bytes([STREAM_NEXT, 0, 0]) * 2
    s += bytes([OPEN_STREAM]) + special(2)  # INT64_MAX: refused
    seeds["overflow"] = s

    # A Reader at every kind of offset, with segments pinned and released:
    # INT64_MIN after a read of a log starting at 10 once overflowed.
    s = log_options(start=(1, 10), segment=(4, 1))
    s += bytes([READER_READ]) + EARLIEST  # nothing written yet
    s += write() * 3
    s += bytes([READER_READ]) + EARLIEST
    for i in range(6):
        s += bytes([READER_READ]) + special(i)
    s += bytes([READER_READ]) + BEFORE_START + bytes([READER_READ]) + NEXT
    s += write() * 4  # purges
    s += bytes([READER_READ, 0, 0]) + bytes([READER_READ]) + EARLIEST
    s += bytes([READER_READ]) + special(1) + bytes([READER_RELEASE])
    s += bytes([READER_READ]) + special(1) + bytes([READER_READ]) + LATEST
    s += bytes([READ_BATCH_VIEW]) + EARLIEST + bytes([4])
    s += bytes([READ_VIEW]) + LATEST + bytes([READ_BATCH_VIEW]) + LATEST
    s += bytes([5])
    s += bytes([WAIT_FOR]) + BEFORE_START
    s += bytes([CLOSE, READER_READ]) + LATEST
    seeds["reader"] = s

    # Invalid options of every field, each followed by a valid log.
    s = log_options(start=(4, 9))
    s += bytes([RECREATE]) + log_options(segment=(1, 3))
    s += bytes([RECREATE]) + log_options(segment=(2, 0))
    s += bytes([RECREATE]) + log_options(limit=(0,))
    s += bytes([RECREATE]) + log_options(limit=(2,))
    s += bytes([RECREATE]) + log_options(start=(5,))
    s += bytes([RECREATE]) + log_options(start=(6,))
    s += bytes([RECREATE]) + log_options(segment=(0,), limit=(1,))
    s += write() * 3 + bytes([READ]) + LATEST + bytes([MEMORY_USAGE])
    seeds["options"] = s

    # Record sizes: empty, exactly the limit, one over.
    s = log_options(limit=(4, 7))
    s += write(mode=0) + write(mode=1) + write(mode=2) + write(mode=1)
    s += bytes([READ]) + LATEST + bytes([RANGE])
    seeds["record_sizes"] = s

    # Views held across purges and across the log's destruction.
    s = log_options(segment=(4, 0))
    s += write() + bytes([READ_VIEW]) + LATEST
    s += write() * 4 + bytes([READ_VIEW]) + LATEST + bytes([DROP_VIEW])
    s += bytes([RECREATE]) + log_options() + bytes([DROP_VIEW, DROP_VIEW])
    seeds["views"] = s

    # Streams: before the start, far in the future, cancelled, empty batch.
    s = log_options(start=(7,), segment=(4, 2))
    s += bytes([OPEN_STREAM]) + BEFORE_START
    s += bytes([OPEN_STREAM]) + special(2)
    s += bytes([OPEN_STREAM]) + EARLIEST
    s += write() * 5
    s += bytes([STREAM_NEXT, 0, 0, STREAM_NEXT, 1, 1, STREAM_NEXT, 2, 0])
    s += bytes([STREAM_NEXT_BATCH, 2, 0, 0])
    s += bytes([CANCEL_STREAM, 2, STREAM_NEXT, 2, 0])
    s += bytes([STREAM_NEXT_BATCH, 2, 0, 0])
    s += bytes([CLOSE, STREAM_NEXT, 1, 0])
    seeds["streams"] = s

    rng = random.Random(6)
    seeds["random"] = bytes(rng.randrange(256) for _ in range(512))
    return seeds


# --- sharded_fuzzer encoding -------------------------------------------------

(S_WRITE, S_WRITE2, S_WRITE3, S_READ, S_READ_VIEW, S_READ_BATCH,
 S_READ_BATCH_VIEW, S_RANGE, S_SHARD_FOR, S_SHARD_RANGE, S_READ_SHARD,
 S_OPEN_STREAM, S_STREAM_STEP, S_OPEN_SHARD_STREAM, S_SHARD_STREAM_STEP,
 S_CANCEL, S_MEMORY_USAGE, S_DROP_VIEW, S_CLOSE, S_RECREATE) = range(20)

# Key picks: a b c ab abc xyz "" !bad ?missing #error long long+1
KEY_A, KEY_B, KEY_C, KEY_AB, KEY_ABC, KEY_XYZ, KEY_EMPTY, KEY_BANG, \
    KEY_QUESTION, KEY_HASH, KEY_LONG, KEY_TOO_LONG = range(12)
HASH, KEY_TABLE, COLLIDING = 0, 1, 2
# num_shards picks: 0 1 2 3 4 7 kMax kMax+1 SIZE_MAX
SHARDS_0, SHARDS_1, SHARDS_2, SHARDS_3, SHARDS_4, SHARDS_7, SHARDS_MAX, \
    SHARDS_OVER, SHARDS_SIZE_MAX = range(9)


def sharded_options(shards=SHARDS_3, sharder=COLLIDING, **fields):
    o = bytes([shards]) + log_options(**fields)
    return o + bytes([sharder])


def s_write(key, size_byte=5, salt=3):
    return bytes([S_WRITE, key, 3, size_byte, salt])


def s_shard(index):  # PickShard: an existing shard
    return bytes([2, index])


def sharded_seeds():
    seeds = {}
    # Colliding keys: "a", "b" (shard 1) and "ab" (shard 0), segment size 2.
    s = sharded_options(segment=(4, 1))
    for key in (KEY_A, KEY_B, KEY_AB):
        s += bytes([S_OPEN_STREAM, key]) + EARLIEST
    s += bytes([S_OPEN_SHARD_STREAM]) + s_shard(1) + EARLIEST
    for i, key in enumerate([KEY_A, KEY_B, KEY_A, KEY_AB, KEY_B, KEY_A,
                             KEY_ABC, KEY_A, KEY_B, KEY_B, KEY_B, KEY_A]):
        s += s_write(key, size_byte=i)
    for key in (KEY_A, KEY_B, KEY_AB, KEY_C):
        s += bytes([S_READ, key]) + LATEST + bytes([S_READ_VIEW, key]) + EARLIEST
        s += bytes([S_READ_BATCH, key]) + EARLIEST + bytes([5])
        s += bytes([S_READ_BATCH_VIEW, key]) + BEFORE_START + bytes([3])
        s += bytes([S_RANGE, key, S_SHARD_FOR, key])
    s += bytes([S_SHARD_RANGE]) + s_shard(0) + bytes([S_SHARD_RANGE, 0])
    s += bytes([S_READ_SHARD]) + s_shard(1) + LATEST
    s += bytes([S_READ_SHARD, 1]) + LATEST
    for i in range(4):
        s += bytes([S_STREAM_STEP, i, 0, S_STREAM_STEP, i, 3])
        s += bytes([S_SHARD_STREAM_STEP, 0, i % 4])
    s += bytes([S_MEMORY_USAGE, S_CANCEL, 0, S_STREAM_STEP, 0, 0])
    s += bytes([S_CLOSE]) + s_write(KEY_A)
    for i in range(4):
        s += bytes([S_STREAM_STEP, i, 0, S_SHARD_STREAM_STEP, 0, 0])
    seeds["colliding"] = s

    # Bad keys and a misbehaving sharder.
    s = sharded_options()
    for key in (KEY_EMPTY, KEY_BANG, KEY_QUESTION, KEY_HASH, KEY_LONG,
                KEY_TOO_LONG, KEY_A):
        s += s_write(key) + bytes([S_READ, key]) + LATEST
        s += bytes([S_READ_BATCH, key]) + EARLIEST + bytes([2])
        s += bytes([S_RANGE, key, S_SHARD_FOR, key, S_OPEN_STREAM, key]) + NEXT
    s += bytes([S_WRITE, KEY_A, 0, 1])   # empty record
    s += bytes([S_WRITE, KEY_A, 2, 1])   # one byte over the limit
    s += bytes([S_WRITE, KEY_A, 1, 1])   # exactly the limit
    s += bytes([S_OPEN_SHARD_STREAM, 0]) + EARLIEST
    s += bytes([S_OPEN_SHARD_STREAM, 1]) + EARLIEST
    s += bytes([S_READ_SHARD, 1]) + EARLIEST
    seeds["bad_keys"] = s

    # Options: shard counts 0, 1, kMax + 1, SIZE_MAX; a key table on two
    # shards; then a key table on three.
    s = sharded_options(shards=SHARDS_0)
    for shards in (SHARDS_1, SHARDS_OVER, SHARDS_SIZE_MAX):
        s += bytes([S_RECREATE]) + sharded_options(shards=shards)
    s += bytes([S_RECREATE]) + sharded_options(shards=SHARDS_2,
                                               sharder=KEY_TABLE)
    s += bytes([S_RECREATE]) + sharded_options(segment=(2, 0))
    s += bytes([S_RECREATE]) + sharded_options(shards=SHARDS_3,
                                               sharder=KEY_TABLE)
    for key in (KEY_A, KEY_B, KEY_C, KEY_XYZ, KEY_A):
        s += s_write(key)
    s += bytes([S_RANGE, KEY_A, S_READ, KEY_C]) + LATEST
    s += bytes([S_SHARD_RANGE]) + s_shard(2)
    seeds["options"] = s

    # The hash sharder over 7 shards, near the offset limit.
    s = sharded_options(shards=SHARDS_7, sharder=HASH, start=(2, 1),
                        segment=(4, 0))
    for key in (KEY_A, KEY_B, KEY_C, KEY_AB, KEY_ABC, KEY_XYZ, KEY_A, KEY_A,
                KEY_A):
        s += s_write(key)
        s += bytes([S_SHARD_FOR, key, S_RANGE, key])
    s += bytes([S_OPEN_STREAM, KEY_A]) + BEFORE_START
    s += bytes([S_STREAM_STEP, 0, 0, S_MEMORY_USAGE])
    seeds["hash"] = s

    rng = random.Random(4)
    seeds["random"] = bytes(rng.randrange(256) for _ in range(512))
    return seeds


def write_corpus(name, seeds):
    directory = os.path.join(HERE, "corpus", name)
    os.makedirs(directory, exist_ok=True)
    for seed_name, data in sorted(seeds.items()):
        with open(os.path.join(directory, seed_name), "wb") as f:
            f.write(data)


def main():
    write_corpus("log_fuzzer", log_seeds())
    write_corpus("sharded_fuzzer", sharded_seeds())


if __name__ == "__main__":
    main()
