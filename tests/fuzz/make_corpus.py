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
 READER_RELEASE, WRITE_BATCH, TRIM, OFFSET_AT, ADVANCE_CLOCK, SET_CLOCK,
 STATS, NEXT_OFFSET) = range(25)

# Clocks (the log fuzzer's clock byte): real, stepping 1 us per call, driven.
REAL_CLOCK, STEPPING_CLOCK, DRIVEN_CLOCK = 0, 1, 2
# Byte-limit modes (DecodeRetentionFields): off, 4 KiB, bad (index), huge,
# and observed: 4 KiB + 1 + (byte << shift).
NO_BYTE_LIMIT, BYTE_LIMIT_4K, BAD_BYTE_LIMIT, HUGE_BYTE_LIMIT = (0,), (4,), 6, 7


def observed_byte_limit(byte, shift=0):
    return (3, byte, shift)
# Age modes: off, 1 + byte ms, bad (index), the bounds.
NO_AGE, BAD_AGE, AGE_BOUND = (0,), 6, 7


def log_options(start=(0,), segment=(4, 1), limit=(4, 15),
                   byte_limit=NO_BYTE_LIMIT, age=NO_AGE,
                   clock=STEPPING_CLOCK):
    """The log fuzzer's options: the shared fields, retention, the clock."""
    return (bytes(start) + bytes(segment) + bytes(limit) + bytes(byte_limit) +
            bytes(age) + bytes([clock]))


def age_ms(ms):
    """An age mode of `ms` milliseconds (1..256)."""
    return (4, ms - 1)


def batch(*sizes):
    """A batch write: each size is 'empty', 'big' (one over the limit),
    ('k', k) for 512 * (k + 1) bytes (capped at the limit), or a small size
    byte (1 + byte % min(limit, 64))."""
    out = bytes([WRITE_BATCH, len(sizes)])
    for i, size in enumerate(sizes):
        if size == 'empty':
            out += bytes([0, 0])
        elif size == 'big':  # assumes a limit under 4 KiB
            out += bytes([0, 2])
        elif isinstance(size, tuple):
            out += bytes([1, size[1]])
        else:
            out += bytes([2, size])
        out += bytes([i])  # salt
    return out


def advance(unit, count):  # unit: 0 ns, 1 100us, 2 ms, 3 s
    return bytes([ADVANCE_CLOCK, unit, count])


def offset_at(mode, delta=1, extra=b''):
    """OffsetAt: mode 0 past, 1 future, 2 a record's time (extra: an offset
    pick), 4 now, 5 extra: 8 bytes of unix nanos; delta -1, 0, +1 as 0..2."""
    return bytes([OFFSET_AT, delta, mode]) + extra


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

    # Batch writes: empty, valid, spanning rotations, with a bad record at
    # each end and in the middle, after close, and near kMaxOffset.
    s = log_options(segment=(4, 2))  # segment size 3, 16-byte limit
    s += batch() + batch(1, 2, 3, 4, 5) + bytes([RANGE, STATS])
    s += batch(1, 2, 3, 4, 5, 6, 7, 8)  # purges its own first records
    s += bytes([READ_BATCH]) + EARLIEST + bytes([8, RANGE, MEMORY_USAGE])
    s += batch('empty') + batch(1, 'empty', 2) + batch('big')
    s += batch(1, 2, 3, 4, 5, 6, 7, 'big') + bytes([STATS, NEXT_OFFSET])
    s += bytes([CLOSE]) + batch(1) + batch() + bytes([STATS])
    s += bytes([RECREATE]) + log_options(start=(2, 2), segment=(4, 1))
    s += batch(1, 2) + batch(1, 2) + batch(1) + batch(1, 2, 3) + batch(1)
    s += write() + batch() + bytes([RANGE, STATS, NEXT_OFFSET])
    seeds["batches"] = s

    # Byte retention at 4 KiB: records of 4 KiB each fill a segment alone;
    # smaller ones share one until the next would pass 4 KiB.
    s = log_options(segment=(3, 200), limit=(1,), byte_limit=BYTE_LIMIT_4K)
    s += write(mode=1) * 3 + bytes([RANGE, STATS, MEMORY_USAGE])
    s += batch(('k', 3), ('k', 3), ('k', 3), ('k', 3), ('k', 3))
    s += bytes([RANGE, STATS]) + bytes([WRITE, 2, 200, 7]) * 20
    s += bytes([OPEN_STREAM]) + EARLIEST
    s += batch(*([('k', 6)] * 8)) + bytes([STREAM_NEXT, 0, 0, STATS])
    s += bytes([READ_VIEW]) + LATEST + batch(('k', 7), ('k', 0), ('k', 7))
    s += bytes([READ_BATCH_VIEW]) + EARLIEST + bytes([6, MEMORY_USAGE, STATS])
    s += bytes([RECREATE]) + log_options(segment=(3, 200), limit=(1,),
                                         byte_limit=(HUGE_BYTE_LIMIT, 0))
    s += batch(*([('k', 7)] * 8)) * 4 + bytes([RANGE, STATS])
    seeds["bytes"] = s

    # Age retention with the driven clock: purges by writes and Trim(),
    # sealing by the active segment's first record, a clock that steps
    # back, and seeks by time around every record.
    s = log_options(segment=(4, 3), age=age_ms(10), clock=DRIVEN_CLOCK)
    s += bytes([TRIM]) + offset_at(0) + offset_at(1)  # an empty log
    s += write() + advance(2, 3) + write() + advance(2, 3) + batch(1, 2, 3)
    s += offset_at(0) + offset_at(2, 0, EARLIEST) + offset_at(2, 2, LATEST)
    s += advance(2, 8) + bytes([TRIM, RANGE, STATS]) + offset_at(0)
    s += advance(2, 20) + bytes([TRIM, RANGE, STATS, NEXT_OFFSET])
    s += offset_at(0) + offset_at(4)  # every record purged
    s += bytes([OPEN_STREAM]) + EARLIEST + write() + bytes([STREAM_NEXT, 0, 0])
    s += bytes([SET_CLOCK, 1, 5]) + write() + write()  # 5 s back
    s += offset_at(4, 0) + offset_at(2, 1, LATEST) + bytes([STATS])
    s += advance(3, 5) + write() + bytes([RANGE]) + advance(2, 11)
    s += bytes([TRIM, RANGE, STATS, STREAM_NEXT, 0, 0, STATS])
    s += bytes([SET_CLOCK, 3]) + write() + bytes([TRIM, RANGE])  # the future
    s += bytes([SET_CLOCK, 2]) + write() + bytes([TRIM, RANGE, STATS])
    s += offset_at(1) + offset_at(2, 1, LATEST) + bytes([CLOSE, TRIM, STATS])
    seeds["age"] = s

    # A byte limit the model cannot predict (4 KiB + 1 + (100 << 3)): it
    # follows where the log seals, within the rules, through stats(); views
    # pin purged segments meanwhile, which the storage bound allows for.
    s = log_options(segment=(3, 200), limit=(1,),
                    byte_limit=observed_byte_limit(100, 3))
    s += bytes([OPEN_STREAM]) + EARLIEST
    for i in range(8):
        s += batch(*([('k', i)] * 5)) + write(mode=1) + bytes([STATS])
        s += bytes([READ_VIEW]) + LATEST + bytes([MEMORY_USAGE])
    s += bytes([STREAM_NEXT_BATCH, 0, 5, 0, STREAM_NEXT, 0, 0, RANGE])
    s += bytes([READ_BATCH]) + EARLIEST + bytes([8]) + bytes([DROP_VIEW]) * 8
    s += batch(*([('k', 7)] * 8)) + bytes([MEMORY_USAGE, STATS])
    # A segment reused with chunks of 4096 and 1001 bytes (the limit, 5097)
    # for a first record of 4608 bytes, which neither holds: its storage
    # must stay within the limit, not add a chunk to them.
    s += bytes([RECREATE]) + log_options(
        segment=(3, 100), limit=(1,), byte_limit=observed_byte_limit(125, 3))
    s += batch(('k', 7)) + write(size_byte=9) + bytes([MEMORY_USAGE])
    for i in range(4):
        s += batch(('k', 8)) + bytes([MEMORY_USAGE, STATS])
    # 4 KiB + 1 with age: the second chunk of a segment has one byte.
    s += bytes([RECREATE]) + log_options(
        segment=(3, 100), limit=(1,), byte_limit=observed_byte_limit(0),
        age=age_ms(3), clock=DRIVEN_CLOCK)
    for i in range(6):
        s += batch(('k', 7), 1, 1, ('k', i)) + write(size_byte=0) + advance(1, 9)
        s += bytes([TRIM, STATS]) + offset_at(0)
    s += bytes([MEMORY_USAGE, RANGE])
    seeds["bytes_observed"] = s

    # The age boundary: a record exactly max_age old is kept (options.h:
    # "age never purges a record created after now - max_age"), one
    # nanosecond older it goes; for the history and for the active
    # segment's first record.
    s = log_options(segment=(4, 0), age=age_ms(10), clock=DRIVEN_CLOCK)
    s += write() + write() + advance(2, 10) + bytes([TRIM, RANGE, STATS])
    s += write() + bytes([RANGE]) + advance(0, 1) + bytes([TRIM, RANGE, STATS])
    s += advance(2, 10) + bytes([TRIM, RANGE]) + advance(0, 1) + write()
    s += bytes([RANGE, STATS]) + offset_at(4, 0) + offset_at(0)
    seeds["age_boundary"] = s

    # Age and bytes together, a stepping clock for the count limit's seeds.
    s = log_options(segment=(3, 30), limit=(1,), byte_limit=BYTE_LIMIT_4K,
                    age=age_ms(2), clock=DRIVEN_CLOCK)
    for i in range(6):
        s += batch(('k', i), 5, ('k', 7 - i)) + advance(1, 7) + offset_at(4)
    s += bytes([TRIM, STATS, RANGE, MEMORY_USAGE])
    s += bytes([RECREATE]) + log_options(age=(AGE_BOUND, 1), clock=REAL_CLOCK)
    s += write() * 3 + bytes([TRIM]) + offset_at(0) + bytes([STATS])
    seeds["age_and_bytes"] = s

    # Retention options that Create() refuses, each then a valid log.
    s = b''
    for i in range(6):
        s += log_options(byte_limit=(BAD_BYTE_LIMIT, i)) + bytes([RECREATE])
        s += log_options(age=(BAD_AGE, i)) + bytes([RECREATE])
    s += log_options(age=(AGE_BOUND, 0), byte_limit=(HUGE_BYTE_LIMIT, 1))
    s += write() * 3 + bytes([TRIM, STATS, RANGE])
    seeds["retention_options"] = s

    rng = random.Random(6)
    seeds["random"] = bytes(rng.randrange(256) for _ in range(512))
    rng = random.Random(7)
    seeds["random_retention"] = (
        log_options(segment=(4, 3), limit=(1,), byte_limit=BYTE_LIMIT_4K,
                    age=age_ms(5), clock=DRIVEN_CLOCK) +
        bytes(rng.randrange(256) for _ in range(1024)))
    return seeds


# --- sharded_fuzzer encoding -------------------------------------------------

(S_WRITE, S_WRITE2, S_WRITE3, S_READ, S_READ_VIEW, S_READ_BATCH,
 S_READ_BATCH_VIEW, S_RANGE, S_SHARD_FOR, S_SHARD_RANGE, S_READ_SHARD,
 S_OPEN_STREAM, S_STREAM_STEP, S_OPEN_SHARD_STREAM, S_SHARD_STREAM_STEP,
 S_CANCEL, S_MEMORY_USAGE, S_DROP_VIEW, S_CLOSE, S_RECREATE,
 S_WRITE_BATCH, S_WRITE_BATCH_KEYED, S_OFFSET_AT, S_SHARD_OFFSET_AT, S_TRIM,
 S_ADVANCE_CLOCK, S_SET_CLOCK, S_STATS, S_SHARD_STATS) = range(29)

# Key picks: a b c ab abc xyz "" !bad ?missing #error long long+1
KEY_A, KEY_B, KEY_C, KEY_AB, KEY_ABC, KEY_XYZ, KEY_EMPTY, KEY_BANG, \
    KEY_QUESTION, KEY_HASH, KEY_LONG, KEY_TOO_LONG = range(12)
HASH, KEY_TABLE, COLLIDING = 0, 1, 2
# num_shards picks: 0 1 2 3 4 7 kMax kMax+1 SIZE_MAX
SHARDS_0, SHARDS_1, SHARDS_2, SHARDS_3, SHARDS_4, SHARDS_7, SHARDS_MAX, \
    SHARDS_OVER, SHARDS_SIZE_MAX = range(9)


# Byte-limit modes (DecodeShardedRetention): off; a 4 KiB share of
# max_total_bytes (plus a remainder byte); shard.max_segment_bytes of 4 KiB;
# an observed share of 4 KiB + 1 + (byte << shift); bad (index); the
# largest limit (0: as the share, 1: per shard).
S_NO_BYTE_LIMIT, S_SHARD_4K = (0,), (4,)


def s_share_4k(remainder=0):
    return (3, remainder)


def s_share_observed(byte, shift=0):
    return (5, byte, shift)


S_BAD_BYTE_LIMIT, S_HUGE_BYTE_LIMIT = 6, 7


def sharded_options(shards=SHARDS_3, sharder=COLLIDING, start=(0,),
                    segment=(4, 1), limit=(4, 15), clock=STEPPING_CLOCK,
                    byte_limit=S_NO_BYTE_LIMIT, age=NO_AGE):
    """The sharded fuzzer's options: the shard count, the memlog fields,
    the clock, the sharder, retention by bytes and by age."""
    return (bytes([shards]) + bytes(start) + bytes(segment) + bytes(limit) +
            bytes([clock, sharder]) + bytes(byte_limit) + bytes(age))


def s_write(key, size_byte=5, salt=3):
    return bytes([S_WRITE, key, 3, size_byte, salt])


def s_shard(index):  # PickShard: an existing shard
    return bytes([2, index])


def record_sizes(sizes):
    """Batch record sizes as PickBatchRecordSize reads them (see batch()),
    each followed by its salt."""
    out = b''
    for i, size in enumerate(sizes):
        if size == 'empty':
            out += bytes([0, 0])
        elif size == 'big':  # assumes a limit under 4 KiB
            out += bytes([0, 2])
        elif isinstance(size, tuple):
            out += bytes([1, size[1]])
        else:
            out += bytes([2, size])
        out += bytes([i])  # salt
    return out


def s_batch(key, *sizes):
    """WriteBatch(key, records)."""
    return bytes([S_WRITE_BATCH, key, len(sizes)]) + record_sizes(sizes)


def s_keyed_batch(*records, offsets=None):
    """WriteBatch(records, offsets): (key, size) pairs; `offsets` +1 or -1
    gives the offsets span one entry too many or too few."""
    out = bytes([S_WRITE_BATCH_KEYED, len(records)])
    for i, (key, size) in enumerate(records):
        out += bytes([key]) + record_sizes([size])[:-1] + bytes([i])
    if offsets is None:
        return out + bytes([1])
    if not records:  # one too many: the only choice, not read
        return out + bytes([0])
    return out + bytes([0, 1 if offsets > 0 else 0])


def s_offset_at(key, mode, delta=1, extra=b''):
    """OffsetAt(key, t): mode as offset_at() (2: near a record of the key's
    shard, extra: an offset pick; 5: extra: 8 bytes of unix nanos)."""
    return bytes([S_OFFSET_AT, key, delta, mode]) + extra


def s_shard_offset_at(shard, mode, delta=1, extra=b''):
    return bytes([S_SHARD_OFFSET_AT]) + s_shard(shard) + bytes(
        [delta, mode]) + extra


def s_advance(unit, count):  # unit: 0 ns, 1 100us, 2 ms, 3 s
    return bytes([S_ADVANCE_CLOCK, unit, count])


def s_read_batch(key, pick, size):
    return bytes([S_READ_BATCH, key]) + pick + bytes([size])


def s_stats(*shards):
    out = bytes([S_STATS])
    for shard in shards:
        out += bytes([S_SHARD_STATS]) + s_shard(shard)
    return out


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

    # A 4 KiB share of max_total_bytes (3 shards: 6 shares), which the model
    # predicts exactly: records of 2 KiB and 4 KiB fill segments of key "a"
    # ("a", "b", "abc" on shard 1, "ab" on shard 0), then reads by key,
    # streams and counters after the purges by bytes.
    s = sharded_options(segment=(3, 200), limit=(1,),
                        byte_limit=s_share_4k(5))
    s += bytes([S_OPEN_STREAM, KEY_B]) + EARLIEST
    s += bytes([S_OPEN_STREAM, KEY_A]) + EARLIEST
    s += s_write(KEY_B) + s_batch(KEY_A, ('k', 3), ('k', 3), ('k', 7))
    s += s_write(KEY_AB) + s_batch(KEY_AB, ('k', 7), ('k', 7))
    s += s_stats(1) + bytes([S_RANGE, KEY_B, S_RANGE, KEY_A, S_MEMORY_USAGE])
    s += bytes([S_STREAM_STEP, 0, 0, S_STREAM_STEP, 1, 3])
    s += s_batch(KEY_A, ('k', 7), 5, ('k', 7), 5, ('k', 3))
    s += s_read_batch(KEY_A, EARLIEST, 7) + s_read_batch(KEY_B, EARLIEST, 2)
    s += bytes([S_READ, KEY_B]) + EARLIEST + bytes([S_RANGE, KEY_B])
    s += bytes([S_STREAM_STEP, 0, 0, S_STREAM_STEP, 1, 4, S_STREAM_STEP, 1, 0])
    s += bytes([S_WRITE, KEY_LONG, 3, 5, 1])  # 64 KiB: a segment of its own
    s += s_write(KEY_A) + s_stats(0, 1) + bytes([S_MEMORY_USAGE])
    s += bytes([S_RECREATE]) + sharded_options(
        segment=(3, 100), limit=(1,), byte_limit=S_SHARD_4K, sharder=HASH,
        shards=SHARDS_4)
    for key in (KEY_A, KEY_B, KEY_C, KEY_XYZ):
        s += s_batch(key, ('k', 5), ('k', 6), 9)
    s += s_stats(0, 1, 2, 3) + bytes([S_MEMORY_USAGE])
    seeds["bytes"] = s

    # A share the model cannot predict (4 KiB + 1 + 200 << 2): it follows
    # where the shards seal, within the rules, through ShardStats().
    s = sharded_options(segment=(3, 250), limit=(1,),
                        byte_limit=s_share_observed(200, 2))
    for i in range(6):
        s += s_batch(KEY_A, *([('k', i)] * 6))
        s += s_keyed_batch((KEY_B, ('k', 7)), (KEY_AB, ('k', i)),
                           (KEY_A, 9), (KEY_ABC, ('k', 2)))
        s += s_write(KEY_C, size_byte=i) + s_stats(1)
    s += bytes([S_OPEN_STREAM, KEY_C]) + EARLIEST + bytes([S_STREAM_STEP, 0, 4])
    s += s_read_batch(KEY_A, EARLIEST, 7) + bytes([S_RANGE, KEY_C])
    s += bytes([S_READ_BATCH_VIEW, KEY_ABC]) + EARLIEST + bytes([5])
    s += s_stats(0, 1) + bytes([S_MEMORY_USAGE])
    s += bytes([S_RECREATE]) + sharded_options(
        segment=(0,), limit=(1,), byte_limit=s_share_observed(0, 0))
    for i in range(4):  # 4 KiB + 1: the second chunk has one byte
        s += s_batch(KEY_A, ('k', 7), 1, 1, ('k', 1)) + s_write(KEY_B)
    s += s_stats(1) + s_read_batch(KEY_B, EARLIEST, 7)
    seeds["bytes_observed"] = s

    # Age with the driven clock: keys of both shards written over time;
    # Trim() and writes purge them; seeks by time by key and by shard; a
    # key's stream that lags; reads by key once a shard retains nothing.
    s = sharded_options(segment=(4, 3), clock=DRIVEN_CLOCK, age=age_ms(10))
    s += bytes([S_OPEN_STREAM, KEY_A]) + EARLIEST
    s += bytes([S_TRIM]) + s_offset_at(KEY_A, 0) + s_shard_offset_at(1, 1)
    for i in range(4):
        s += s_write(KEY_A, size_byte=i) + s_write(KEY_AB) + s_advance(2, 3)
        s += s_write(KEY_B) + s_batch(KEY_A, 1, 2) + s_advance(2, 1)
    s += s_offset_at(KEY_A, 0) + s_offset_at(KEY_A, 2, 0, EARLIEST)
    s += s_offset_at(KEY_B, 2, 2, LATEST) + s_offset_at(KEY_AB, 4)
    s += s_shard_offset_at(1, 2, 0, EARLIEST) + s_shard_offset_at(0, 0)
    s += s_advance(2, 8) + bytes([S_TRIM]) + s_stats(0, 1)
    s += s_offset_at(KEY_A, 0) + bytes([S_RANGE, KEY_A, S_RANGE, KEY_B])
    s += bytes([S_STREAM_STEP, 0, 0, S_STREAM_STEP, 0, 3])
    s += s_advance(2, 30) + bytes([S_TRIM]) + s_stats(0, 1)  # all purged
    s += s_read_batch(KEY_A, EARLIEST, 3) + s_read_batch(KEY_A, LATEST, 3)
    s += bytes([S_READ, KEY_A]) + LATEST + bytes([S_RANGE, KEY_A])
    s += s_offset_at(KEY_A, 0) + s_shard_offset_at(1, 0)
    s += bytes([S_STREAM_STEP, 0, 0]) + s_write(KEY_A)
    s += bytes([S_STREAM_STEP, 0, 0]) + s_stats(1)
    s += bytes([S_SET_CLOCK, 1, 5]) + s_write(KEY_A) + s_write(KEY_B)
    s += s_offset_at(KEY_A, 4, 0) + s_advance(3, 1) + s_batch(KEY_B, 3, 4)
    s += bytes([S_TRIM, S_MEMORY_USAGE]) + s_stats(0, 1)
    s += bytes([S_CLOSE, S_TRIM]) + s_stats(1)
    seeds["age"] = s

    # The age boundary, per key: the shards keep a record exactly max_age
    # old, and purge it one nanosecond later, with the key index.
    s = sharded_options(segment=(4, 0), clock=DRIVEN_CLOCK, age=age_ms(10))
    s += s_write(KEY_A) + s_write(KEY_B) + s_write(KEY_AB) + s_advance(2, 10)
    s += bytes([S_TRIM, S_RANGE, KEY_A, S_RANGE, KEY_B]) + s_stats(0, 1)
    s += s_write(KEY_A) + s_read_batch(KEY_B, EARLIEST, 2)
    s += s_advance(0, 1) + bytes([S_TRIM, S_RANGE, KEY_A, S_RANGE, KEY_B])
    s += s_read_batch(KEY_A, EARLIEST, 2) + s_stats(0, 1)
    s += s_advance(2, 10) + s_write(KEY_B) + s_advance(0, 1) + s_write(KEY_B)
    s += bytes([S_RANGE, KEY_A, S_RANGE, KEY_B]) + s_offset_at(KEY_B, 0)
    s += s_stats(0, 1)
    seeds["age_boundary"] = s

    # Batches: of one key (empty, bad record, bad key, a sharder's error,
    # spanning rotations), of many keys across shards (in order per key,
    # offsets one too many or too few, a bad record, a bad key), then near
    # kMaxOffset, where a share is cut short, and after Close().
    s = sharded_options(segment=(4, 2), limit=(4, 15))
    s += s_batch(KEY_A) + s_batch(KEY_A, 1, 2, 3, 4, 5) + s_batch(KEY_B, 9)
    s += s_batch(KEY_A, 1, 'empty') + s_batch(KEY_A, 'big', 1)
    s += s_batch(KEY_EMPTY, 1) + s_batch(KEY_TOO_LONG, 1)
    s += s_batch(KEY_QUESTION, 1, 2) + s_batch(KEY_HASH, 3)
    s += s_batch(KEY_BANG, 1) + s_batch(KEY_EMPTY)
    s += s_keyed_batch((KEY_A, 1), (KEY_AB, 2), (KEY_B, 3), (KEY_A, 4),
                       (KEY_ABC, 5), (KEY_AB, 6))
    s += s_keyed_batch((KEY_A, 1), (KEY_B, 2), offsets=+1)
    s += s_keyed_batch((KEY_A, 1), (KEY_B, 2), offsets=-1)
    s += s_keyed_batch(offsets=+1) + s_keyed_batch()
    s += s_keyed_batch((KEY_A, 1), (KEY_AB, 'empty'))
    s += s_keyed_batch((KEY_A, 1), (KEY_EMPTY, 1))
    s += s_keyed_batch((KEY_A, 1), (KEY_QUESTION, 1))
    s += s_keyed_batch((KEY_A, 1), (KEY_BANG, 1), (KEY_HASH, 1))
    s += s_read_batch(KEY_A, EARLIEST, 7) + s_read_batch(KEY_AB, EARLIEST, 7)
    s += s_stats(0, 1) + bytes([S_MEMORY_USAGE])
    s += bytes([S_CLOSE]) + s_batch(KEY_A, 1) + s_batch(KEY_A)
    s += s_keyed_batch((KEY_A, 1)) + s_keyed_batch() + s_stats(0, 1)
    s += bytes([S_RECREATE]) + sharded_options(start=(2, 3), segment=(4, 1))
    s += s_batch(KEY_A, 1, 2) + s_batch(KEY_A, 3, 4, 5)  # 2 of 3 fit
    s += s_keyed_batch((KEY_AB, 1), (KEY_B, 2), (KEY_AB, 3), (KEY_AB, 4),
                       (KEY_AB, 5), (KEY_B, 6))
    s += s_keyed_batch((KEY_B, 1), (KEY_AB, 2)) + s_stats(0, 1)
    s += bytes([S_RANGE, KEY_AB, S_RANGE, KEY_B])
    seeds["batches"] = s

    # Seeks by time with the stepping clock (one reading per write, none
    # during a multi-key batch): around each key's records, ties included.
    s = sharded_options(segment=(4, 2), clock=STEPPING_CLOCK)
    for key in (KEY_A, KEY_B, KEY_A, KEY_AB, KEY_A, KEY_B):
        s += s_write(key)
    s += s_keyed_batch((KEY_A, 1), (KEY_AB, 2), (KEY_B, 3))
    s += s_batch(KEY_B, 1, 2, 3) + s_write(KEY_A)
    for pick in (EARLIEST, LATEST, bytes([0, 0]), bytes([1, 6, 4])):
        for delta in range(3):
            s += s_offset_at(KEY_A, 2, delta, pick)
            s += s_offset_at(KEY_B, 2, delta, pick)
            s += s_shard_offset_at(1, 2, delta, pick)
    s += s_offset_at(KEY_AB, 0) + s_offset_at(KEY_C, 0) + s_offset_at(KEY_A, 1)
    s += s_offset_at(KEY_BANG, 0) + s_shard_offset_at(0, 5, 1, bytes(8))
    s += bytes([S_SHARD_OFFSET_AT, 0, 1, 0]) + s_stats(0, 1)
    seeds["time"] = s

    # Retention options that Create() refuses, each then a valid log.
    s = b''
    for i in range(6):
        s += sharded_options(byte_limit=(S_BAD_BYTE_LIMIT, i)) + bytes(
            [S_RECREATE])
        s += sharded_options(age=(BAD_AGE, i)) + bytes([S_RECREATE])
    s += sharded_options(byte_limit=(S_HUGE_BYTE_LIMIT, 0), age=(AGE_BOUND, 1))
    s += s_write(KEY_A) + s_write(KEY_LONG) + bytes([S_TRIM]) + s_stats(1)
    s += bytes([S_RECREATE]) + sharded_options(byte_limit=(S_HUGE_BYTE_LIMIT,
                                                           1))
    s += s_batch(KEY_A, 1, 2) + bytes([S_MEMORY_USAGE]) + s_stats(1)
    seeds["retention_options"] = s

    rng = random.Random(4)
    seeds["random"] = bytes(rng.randrange(256) for _ in range(512))
    rng = random.Random(5)
    seeds["random_retention"] = (
        sharded_options(segment=(4, 3), limit=(1,), clock=DRIVEN_CLOCK,
                        byte_limit=s_share_observed(9, 1), age=age_ms(5)) +
        bytes(rng.randrange(256) for _ in range(1024)))
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
