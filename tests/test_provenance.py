"""Provenance digests: every raw input hashed, each file read only when it changed."""

import hashlib
import os

from carbonbudget.core import io


def test_digests_are_cached_by_size_and_modification_time(tmp_path, monkeypatch):
    files = []
    for k in range(3):
        f = tmp_path / f"in_{k}.bin"
        f.write_bytes(bytes([k]) * (1000 + k))
        files.append(str(f))
    cache = str(tmp_path / "cache" / "digests.json")
    reads = []
    real = io.file_digest
    monkeypatch.setattr(io, "file_digest", lambda p: reads.append(p) or real(p))

    first = io.file_digests(files, cache)
    assert reads == files
    for f in files:
        data = open(f, "rb").read()
        assert first[f] == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}

    reads.clear()
    assert io.file_digests(files, cache) == first and reads == []  # nothing changed: no reads

    # same size, new content and time: read again; a new file too
    with open(files[1], "wb") as fh:
        fh.write(b"x" * 1001)
    os.utime(files[1], ns=(1, 2))
    extra = tmp_path / "in_new.bin"
    extra.write_bytes(b"new")
    third = io.file_digests([*files, str(extra)], cache)
    assert reads == [files[1], str(extra)]
    assert third[files[1]]["sha256"] == hashlib.sha256(b"x" * 1001).hexdigest()
    assert third[files[0]] == first[files[0]]


def test_an_unreadable_cache_means_hashing_again(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"abc")
    cache = tmp_path / "digests.json"
    cache.write_text("{not json")
    out = io.file_digests([str(f)], str(cache))
    assert out[str(f)]["sha256"] == hashlib.sha256(b"abc").hexdigest()


def test_a_large_input_is_digested_from_samples_unless_asked_for_the_whole(tmp_path, monkeypatch):
    """Above SAMPLED_ABOVE: the size and 16 blocks hashed (first, last, evenly spaced), said in
    the record; a changed header, a changed sampled block or a new size changes the digest;
    full hashes every byte; a cached sampled digest is not reused for a full one."""
    monkeypatch.setattr(io, "SAMPLED_ABOVE", 4096)
    monkeypatch.setattr(io, "DIGEST_BLOCK", 100)
    big = tmp_path / "big.tif"
    data = bytearray(os.urandom(10_000))
    big.write_bytes(data)
    out = io.file_digests([str(big)])[str(big)]
    assert set(out) == {"sha256_sampled", "bytes", "sampled"} and out["bytes"] == 10_000
    expected = hashlib.sha256(b"10000")
    offsets = sorted({round(9_900 * i / 15) for i in range(16)})
    for offset in offsets:
        expected.update(bytes(data[offset : offset + 100]))
    assert out["sha256_sampled"] == expected.hexdigest()
    for where in (0, 9_999, offsets[7] + 50):  # the header, the end, a block between
        changed = bytearray(data)
        changed[where] ^= 0xFF
        big.write_bytes(changed)
        assert io.sampled_digest(str(big)) != out["sha256_sampled"], where
    big.write_bytes(data + b"\0")  # a new size
    assert io.sampled_digest(str(big)) != out["sha256_sampled"]
    big.write_bytes(data)
    cache = str(tmp_path / "digests.json")
    io.file_digests([str(big)], cache)
    whole = io.file_digests([str(big)], cache, full=True)[str(big)]
    assert whole == {"sha256": hashlib.sha256(bytes(data)).hexdigest(), "bytes": 10_000}
